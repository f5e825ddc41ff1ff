"""``mlpkit serve``: a real process stopped by SIGTERM, its models autosaved and served again by the next server."""

import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from osc_helpers import add_points, as_sent, fit

from mlpkit import flucoma, io, osc
from mlpkit.cli import main
from mlpkit.cli import serve as serve_command
from mlpkit.osc.client import Client

RNG = np.random.default_rng(5)
X = RNG.uniform(-1, 1, (30, 2))
Y = X[:, :1] - X[:, 1:]


def start(*options):
    process = subprocess.Popen([sys.executable, "-m", "mlpkit.cli", "serve", "--port", "0", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"OSC on 127\.0\.0\.1 port (\d+)", line)
    if match is None:
        process.kill()
        pytest.fail(f"mlpkit serve did not start: {line!r} {process.stderr.read()}")
    return process, int(match.group(1))


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, err


def test_sigterm_stops_cleanly_and_autosave_keeps_everything_for_the_next_start(tmp_path):
    saved = tmp_path / "models"
    process, port = start("--autosave", str(saved))
    try:
        with Client(port=port) as client:
            client.ask("/mlp/create", "pad", "regressor", 3, reply="/mlp/created")
            for param, value in (("inputs", 2), ("seed", 0), ("maxIter", 20), ("validation", 0)):
                client.ask("/mlp/set", "pad", param, value)
            add_points(client, "pad", X[:20], Y[:20])
            fit(client, "pad")
            assert (saved / "pad.mlpkit").is_file() and (saved / "pad.json").is_file()  # after each fit
            add_points(client, "pad", X[20:], Y[20:], first=20)  # after the fit: saved on exit
            client.ask("/mlp/set", "pad", "learnRate", 0.25)
            prediction = client.ask("/mlp/predict", "pad", 0.5, 0.5)
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert "Traceback" not in err and f"saved 1 model(s) in {saved}" in err

    model = io.load(saved / "pad.mlpkit")  # the native file: parameters and the training state
    assert isinstance(model, flucoma.MLPRegressor) and model.learn_rate == 0.25
    flucoma_file = flucoma.MLPRegressor().read(saved / "pad.json")  # the FluCoMa file: what FluCoMa reads
    np.testing.assert_allclose(flucoma_file.predict_point(as_sent([0.5, 0.5])), prediction[1][1:], rtol=1e-5)
    points = flucoma.DataSet.read(saved / "pad.inputs.json")
    np.testing.assert_array_equal([points.get_point(f"p{i}") for i in range(len(X))], as_sent(X))  # (files sort ids)
    assert flucoma.DataSet.read(saved / "pad.targets.json").size == 30
    assert not list(saved.glob(".*tmp"))  # atomic writes leave no temporary file behind

    with osc.serve(port=0, autosave=saved, log=lambda line: None) as server, Client(port=server.port) as client:
        assert client.ask("/mlp/models") == ("/mlp/models", ["pad"])
        assert client.ask("/mlp/predict", "pad", 0.5, 0.5) == prediction
        assert client.ask("/mlp/fit", "pad", timeout=60)[0] == "/mlp/fit"  # the points came back too
        assert server.models["pad"].count == 30


def test_listening_beyond_this_machine_warns_that_osc_has_no_authentication(monkeypatch, capsys):
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(serve_command, "wait_until_interrupted", interrupt)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 130
    err = capsys.readouterr().err
    assert "OSC has no authentication" in err and "0.0.0.0" in err
    assert main(["serve", "--port", "0"]) == 130
    assert "authentication" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, words",
    [
        (["--port", "70000"], ["--port 70000", "1 to 65535"]),
        (["--port", "0", "--reply-port", "0"], ["--reply-port 0"]),
        (["--host", "no.such.host.invalid", "--port", "0"], ["cannot listen for OSC on no.such.host.invalid"]),
    ],
)
def test_bad_options_are_one_line_errors(options, words, capsys):
    assert main(["serve", *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mlpkit: error: "), err
    for word in words:
        assert word in err[0]


def test_a_taken_port_is_a_clear_error(server, capsys):
    assert main(["serve", "--port", str(server.port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen for OSC on 127.0.0.1 port {server.port}" in err and "pick another --port" in err


def test_a_damaged_autosave_file_is_named_before_any_port_is_taken(tmp_path, capsys):
    (tmp_path / "pad.mlpkit").write_bytes(b"not a model")
    assert main(["serve", "--port", "0", "--autosave", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mlpkit: error: " in err and str(tmp_path / "pad.mlpkit") in err
