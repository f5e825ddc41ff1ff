"""Real OSC clients: Pure Data (vanilla [oscformat]/[oscparse], [netsend]/[netreceive]) and SuperCollider.

Each runs the example shipped in ``examples/`` against a server in this process,
headless, and the example itself checks the answers. A test skips when its
program is not installed (``apt-get install puredata-core``; SuperCollider's ``sclang``).
"""

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from mlpkit import osc

EXAMPLES = Path(__file__).parent.parent.parent / "examples"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_pure_data_creates_fits_until_the_error_drops_and_predicts():
    pd = shutil.which("pd")
    if pd is None:
        pytest.skip("Pure Data is not installed (apt-get install puredata-core)")
    reply_port = free_udp_port()
    with osc.serve(port=0, reply_port=reply_port, log=lambda line: None) as server:
        result = subprocess.run(
            [pd, "-nogui", "-nosound", "-nomidi", "-noprefs", "-stderr",
             "-send", f"mlpkit-ports {server.port} {reply_port}", "-open", str(EXAMPLES / "pd" / "mlpkit-osc-demo.pd")],
            capture_output=True, text=True, timeout=120,
        )
        model = server.models.get("demo")
    output = result.stdout + result.stderr
    assert "mlpkit-result: PASS" in output, output
    errors = [float(e) for e in re.findall(r"mlpkit-fit: ([-0-9.e]+)", output)]
    assert len(errors) >= 2 and errors[-1] < 0.001 <= errors[0], errors  # it fitted until the error dropped
    prediction = float(re.search(r"mlpkit-predict: ([-0-9.e]+)", output).group(1))
    assert model is not None and model.count == 20
    assert prediction == pytest.approx(model.predict([0.5])[0], abs=1e-6)


def test_supercollider_creates_fits_until_the_error_drops_and_predicts(tmp_path):
    sclang = shutil.which("sclang")
    if sclang is None:
        pytest.skip("SuperCollider's sclang is not installed")
    with osc.serve(port=0, log=lambda line: None) as server:  # replies to the sender: sclang's own port
        result = subprocess.run(
            [sclang, str(EXAMPLES / "supercollider" / "mlpkit-osc-demo.scd")],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
            env={**os.environ, "MLPKIT_PORT": str(server.port), "MLPKIT_EXIT": "1", "QT_QPA_PLATFORM": "offscreen",
                 "QTWEBENGINE_DISABLE_SANDBOX": "1"},  # (sclang starts Qt's web engine, which refuses root otherwise),
        )
        model = server.models.get("demo")
    output = result.stdout + result.stderr
    assert "mlpkit-result: PASS" in output, output[-3000:]
    errors = [float(e) for e in re.findall(r"mlpkit-fit: ([-0-9.e]+)", output)]
    assert len(errors) >= 2 and errors[-1] < 0.001 <= errors[0], errors
    prediction = float(re.search(r"mlpkit-predict: ([-0-9.e]+)", output).group(1))
    assert model is not None and model.count == 20
    assert prediction == pytest.approx(model.predict([0.5])[0], abs=1e-5)


def max_atom(token: str):
    """A Max message atom: an int, a float (``0.`` too) or a symbol."""
    for kind in (int, float):
        try:
            return kind(token)
        except ValueError:
            pass
    return token


def test_the_max_patch_sends_messages_the_server_understands(client):
    # No Max here: the patch's messages are sent as [udpsend] sends them (atoms as OSC i, f, s), in its order.
    patch = json.loads((EXAMPLES / "max" / "mlpkit-osc-demo.maxpat").read_text())
    texts = [b["box"].get("text", "") for b in patch["patcher"]["boxes"] if b["box"]["maxclass"] == "message"]
    sent = [m.strip().split() for text in texts for m in text.split(",") if m.strip().startswith("/mlp/")]
    assert [m[0] for m in sent] == ["/mlp/create"] + ["/mlp/set"] * 4 + ["/mlp/point"] * 5 + ["/mlp/fit"]
    for address, *args in sent:
        client.send(address, *map(max_atom, args))
    replies = [client.receive(timeout=60) for _ in sent]
    assert not [r for r in replies if r[0] == "/mlp/error"], replies
    assert replies[-1][0] == "/mlp/fit" and replies[-2] == ("/mlp/points", ["demo", 5])
    boxes = {b["box"]["id"]: b["box"] for b in patch["patcher"]["boxes"]}
    assert boxes["o-prepend"]["text"] == "prepend /mlp/predict demo"  # the slider's value follows
    assert client.ask("/mlp/predict", "demo", 0.5)[0] == "/mlp/predict"
