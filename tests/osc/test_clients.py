"""Real OSC clients: Pure Data (vanilla [oscformat]/[oscparse], [netsend]/[netreceive]) and SuperCollider.

Each runs the example shipped in ``examples/`` against a server in this process,
headless, and the example itself checks the answers. A test skips when its
program is not installed (``apt-get install puredata-core``; SuperCollider's ``sclang``).
"""

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
