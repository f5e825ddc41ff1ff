"""The real entry points in a fresh process: ``python -m mlpkit.cli`` and the installed ``mlpkit`` script."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import QUICK

import mlpkit


def run(*argv, **kwargs):
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, env=env, check=False, **kwargs)


def test_python_m_mlpkit_cli_fits_and_reports_errors_in_one_line(data_dir, tmp_path):
    out = tmp_path / "m.npz"
    done = run(sys.executable, "-m", "mlpkit.cli", "fit", data_dir / "iris.csv", "--target", "species", "--out", out, *QUICK)
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout and mlpkit.load(out).n_features_in_ == 4
    failed = run(sys.executable, "-m", "mlpkit.cli", "predict", out, data_dir / "nowhere.csv")
    expected = (
        f"mlpkit: error: {data_dir / 'nowhere.csv'} does not exist; give the path of a data file"
        " (.csv, .json, .npy, .npz, .parquet, .pq, .tsv, .txt)"
    )
    assert failed.returncode == 2 and failed.stderr.strip().splitlines() == [expected]


def test_the_installed_mlpkit_script():
    script = Path(sys.executable).with_name("mlpkit")
    script = script if script.exists() else shutil.which("mlpkit")
    if script is None:
        pytest.skip("the mlpkit script is not installed in this environment (pip install -e . installs it)")
    done = run(script, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"mlpkit {mlpkit.__version__}"


def test_a_bare_mlpkit_in_a_fresh_process_prints_the_help():
    done = run(sys.executable, "-m", "mlpkit.cli")
    assert done.returncode == 0 and done.stdout.startswith("usage: mlpkit") and done.stderr == ""
