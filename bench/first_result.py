"""First result: what a scikit-learn user waits for, end to end, with mlpkit's estimators instead.

Each row is a script of typical small scikit-learn MLP work, run as a whole new Python process
(``python -c SOURCE``, the interpreter's start, the imports, the data loading and every fit
included). The source is the same for both libraries except for one line: the import of the
estimators, from ``sklearn.neural_network`` or from ``mlpkit``. Three columns per script:

- scikit-learn;
- mlpkit cold, a "fresh install": ``MLPKIT_COMPILATION_CACHE`` and ``NUMBA_CACHE_DIR`` point at new,
  empty temporary directories for every run, so every program is compiled again;
- mlpkit warm: both point at one temporary directory kept for the whole benchmark run, filled by one
  untimed warm-up run of each script before the timed rounds (scikit-learn's script is run once
  untimed too, so the operating system's file cache is warm for every column alike).

The columns and the scripts take turns, round after round, so that a busy moment of the machine
lands on every cell alike. Reported per cell: the minimum and the median over the rounds, in
seconds; the ratios mlpkit / scikit-learn of the medians; a "whole script" total row (the sum over
the scripts of each round, then its minimum and median); and the load average at the start and end.

Inside each process, every ``fit`` of the script's estimator classes is timed with
``time.perf_counter`` (the same wrapper around ``fit`` for both libraries, so fits inside a
``Pipeline`` or ``GridSearchCV`` count too); the script prints them as a JSON line. Per fit, the
median over the rounds of mlpkit's time less scikit-learn's is its excess; the table gives each
script's largest (the issue's target: no fit of 2,000 rows or fewer more than 0.3 s slower than
scikit-learn's, cold). Warnings, ConvergenceWarning among them, are silenced in the scripts, as
scikit-learn's gallery does. A script that exits with an error stops the benchmark with its stderr;
one that runs past ``--timeout`` is recorded as timed out (and not run again in that column; a
warm-up that times out marks its column so). ``JAX_COMPILATION_CACHE_DIR`` is taken out of the
scripts' environment: a JAX cache the user configured would win over mlpkit's and warm the cold column.
So is ``PYTHONDONTWRITEBYTECODE``: pip compiles an installed package's bytecode at install, so neither
library should compile its Python sources at every start (an editable checkout, without it, would pay
about 30 ms a process that no installed mlpkit pays; the warm-up runs write the bytecode).

    python bench/first_result.py                                   # 5 rounds, all scripts but check_estimator
    python bench/first_result.py --rounds 1 --scripts iris,digits  # a quick look
    python bench/first_result.py --with-check-estimator --timeout 900 --out first_result.md

Targets (totals): mlpkit cold <= 1.0x scikit-learn, warm <= 0.7x.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from textwrap import dedent

TARGET_COLD, TARGET_WARM = 1.0, 0.7  # mlpkit / scikit-learn, whole-script totals (medians)
TARGET_FIT_EXCESS, TARGET_FIT_ROWS = 0.3, 2000  # seconds a fit may lose, cold, on this many rows or fewer

# Put before every script: warnings off, and a timer around each fit of the estimator classes.
PREAMBLE = """
import functools, json, time, warnings
warnings.simplefilter("ignore")  # ConvergenceWarning among them: output noise does not matter here
_FITS, _INSIDE = [], []


def _time_fits(cls):
    fit = cls.fit

    @functools.wraps(fit)
    def timed_fit(self, X, *args, **kwargs):
        if _INSIDE:  # a fit called by a fit is part of the outer one
            return fit(self, X, *args, **kwargs)
        _INSIDE.append(True)
        started = time.perf_counter()
        try:
            result = fit(self, X, *args, **kwargs)
        finally:
            _INSIDE.pop()
        _FITS.append([getattr(X, "shape", [len(X)])[0], time.perf_counter() - started])
        return result

    cls.fit = timed_fit
"""

EPILOGUE = '\nprint("FIT_SECONDS " + json.dumps(_FITS))\n'
FIT_MARKER = "FIT_SECONDS "

IMPORTS = {
    "sklearn": "from sklearn.neural_network import {names}",
    "mlpkit": "from mlpkit import {names}",
}


@dataclass(frozen=True)
class Script:
    estimators: tuple[str, ...]  # the names imported from the library under test
    body: str
    time_fits: bool = True  # wrap the estimators' fit with a timer (not for check_estimator)


SCRIPTS = {
    "iris": Script(
        ("MLPClassifier",),
        """
        from sklearn.datasets import load_iris

        X, y = load_iris(return_X_y=True)
        clf = MLPClassifier(max_iter=300, random_state=0).fit(X, y)
        print("iris", clf.score(X, y))
        """,
    ),
    "widths_solvers": Script(
        ("MLPClassifier",),
        """
        from sklearn.datasets import load_breast_cancer, load_iris, load_wine
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        adaptive = {"solver": "sgd", "learning_rate": "adaptive"}
        configs = [
            (load_iris, {"hidden_layer_sizes": (10,), "activation": "relu"}),
            (load_iris, {"hidden_layer_sizes": (50,), "solver": "lbfgs", "activation": "tanh"}),
            (load_iris, {"hidden_layer_sizes": (20, 20), **adaptive, "activation": "logistic"}),
            (load_wine, {"hidden_layer_sizes": (100,), "activation": "tanh"}),
            (load_wine, {"hidden_layer_sizes": (10,), "solver": "lbfgs", "activation": "logistic"}),
            (load_wine, {"hidden_layer_sizes": (50,), **adaptive, "activation": "relu"}),
            (load_breast_cancer, {"hidden_layer_sizes": (100,), "early_stopping": True}),
            (load_breast_cancer, {"hidden_layer_sizes": (20, 20), "solver": "lbfgs"}),
            (load_breast_cancer, {"hidden_layer_sizes": (50,), **adaptive, "activation": "tanh"}),
        ]
        for load, params in configs:
            X, y = load(return_X_y=True)
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
            scaler = StandardScaler().fit(X_train)
            clf = MLPClassifier(random_state=0, **params).fit(scaler.transform(X_train), y_train)
            print(load.__name__, params, clf.score(scaler.transform(X_test), y_test))
        """,
    ),
    "digits": Script(
        ("MLPClassifier",),
        """
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        clf = MLPClassifier(hidden_layer_sizes=(100,), max_iter=200, random_state=0).fit(X_train, y_train)
        print("digits", clf.score(X_test, y_test))
        """,
    ),
    "regression": Script(
        ("MLPRegressor",),
        """
        from sklearn.datasets import load_diabetes
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = load_diabetes(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        for hidden in [(50,), (100, 50)]:
            mlp = MLPRegressor(hidden_layer_sizes=hidden, max_iter=500, random_state=0)
            model = make_pipeline(StandardScaler(), mlp)
            model.fit(X_train, y_train)
            print("diabetes", hidden, model.score(X_test, y_test))
        """,
    ),
    "make_data_5000": Script(
        ("MLPClassifier",),
        """
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split

        X, y = make_classification(n_samples=5000, n_features=20, random_state=0)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, early_stopping=True, random_state=0)
        clf.fit(X_train, y_train)
        print("make_classification", clf.score(X_test, y_test))
        """,
    ),
    "gridsearch": Script(
        ("MLPClassifier",),
        """
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = load_breast_cancer(return_X_y=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(max_iter=200, random_state=0))])
        grid = {"mlp__hidden_layer_sizes": [(10,), (50,)], "mlp__alpha": [1e-4, 1e-2]}
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
        print("gridsearch", search.best_params_, search.best_score_)
        """,
    ),
    "check_estimator": Script(
        ("MLPClassifier",),
        """
        from sklearn.utils.estimator_checks import check_estimator

        check_estimator(MLPClassifier())
        print("check_estimator passed")
        """,
        time_fits=False,
    ),
}
OPTIONAL = {"check_estimator"}  # slow: only with --with-check-estimator (or named in --scripts)

COLUMNS = ("sklearn", "cold", "warm")
HEADER = (
    "| script | scikit-learn s | mlpkit cold s | mlpkit warm s | cold / sklearn | warm / sklearn | fits"
    " | slowest fit's excess, cold (s) | slowest fit's excess, warm (s) |"
)
HEADINGS = {"sklearn": "scikit-learn", "cold": "mlpkit cold", "warm": "mlpkit warm"}


def source(script: Script, library: str) -> str:
    """The script's Python source for one library: only the import line differs."""
    names = ", ".join(script.estimators)
    lines = [PREAMBLE, IMPORTS[library].format(names=names)]
    if script.time_fits:
        lines += [f"_time_fits({name})" for name in script.estimators]
    return "\n".join(lines) + "\n" + dedent(script.body) + EPILOGUE


@dataclass
class Cell:
    """The runs of one script in one column."""

    seconds: list[float] = field(default_factory=list)  # whole process, per round
    fits: list[list[list[float]]] = field(default_factory=list)  # per round: [rows, seconds] per fit
    timed_out: bool = False
    in_warm_up: bool = False  # it was the untimed warm-up run that timed out


class Runner:
    """Runs a script as a new process in one of the columns' environments."""

    def __init__(self, timeout: float, warm_cache: Path):
        self.timeout = timeout
        self.warm_cache = warm_cache
        # a JAX cache the user configured would win over mlpkit's: left out, so "cold" is cold; and the
        # bytecode an installed package has (pip compiles it) is written, not compiled at every start
        left_out = ("JAX_COMPILATION_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")
        self.base = {k: v for k, v in os.environ.items() if k not in left_out}

    def run(self, name: str, column: str, cell: Cell) -> None:
        """One timed run; appended to ``cell``, or ``cell`` marked as timed out."""
        library = "sklearn" if column == "sklearn" else "mlpkit"
        argv = [sys.executable, "-c", source(SCRIPTS[name], library)]
        with tempfile.TemporaryDirectory(prefix="mlpkit-first-result-cold-") as fresh:
            cache = {"sklearn": None, "cold": Path(fresh), "warm": self.warm_cache}[column]
            env = self.base if cache is None else self.environment(cache)
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    argv, check=False, capture_output=True, text=True, env=env, timeout=self.timeout
                )
            except subprocess.TimeoutExpired:
                cell.timed_out = True
                return
            seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{name} ({HEADINGS[column]}) failed with exit code {done.returncode}:\n{done.stderr}")
        cell.seconds.append(seconds)
        cell.fits.append(fit_seconds(done.stdout))

    def environment(self, cache: Path) -> dict:
        (cache / "numba").mkdir(exist_ok=True)
        return {
            **self.base,
            "MLPKIT_COMPILATION_CACHE": str(cache / "jax"),
            "NUMBA_CACHE_DIR": str(cache / "numba"),
        }


def fit_seconds(stdout: str) -> list[list[float]]:
    lines = [line for line in stdout.splitlines() if line.startswith(FIT_MARKER)]
    return json.loads(lines[-1][len(FIT_MARKER) :]) if lines else []


def measure(names: list[str], rounds: int, runner: Runner) -> dict[str, dict[str, Cell]]:
    """A warm-up run of each script (scikit-learn and mlpkit warm, untimed), then the timed rounds."""
    cells = {name: {column: Cell() for column in COLUMNS} for name in names}
    for name in names:
        progress(f"warm-up: {name}")
        for column in ("sklearn", "warm"):
            warm_up = Cell()
            runner.run(name, column, warm_up)
            cells[name][column].timed_out = cells[name][column].in_warm_up = warm_up.timed_out
    for round_number in range(1, rounds + 1):
        for name in names:
            progress(f"round {round_number}/{rounds}: {name}")
            for column in COLUMNS:
                if not cells[name][column].timed_out:
                    runner.run(name, column, cells[name][column])
    return cells


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def complete(row: dict[str, Cell]) -> bool:
    return not any(cell.timed_out for cell in row.values())


def fit_excess(sklearn: Cell, mlpkit: Cell, max_rows: float = float("inf")) -> tuple[float, int, int] | None:
    """The largest excess of a fit (median over rounds, mlpkit less scikit-learn): (seconds, index, rows)."""
    if not sklearn.fits or not mlpkit.fits or len(sklearn.fits[0]) != len(mlpkit.fits[0]):
        return None
    excess = []
    for index, (rows, _) in enumerate(sklearn.fits[0]):
        if rows <= max_rows:
            ours = statistics.median(run[index][1] for run in mlpkit.fits)
            theirs = statistics.median(run[index][1] for run in sklearn.fits)
            excess.append((ours - theirs, index + 1, int(rows)))
    return max(excess, default=None)


def seconds_cell(cell: Cell, timeout: float) -> str:
    if cell.timed_out:
        return f"timed out after {timeout:g} s" + (" (warm-up)" if cell.in_warm_up else "")
    if not cell.seconds:
        return "—"
    return f"{min(cell.seconds):.2f} / {statistics.median(cell.seconds):.2f}"


def median_ratio(ours: Cell, theirs: Cell) -> float | None:
    if ours.timed_out or theirs.timed_out or not ours.seconds or not theirs.seconds:
        return None
    return statistics.median(ours.seconds) / statistics.median(theirs.seconds)


def ratio(ours: Cell, theirs: Cell) -> str:
    value = median_ratio(ours, theirs)
    return "—" if value is None else f"{value:.2f}x"


def excess_cell(row: dict[str, Cell], column: str) -> str:
    if row[column].timed_out or row["sklearn"].timed_out:
        return "—"
    found = fit_excess(row["sklearn"], row[column])
    if found is None:
        return "—"
    seconds, index, rows = found
    return f"{seconds:+.2f} (fit {index}, {rows} rows)"


def script_row(name: str, row: dict[str, Cell], timeout: float) -> str:
    fits = len(row["sklearn"].fits[0]) if row["sklearn"].fits else 0
    cells = [
        name,
        *(seconds_cell(row[column], timeout) for column in COLUMNS),
        ratio(row["cold"], row["sklearn"]),
        ratio(row["warm"], row["sklearn"]),
        str(fits) if SCRIPTS[name].time_fits else "—",
        excess_cell(row, "cold"),
        excess_cell(row, "warm"),
    ]
    return "| " + " | ".join(cells) + " |"


def totals(cells: dict[str, dict[str, Cell]]) -> dict[str, Cell]:
    """Per column, the sum over the complete scripts of each round, and the largest small-fit excess."""
    rows = [row for row in cells.values() if complete(row)]
    total = {column: Cell() for column in COLUMNS}
    for column in COLUMNS:
        total[column].seconds = [sum(values) for values in zip(*(row[column].seconds for row in rows))]
    return total


def small_fit_excess(cells: dict[str, dict[str, Cell]], column: str) -> tuple[float, str] | None:
    """The largest excess over all fits of TARGET_FIT_ROWS rows or fewer: (seconds, where)."""
    found = []
    for name, row in cells.items():
        if complete(row):
            excess = fit_excess(row["sklearn"], row[column], TARGET_FIT_ROWS)
            if excess is not None:
                found.append((excess[0], f"{name} fit {excess[1]}, {excess[2]} rows"))
    return max(found, default=None)


def total_row(cells: dict[str, dict[str, Cell]], timeout: float) -> str:
    total = totals(cells)
    small = {column: small_fit_excess(cells, column) for column in ("cold", "warm")}
    counted = sum(complete(row) for row in cells.values())
    values = [
        f"whole script (total of {counted})",
        *(seconds_cell(total[column], timeout) for column in COLUMNS),
        ratio(total["cold"], total["sklearn"]),
        ratio(total["warm"], total["sklearn"]),
        "",
        *(f"{small[c][0]:+.2f} ({small[c][1]})" if small[c] else "—" for c in ("cold", "warm")),
    ]
    return "| " + " | ".join(f"**{value}**" if value else "" for value in values) + " |"


def report(cells: dict[str, dict[str, Cell]], args: argparse.Namespace, loads: tuple[float, float]) -> str:
    lines = [
        *machine(args, loads),
        "",
        (
            "Seconds per whole script (a new Python process), min / median over the rounds; ratios of the"
            " medians. A fit's excess: the median over the rounds of mlpkit's fit less scikit-learn's; per"
            f" script its largest, in the total row the largest of the fits of ≤ {TARGET_FIT_ROWS:,} rows."
        ),
        "",
        HEADER,
        "|---|---|---|---|---|---|---|---|---|",
        *(script_row(name, row, args.timeout) for name, row in cells.items()),
        total_row(cells, args.timeout),
        "",
        *targets(cells),
    ]
    left_out = [name for name, row in cells.items() if not complete(row)]
    if left_out:
        lines.append(f"- left out of the total (timed out in a column): {', '.join(left_out)}")
    return "\n".join(lines)


def targets(cells: dict[str, dict[str, Cell]]) -> list[str]:
    total = totals(cells)
    lines = []
    for column, target in (("cold", TARGET_COLD), ("warm", TARGET_WARM)):
        value = median_ratio(total[column], total["sklearn"])
        if value is not None:
            name = HEADINGS[column]
            lines.append(
                f"- target, total {name} ≤ {target}x scikit-learn: {value:.2f}x, {met(value <= target)}"
            )
    small = small_fit_excess(cells, "cold")
    if small is not None:
        excess, where = small
        lines.append(
            f"- target, no fit of ≤ {TARGET_FIT_ROWS:,} rows more than {TARGET_FIT_EXCESS} s slower than"
            f" scikit-learn's, cold: slowest {excess:+.2f} s ({where}), {met(excess <= TARGET_FIT_EXCESS)}"
        )
    return lines


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def machine(args: argparse.Namespace, loads: tuple[float, float]) -> list[str]:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    spec = util.find_spec("mlpkit")
    versions = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scikit-learn", "jax", "jaxlib", "mlpkit"))
    return [
        f"`{' '.join(['python', *sys.argv])}`",
        "",
        (
            f"- {time.strftime('%Y-%m-%d %H:%M')}; {platform.platform()}; {os.cpu_count()} CPUs;"
            f" Python {platform.python_version()}; {versions}"
        ),
        f"- mlpkit from {Path(spec.origin).parent if spec and spec.origin else 'nowhere'}",
        (
            f"- rounds: {args.rounds}; per-script timeout {args.timeout:g} s;"
            f" load average {loads[0]:.2f} at the start, {loads[1]:.2f} at the end"
        ),
    ]


def chosen_scripts(args: argparse.Namespace) -> list[str]:
    if args.scripts:
        names = [name.strip() for name in args.scripts.split(",") if name.strip()]
        unknown = [name for name in names if name not in SCRIPTS]
        if unknown:
            sys.exit(f"unknown scripts {unknown}; choose from {', '.join(SCRIPTS)}")
    else:
        names = [name for name in SCRIPTS if name not in OPTIONAL]
    if args.with_check_estimator and "check_estimator" not in names:
        names.append("check_estimator")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scripts", help=f"comma-separated, from: {', '.join(SCRIPTS)}")
    parser.add_argument("--with-check-estimator", action="store_true", help="add check_estimator (slow)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a script may run (default 600)")
    parser.add_argument("--out", help="also write the markdown table and the machine description here")
    args = parser.parse_args()
    names = chosen_scripts(args)
    with tempfile.TemporaryDirectory(prefix="mlpkit-first-result-warm-") as warm:
        load_before = os.getloadavg()
        cells = measure(names, args.rounds, Runner(args.timeout, Path(warm)))
        load_after = os.getloadavg()
    text = report(cells, args, (load_before[0], load_after[0]))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
