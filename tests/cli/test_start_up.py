"""The command line answers at once: asking what there is imports none of the heavy libraries.

``mlpkit --help``, ``--version``, a subcommand's ``--help`` and an argument error are
answered from argparse alone; JAX, scikit-learn, pandas, matplotlib, rich and the rest
are imported by the work that needs them (``bench/README.md`` has the whole-process
timings). The check is on the modules a fresh process has imported, not on the clock,
so a loaded machine cannot make it fail or pass.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlpkit.cli import COMMANDS

#: Libraries that each cost tens of milliseconds to seconds to import (numpy included: ~0.1 s).
HEAVY = ("numpy", "jax", "jaxlib", "sklearn", "scipy", "pandas", "matplotlib", "rich", "optuna", "numba",
         "pyarrow", "onnx", "onnxruntime", "pythonosc", "threadpoolctl", "joblib", "optax")

#: Runs mlpkit's command line with the arguments given, then prints the top-level packages imported.
PROBE = """
import json, sys
from mlpkit.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "imported": sorted({name.partition(".")[0] for name in sys.modules})}))
"""


def imported_by(*argv) -> tuple[int, set]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["imported"])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], [], ["fit"], ["fit", "data.csv", "--scale", "sideways"], ["no-such-command"],
     *([name, "--help"] for name in COMMANDS)],
    ids=lambda argv: " ".join(argv) or "(bare)",
)
def test_asking_what_there_is_imports_nothing_heavy(argv):
    code, imported = imported_by(*argv)
    assert code in (0, 2)
    assert not imported & set(HEAVY), f"mlpkit {' '.join(argv)} imported {sorted(imported & set(HEAVY))}"


SMALL_THEN_COMPILED = """
import json, sys, warnings
import numpy as np
import mlpkit
from mlpkit import MLPClassifier, MLPRegressor
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = rng.randn(150, 4)
seen = []
for params in ({}, {"solver": "sgd", "early_stopping": True}, {"solver": "lbfgs"}):
    model = MLPClassifier(max_iter=20, random_state=0, **params).fit(X, X[:, 0] > 0)
    model.predict_proba(X)
    MLPRegressor(max_iter=20, random_state=0, **params).fit(X, X[:, 1]).score(X, X[:, 1])
    mlpkit.save(model, sys.argv[1])  # (with the optimiser's state)
    mlpkit.load(sys.argv[1]).predict(X)
seen.append("jax" in sys.modules)
MLPClassifier(max_iter=2, random_state=0, activation="elu").fit(X, X[:, 0] > 0)  # (elu: compiled)
seen.append("jax" in sys.modules)
print(json.dumps(seen))
"""


def test_small_fits_import_no_jax_and_a_compiled_one_does(tmp_path):
    """Small work of scikit-learn's kinds (adam, sgd with early stopping, L-BFGS) trains in the numpy loop, and
    a saved model loads and predicts: no JAX import (about as long as scikit-learn's), no compiler; a fit the
    numpy loop lacks rules for compiles."""
    script = [sys.executable, "-c", SMALL_THEN_COMPILED, str(tmp_path / "model.npz")]
    done = subprocess.run(script, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [False, True]


def test_import_mlpkit_alone_imports_nothing_heavy_and_names_resolve_when_used():
    script = ("import json, sys, mlpkit; before = sorted({n.partition('.')[0] for n in sys.modules});"
              " mlpkit.MLPClassifier; print(json.dumps([before, 'jax' in sys.modules, sorted(mlpkit.__all__)]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    before, jax_after, names = json.loads(done.stdout)
    assert not set(before) & set(HEAVY), sorted(set(before) & set(HEAVY))
    assert not jax_after  # the estimators load without JAX: only a fit that compiles imports it
    import mlpkit

    assert all(getattr(mlpkit, name) is not None for name in names)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        mlpkit.nothing_here  # noqa: B018
