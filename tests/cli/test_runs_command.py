"""``mlpkit runs DIR``: serves the runs page, prints its address, and stops on Ctrl-C with exit code 130."""

import json
import urllib.request

import pytest

from mlpkit.cli import runs as runs_command
from mlpkit.experiments import RunStore


@pytest.fixture
def runs_dir(tmp_path):
    """A runs directory with one finished run of sweep "lr"; (directory, run id)."""
    store = RunStore(tmp_path)
    run_id = store.start_run("MLPClassifier", {"learning_rate_init": 0.01}, sweep="lr", trial=0)
    store.finish_run(run_id, {"accuracy": 0.9})
    return tmp_path, run_id


@pytest.fixture
def ctrl_c(monkeypatch, capsys):
    """Instead of waiting for Ctrl-C: read the printed address, load the page and the runs, then press Ctrl-C.

    The answers (the address, the page's text, the runs JSON) are in the returned list; the output read
    stays in ``printed``.
    """
    answers, printed = [], []

    def look_then_interrupt():
        out = capsys.readouterr()
        printed.append(out)
        url = out.out.split("mlpkit runs: ", 1)[1].strip()
        with urllib.request.urlopen(url, timeout=5) as page, \
                urllib.request.urlopen(url.partition("?")[0] + "api/runs", timeout=5) as runs:
            answers.append((url, page.read().decode(), json.loads(runs.read())))
        raise KeyboardInterrupt

    monkeypatch.setattr(runs_command, "wait_until_interrupted", look_then_interrupt)
    return answers, printed


def test_runs_prints_the_address_serves_and_exits_130_on_ctrl_c(mlpkit_cli, runs_dir, ctrl_c):
    directory, run_id = runs_dir
    answers, printed = ctrl_c
    result = mlpkit_cli("runs", directory, "--sweep", "lr")
    assert result.code == 130 and "mlpkit: interrupted" in result.err
    (url, page, table), = answers
    assert url.startswith("http://127.0.0.1:") and url.endswith("/?sweep=lr")  # the page opens on the sweep
    assert "<title>mlpkit runs</title>" in page and [row["id"] for row in table["runs"]] == [run_id]
    assert "serving the runs page until Ctrl-C" in printed[0].err and "no sweep" not in printed[0].err
    with pytest.raises(OSError):  # closed on the way out
        urllib.request.urlopen(url, timeout=2)


def test_a_sweep_not_there_yet_is_a_note_and_the_page_serves_anyway(mlpkit_cli, runs_dir, ctrl_c):
    directory, _ = runs_dir
    answers, printed = ctrl_c
    assert mlpkit_cli("runs", directory, "--sweep", "later").code == 130
    assert "no sweep 'later' in" in printed[0].err and "its sweeps: lr" in printed[0].err
    assert answers[0][0].endswith("?sweep=later")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["runs", "{missing}"], "no runs directory"),
        (["runs", "{dir}", "--port", "70000"], "--port 70000: give a port from 1 to 65535, or 0 for a free one"),
        (["runs", "{dir}", "--port", "x"], "argument --port: invalid int value: 'x'"),
    ],
)
def test_bad_arguments_end_with_one_error_line(mlpkit_cli, tmp_path, argv, message):
    argv = [a.format(missing=tmp_path / "missing", dir=tmp_path) for a in argv]
    result = mlpkit_cli(*argv)
    assert result.code == 2 and len(result.error_lines) == 1 and message in result.error_lines[0], result
