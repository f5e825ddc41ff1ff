"""Whole-process start-up: how long a command takes before (and including) its first work.

Each row is one command run as a new process, as a user types it; the rows take turns, round after
round, so that a busy moment of the machine lands on every row alike. Reported: the minimum and the
median over the rounds, in seconds, and the load average when the run began and ended.

    python bench/start_up.py                 # 15 rounds
    python bench/start_up.py --rounds 30 --out start_up.md

Peers are in the same run: scikit-learn's import of its MLP (what a scikit-learn user pays before
any fit), ``pip --version`` and ``git --version`` (commands that answer at once).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris


def commands(work: Path) -> dict[str, list[str]]:
    """Row name -> the command line it times. ``work`` holds a small data file and a fitted model."""
    python = sys.executable
    mlpkit = [python, "-m", "mlpkit.cli"]
    data, model = str(work / "iris36.csv"), str(work / "iris.mlpkit")
    rows = {
        "mlpkit --version": [*mlpkit, "--version"],
        "mlpkit (bare: the help)": mlpkit,
        "mlpkit fit --help": [*mlpkit, "fit", "--help"],
        "mlpkit fit (argument error)": [*mlpkit, "fit", data],
        "mlpkit evaluate MODEL DATA (36 rows)": [*mlpkit, "evaluate", model, data, "--target", "species"],
        "mlpkit predict MODEL DATA (36 rows)": [*mlpkit, "predict", model, data, "--out", str(work / "out.csv")],
        "python -c 'import mlpkit'": [python, "-c", "import mlpkit"],
        "python -c 'from mlpkit import MLPClassifier'": [python, "-c", "from mlpkit import MLPClassifier"],
        "python -c 'from sklearn.neural_network import MLPClassifier'":
            [python, "-c", "from sklearn.neural_network import MLPClassifier"],
        "python -c 'pass' (the interpreter alone)": [python, "-c", "pass"],
        "pip --version": [python, "-m", "pip", "--version"],
    }
    if shutil.which("git"):
        rows["git --version"] = ["git", "--version"]
    return rows


def prepare(work: Path) -> None:
    """A 36-row CSV of iris and a model fitted on all of iris (quickly: a few epochs)."""
    X, y = load_iris(return_X_y=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    rows = [",".join(names + ["species"])]
    rows += [",".join(f"{v:g}" for v in x) + f",{label}" for x, label in zip(X, y)]
    (work / "iris.csv").write_text("\n".join(rows) + "\n")
    keep = np.random.default_rng(0).choice(len(X), 36, replace=False)
    (work / "iris36.csv").write_text("\n".join([rows[0]] + [rows[i + 1] for i in sorted(keep)]) + "\n")
    subprocess.run([sys.executable, "-m", "mlpkit.cli", "fit", str(work / "iris.csv"), "--target", "species",
                    "--set", "max_iter=5", "--out", str(work / "iris.mlpkit"), "--no-progress"],
                   check=True, capture_output=True, env=environment())


def environment() -> dict:
    # the user's compilation cache is left alone: a private one, warmed by prepare()
    return {**os.environ, "MLPKIT_COMPILATION_CACHE": os.environ.get("MLPKIT_COMPILATION_CACHE", str(CACHE))}


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=environment(), check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", help="also write the markdown table here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlpkit-startup-") as folder:
        work = Path(folder)
        prepare(work)
        rows = commands(work)
        load_before = os.getloadavg()
        seconds = {name: [] for name in rows}
        for _ in range(args.rounds):
            for name, argv in rows.items():
                seconds[name].append(timed(argv))
        load_after = os.getloadavg()
    lines = [
        f"`{' '.join(['python', *sys.argv])}` on {platform.node()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}; load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end",
        "",
        "| command (a new process) | min s | median s |",
        "|---|---|---|",
        *(f"| {name} | {min(s):.3f} | {statistics.median(s):.3f} |" for name, s in seconds.items()),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


CACHE = Path(tempfile.gettempdir()) / "mlpkit-startup-cache"

if __name__ == "__main__":
    main()
