"""The ``mlpkit`` command run in-process, for the data preparation's tests."""

from __future__ import annotations

import pytest

from mlpkit.cli import main


@pytest.fixture
def run_cli(capsys):
    """``run_cli("fit", ...)`` -> (exit code, stdout, stderr) of ``mlpkit.cli.main`` in this process."""

    def run(*argv):
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
