"""Data preparation choices (issue 28), measured: what sits between a mixed table and mlpkit's MLP.

Three preparations in front of the same network (mlpkit's MLPClassifier/MLPRegressor, hidden (32,),
early_stopping=True, max_iter=300, random_state=seed; regression targets standardised with
TransformedTargetRegressor(StandardScaler), identically for all three):

- ``Preparation``: ``mlpkit.Preparation()`` with its defaults. Numbers and date parts scaled, the
  one-hot and missing-value indicator columns left 0/1, identifier-like columns left out, levels with
  fewer than 5 training rows grouped as ``other``.
- ``Preparation, 0/1 standardised``: the same, then a StandardScaler over the 0/1 columns too (and only
  those, so the one thing that differs from the first is whether the 0/1 columns are standardised).
- ``skrub TableVectorizer``: ``skrub.TableVectorizer()`` + ``SimpleImputer()`` + ``StandardScaler()``,
  as a user would build it from skrub's documentation (TableVectorizer keeps gaps as NaN, and neither it
  nor the network takes them, hence the imputer; the scaler because a network wants inputs of unit size).
  Skipped, with a message, when skrub is not installed (``pip install -e '.[bench]'``).

Tables:

- synthetic, made here for each seed: 1500 rows; three numbers of very different scales (about 1, 10
  and 100 around 0, 50 and 1000) with 5 % gaps each; a 12-level category whose rarest levels have a few
  rows; a yes/no column (10 % yes); an identifier text (one distinct value per row, no signal); a date
  column as ISO text (one day per row, no signal). The target is a noisy sum of the numbers (one of them
  squared), the level's effect and the yes/no; classification thresholds it at its median. 30 % held out.
- real (``--real``, default cars,titanic,wage): tables of bench/real_tables.py, loaded with its loaders
  (its packages: the ``bench`` extra), the table as loaded less its target (identifier and date columns
  left in, as a user hands them over), rows without a target dropped, 25 % held out (stratified for
  classification), a different split per seed.

Reported per table, task and preparation: held-out score (accuracy or R^2) mean and min over the seeds,
the preparation's output columns (mean), the median seconds of the whole pipeline's fit (preparation
and network; JAX's compilation left out: the first time a width is met, the network is fitted once
untimed before) and the median seconds of the preparation's own fit_transform; then, seed by seed, how
often Preparation scores above, equal to and below each other choice.

Usage::

    pip install -e '.[bench]'                       # skrub, and the real tables' packages
    python bench/preparation_choices.py      # 6 seeds, synthetic + cars,titanic,wage (1-2 min on 2 cores)
    python bench/preparation_choices.py --seeds 3 --real none --out /tmp/prep.md
    python bench/preparation_choices.py --runs /tmp/prep_runs.csv   # also every fit's score, seed by seed
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpkit import MLPClassifier, MLPRegressor, Preparation

PREPARATION = "Preparation"
ZERO_ONE_STANDARDISED = "Preparation, 0/1 standardised"
TABLE_VECTORIZER = "skrub TableVectorizer"
CHOICES = [PREPARATION, ZERO_ONE_STANDARDISED, TABLE_VECTORIZER]
DEFAULT_REAL = "cars,titanic,wage"


# ---------------------------------------------------------------------------------------------
# The preparations
# ---------------------------------------------------------------------------------------------

class ZeroOneStandardised(TransformerMixin, BaseEstimator):
    """``Preparation()``, then a StandardScaler over its 0/1 outputs (one-hot levels, missing-value
    indicators); its scaled outputs (numbers, date parts) are left as Preparation scaled them."""

    def fit(self, X, y=None):
        self.preparation_ = Preparation().fit(X)
        measured = {name for column in self.preparation_.columns_ for name in column.scaled_outputs()}
        names = list(self.preparation_.get_feature_names_out())
        self.zero_one_ = [i for i, name in enumerate(names) if name not in measured]
        encoded = self.preparation_.transform(X)
        self.scaler_ = StandardScaler().fit(encoded[:, self.zero_one_]) if self.zero_one_ else None
        return self

    def transform(self, X):
        encoded = self.preparation_.transform(X)
        if self.scaler_ is not None:
            encoded[:, self.zero_one_] = self.scaler_.transform(encoded[:, self.zero_one_])
        return encoded


def skrub_available() -> bool:
    try:
        import skrub  # noqa: F401
    except ImportError:
        return False
    return True


def preparation_steps(choice: str) -> list:
    if choice == PREPARATION:
        return [Preparation()]
    if choice == ZERO_ONE_STANDARDISED:
        return [ZeroOneStandardised()]
    if choice == TABLE_VECTORIZER:
        import skrub

        return [skrub.TableVectorizer(), SimpleImputer(), StandardScaler()]
    raise ValueError(choice)


def network(task: str, seed: int):
    settings = {"hidden_layer_sizes": (32,), "early_stopping": True, "max_iter": 300, "random_state": seed}
    if task == "classify":
        return MLPClassifier(**settings)
    return MLPRegressor(**settings)


def model(choice: str, task: str, seed: int):
    pipeline = make_pipeline(*preparation_steps(choice), network(task, seed))
    if task == "classify":
        return pipeline
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())


#: (task, input width, classes) that a network has been fitted on once: the first fit of each compiles.
_COMPILED: set = set()


def measure(choice: str, task: str, seed: int, X_train, y_train, X_test, y_test) -> dict:
    """Fit the whole pipeline on the training rows and score it on the held-out ones. Before that, the
    preparation alone: its fit_transform timed and its width counted, and where this width is new, one
    untimed fit of the network on its output, so that no choice's fit seconds carry JAX's compilation."""
    started = time.perf_counter()
    encoded = make_pipeline(*preparation_steps(choice)).fit_transform(X_train)
    prep_s = time.perf_counter() - started
    shape = (task, encoded.shape[1], len(np.unique(y_train)) if task == "classify" else 1)
    if shape not in _COMPILED:
        network(task, seed).fit(encoded, y_train)
        _COMPILED.add(shape)

    fitted = model(choice, task, seed)
    started = time.perf_counter()
    fitted.fit(X_train, y_train)
    fit_s = time.perf_counter() - started
    return {"choice": choice, "seed": seed, "score": float(fitted.score(X_test, y_test)),
            "columns": encoded.shape[1], "fit_s": fit_s, "prep_s": prep_s}


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------

def synthetic_table(seed: int, rows: int = 1500) -> tuple[pd.DataFrame, np.ndarray]:
    """A mixed table and its (numeric) signal; see the module's docstring."""
    rng = np.random.default_rng(seed)
    levels = [f"l{i}" for i in range(12)]
    shares = np.array([0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.01, 0.005, 0.005])
    category = rng.choice(levels, rows, p=shares / shares.sum())
    level_effect = dict(zip(levels, rng.normal(0, 1.5, len(levels))))
    yes_no = rng.choice(["yes", "no"], rows, p=[0.1, 0.9])

    centre, size = np.array([0.0, 50.0, 1000.0]), np.array([1.0, 10.0, 100.0])
    standard = rng.normal(0, 1, (rows, 3))
    numbers = standard * size + centre
    numbers[rng.random((rows, 3)) < 0.05] = np.nan  # gaps, 5 % per column
    seen = np.where(np.isnan(numbers), 0.0, standard)  # a gap carries no signal

    signal = (seen[:, 0] - seen[:, 1] + 0.5 * seen[:, 2] ** 2
              + np.array([level_effect[level] for level in category]) + 2.0 * (yes_no == "yes")
              + rng.normal(0, 0.5, rows))
    frame = pd.DataFrame({
        "a": numbers[:, 0], "b": numbers[:, 1], "c": numbers[:, 2],
        "level": category, "yes_no": yes_no,
        "customer": [f"c{seed}-{i:05d}" for i in range(rows)],  # an identifier: no signal
        "when": pd.date_range("2015-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),  # no signal
    })
    return frame, signal


def run_synthetic(seeds: list[int], choices: list[str], rows: int) -> list[dict]:
    results = []
    for seed in seeds:
        X, signal = synthetic_table(seed, rows)
        targets = {"classify": (signal > np.median(signal)).astype(int), "regress": signal}
        for task, y in targets.items():
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=seed)
            for choice in choices:
                row = measure(choice, task, seed, X_train, y_train, X_test, y_test)
                results.append({"table": "synthetic", "task": task, **row})
    return results


def real_tables_module():
    """bench/real_tables.py, imported (its loaders and table list), not copied."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import real_tables

    return real_tables


def run_real(names: list[str], seeds: list[int], choices: list[str]) -> list[dict]:
    known = {table.name: table for table in real_tables_module().TABLES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown real tables {unknown}; known: {sorted(known)}")
    results = []
    for name in names:
        table = known[name]
        try:
            frame = table.load()
        except ImportError as missing:
            print(f"# {name} skipped: {missing} (pip install -e '.[bench]')", file=sys.stderr)
            continue
        frame = frame[frame[table.target].notna()].reset_index(drop=True)
        y = frame[table.target]
        y = y.astype(str) if table.task == "classify" else y.astype(float)
        X = frame.drop(columns=[table.target])
        for seed in seeds:
            stratify = y if table.task == "classify" else None
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed,
                                                                stratify=stratify)
            for choice in choices:
                row = measure(choice, table.task, seed, X_train, y_train, X_test, y_test)
                results.append({"table": name, "task": table.task, **row})
    return results


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

def markdown(results: list[dict]) -> str:
    frame = pd.DataFrame(results)
    lines = ["| table | task | preparation | score mean | score min | columns | fit s (median) "
             "| prep s (median) |", "|---|---|---|---:|---:|---:|---:|---:|"]
    order = {choice: i for i, choice in enumerate(CHOICES)}
    for (table, task), group in frame.groupby(["table", "task"], sort=False):
        for choice, runs in sorted(group.groupby("choice"), key=lambda item: order[item[0]]):
            lines.append(f"| {table} | {task} | {choice} | {runs.score.mean():.4f} | {runs.score.min():.4f} "
                         f"| {runs['columns'].mean():.0f} | {runs.fit_s.median():.2f} "
                         f"| {runs.prep_s.median():.3f} |")
    return "\n".join(lines)


def wins(results: list[dict]) -> str:
    """Seed by seed: how often Preparation's score is above, equal to, below each other choice's."""
    frame = pd.DataFrame(results)
    scores = frame.pivot_table(index=["table", "task", "seed"], columns="choice", values="score")
    lines = []
    for other in (ZERO_ONE_STANDARDISED, TABLE_VECTORIZER):
        if other not in scores:
            continue
        parts = []
        for (table, task), group in scores.groupby(level=["table", "task"], sort=False):
            difference = group[PREPARATION] - group[other]
            counts = f"{(difference > 0).sum()}/{(difference == 0).sum()}/{(difference < 0).sum()}"
            parts.append(f"{table} {task} {counts} (mean {difference.mean():+.4f})")
        lines.append(f"Preparation against {other}, seeds above/equal/below: " + "; ".join(parts) + ".")
    return "\n\n".join(lines)


def environment() -> str:
    import sklearn

    import mlpkit

    versions = [f"Python {platform.python_version()}", f"mlpkit {mlpkit.__version__}",
                f"scikit-learn {sklearn.__version__}", f"pandas {pd.__version__}", f"numpy {np.__version__}"]
    if skrub_available():
        import skrub

        versions.append(f"skrub {skrub.__version__}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.platform()}; {os.cpu_count()} CPUs; "
            f"load average {load} (at the start); " + "; ".join(versions))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 (default 6)")
    parser.add_argument("--rows", type=int, default=1500, help="rows of each synthetic table (default 1500)")
    parser.add_argument("--real", default=DEFAULT_REAL,
                        help=f"bench/real_tables.py tables, comma-separated, or 'none' "
                        f"(default {DEFAULT_REAL})")
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--runs", help="also write every fit's row (table, task, choice, seed, score, "
                        "columns, seconds) to this CSV")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore")  # ConvergenceWarning, pandas/skrub dtype chatter, unseen levels
    started_environment = environment()
    choices = list(CHOICES)
    notes = []
    if not skrub_available():
        choices.remove(TABLE_VECTORIZER)
        notes.append("skrub is not installed: skrub TableVectorizer skipped (pip install -e '.[bench]').")
        print(f"# {notes[-1]}", file=sys.stderr)

    seeds = list(range(args.seeds))
    started = time.perf_counter()
    results = run_synthetic(seeds, choices, args.rows)
    if args.real != "none":
        results += run_real(args.real.split(","), seeds, choices)
    took = time.perf_counter() - started

    command = "$ python bench/preparation_choices.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join([command.rstrip(), "", started_environment, "", *[f"{note}\n" for note in notes],
                        markdown(results), "",
                        wins(results), "", f"Seeds {seeds[0]}-{seeds[-1]}; {took:.0f} s in all."])
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    if args.runs:
        pd.DataFrame(results).to_csv(args.runs, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
