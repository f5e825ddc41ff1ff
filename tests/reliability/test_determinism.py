"""Determinism: the same random_state gives bit-identical weights, in one process and in two.

With shuffling, dropout, early stopping (its validation split) and rrelu's random
slopes, everything random comes from ``random_state``. Two fits in this process,
a refit of the same estimator, a clone, a seeded RandomState, and a fresh Python
process (another hash seed, its own JAX runtime) all give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from reliability_helpers import TARGETS, X, make, quiet, same_weights
from sklearn.base import clone

CONFIGS = {
    "classifier adam dropout early-stopping": ("classifier", {
        "solver": "adam", "dropout": 0.3, "early_stopping": True, "validation_fraction": 0.25, "shuffle": True, "batch_size": 4,
        "max_iter": 12, "n_iter_no_change": 3}),
    "regressor sgd nesterov dropout shuffle": ("regressor", {
        "solver": "sgd", "momentum": 0.9, "nesterovs_momentum": True, "dropout": [0.2], "shuffle": True, "batch_size": 5, "max_iter": 8}),
    "regressor rrelu early-stopping": ("regressor", {
        "activation": "rrelu", "early_stopping": True, "validation_fraction": 0.25, "shuffle": True, "batch_size": 3, "max_iter": 10}),
}

SCRIPT = textwrap.dedent("""
    import hashlib, json, sys, warnings
    sys.path.insert(0, {here!r})
    warnings.simplefilter("ignore")
    from reliability_helpers import X, TARGETS, make
    configs = json.loads(sys.argv[1])
    out = {{}}
    for name, (kind, params) in configs.items():
        model = make(kind, random_state=7, **params).fit(X, TARGETS[kind])
        digest = hashlib.sha256()
        for w in model.coefs_ + model.intercepts_:
            digest.update(str((w.dtype.str, w.shape)).encode())
            digest.update(w.tobytes())
        out[name] = [digest.hexdigest(), model.n_iter_]
    print(json.dumps(out))
""")


def _fit(name, random_state=7):
    kind, params = CONFIGS[name]
    with quiet():
        return make(kind, random_state=random_state, **params).fit(X, TARGETS[kind])


def _digest(model):
    digest = hashlib.sha256()
    for w in model.coefs_ + model.intercepts_:
        digest.update(str((w.dtype.str, w.shape)).encode())
        digest.update(w.tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_two_fits_with_the_same_random_state_are_bit_identical(name):
    a, b = _fit(name), _fit(name)
    assert same_weights(a, b)
    assert a.n_iter_ == b.n_iter_ and a.loss_curve_ == b.loss_curve_
    assert a.validation_scores_ == b.validation_scores_
    # refitting the same estimator, and a clone of it, give the same again
    kind = CONFIGS[name][0]
    with quiet():
        a.fit(X, TARGETS[kind])
        c = clone(b).fit(X, TARGETS[kind])
    assert same_weights(a, b) and same_weights(c, b)
    # a RandomState seeded the same way is the same random_state
    with quiet():
        d = make(kind, **{**CONFIGS[name][1], "random_state": np.random.RandomState(7)}).fit(X, TARGETS[kind])
    assert same_weights(d, b)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_another_random_state_gives_other_weights(name):
    """The randomness is real: the seed changes the weights (the equality above is not trivial)."""
    assert not same_weights(_fit(name, random_state=7), _fit(name, random_state=8))


def test_another_process_gives_the_same_bytes_as_this_one():
    """A fresh Python process (its own hash seed, its own JAX runtime, compiled programs from the
    persistent cache or compiled anew) trains the same bytes as this process."""
    here = os.path.dirname(os.path.abspath(__file__))
    seed = str(int(os.environ.get("PYTHONHASHSEED", "0") or 0) + 1)  # another hash seed than ours
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(here=here), json.dumps(CONFIGS)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": seed}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    there = json.loads(done.stdout.strip().splitlines()[-1])
    here_results = {}
    for name in CONFIGS:
        model = _fit(name)
        here_results[name] = [_digest(model), model.n_iter_]
    assert there == here_results
