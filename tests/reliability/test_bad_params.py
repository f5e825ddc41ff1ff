"""Every invalid value of every parameter: an error at ``fit`` that names the parameter.

The invalid values are generated from each estimator's ``_parameter_constraints``:
scikit-learn's own generator (``generate_invalid_param_val``) for each constraint,
plus a pool of candidates (wrong types, negatives, zero, NaN, infinities, empty
and misspelt strings, ...) kept only where no constraint of the parameter accepts
them. Each must

- not raise when the estimator is built (scikit-learn validates in ``fit``);
- raise scikit-learn's ``InvalidParameterError`` naming the parameter (and, for
  string options, listing every valid value) from ``fit`` and ``partial_fit``;
- leave a fitted estimator exactly as it was;
- be refused by scikit-learn too, where scikit-learn has the parameter.

Values that pass the type constraints but are wrong inside (a hidden layer of
0 units, a dropout list of the wrong length, ...) are checked at ``fit`` too.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_helpers import (
    MLPKIT,
    SKLEARN,
    TARGETS,
    X,
    all_finite,
    assert_clean_error,
    is_jax_error,
    make,
    outcome,
    quiet,
    same_weights,
)
from sklearn.utils._param_validation import (
    InvalidParameterError,
    StrOptions,
    generate_invalid_param_val,
    make_constraint,
)

KINDS = ("classifier", "regressor")


class BadType:
    """An object no constraint accepts."""

    def __repr__(self):
        return "BadType()"


class NotAnOptimizer:
    """Has ``init`` and ``update`` (so passes ``HasMethods``) but is no optax transformation."""

    def init(self, params):
        return ()

    def update(self, grads, state, params=None):
        return grads, state

    def __repr__(self):
        return "NotAnOptimizer()"


CANDIDATES = [
    BadType(), None, "", "abc", "not a value", -1, 0, -1e-6, 0.5, 1.5, 2.5, -10**9, np.nan, np.inf, -np.inf,
    1j, "1", "0.1", [1], (3, 0), {"a": 1}, b"adam", np.float32(np.nan), -0.0,
]


def _str_variants(constraint):
    """Misspellings of each string option: upper case, padded, pluralised."""
    out = []
    for option in sorted(constraint.options):
        out += [option.upper(), f" {option}", f"{option}s"]
    return out


def invalid_values(cls, name):
    """The invalid values of parameter ``name`` of ``cls``: generated from its constraints."""
    constraints = [make_constraint(c) for c in cls._parameter_constraints[name]]
    pool = list(CANDIDATES)
    for constraint in constraints:
        try:
            pool.append(generate_invalid_param_val(constraint))
        except NotImplementedError:
            pass
        if isinstance(constraint, StrOptions):
            pool += _str_variants(constraint)

    def accepted(value):
        with quiet():
            return any(c.is_satisfied_by(value) for c in constraints)

    values, seen = [], set()
    for value in pool:
        key = (type(value).__name__, repr(value))
        if key not in seen and not accepted(value):
            seen.add(key)
            values.append(value)
    return values


def _id(value):
    text = repr(value)
    return re.sub(r"[^\w.()\[\]{}',+-]", "_", text)[:40]


PARAMETERS = [pytest.param(kind, name, id=f"{kind}-{name}") for kind in KINDS for name in MLPKIT[kind]._parameter_constraints]
ALL_INVALID = [(kind, name, value) for kind in KINDS for name in MLPKIT[kind]._parameter_constraints
               for value in invalid_values(MLPKIT[kind], name)]


FITTED = {}


def fitted(kind):
    if kind not in FITTED:
        with quiet():
            FITTED[kind] = make(kind).fit(X, TARGETS[kind])
    return FITTED[kind]


def _call(est, method, kind):
    y = TARGETS[kind]
    if method == "partial_fit" and kind == "classifier":
        return est.partial_fit(X, y, classes=np.unique(y))
    return getattr(est, method)(X, y)


def _problems_with(kind, name, value):
    """What is wrong with how mlpkit (and scikit-learn) treat ``name=value``; empty if all is well."""
    cls = MLPKIT[kind]
    constraints = [make_constraint(c) for c in cls._parameter_constraints[name]]
    status, error = outcome(lambda: make(kind, **{name: value}))
    if status == "error":
        return [f"building with {name}={value!r} raised {type(error).__name__} (scikit-learn validates in fit)"]
    estimator = make(kind, **{name: value})
    pattern = rf"The '{re.escape(name)}' parameter of {cls.__name__} must be .* Got .* instead\."
    problems = []
    for method in ("fit", "partial_fit"):
        status, error = outcome(lambda m=method: _call(estimator, m, kind))
        if status != "error":
            problems.append(f"{method} accepted {name}={value!r}")
        elif not isinstance(error, InvalidParameterError) or is_jax_error(error) or not re.search(pattern, str(error)):
            problems.append(f"{method} with {name}={value!r}: {type(error).__name__}: {error}")
        else:
            for constraint in constraints:  # string options: every valid value is listed
                if isinstance(constraint, StrOptions) and not all(repr(o) in str(error) for o in constraint.options):
                    problems.append(f"{method} with {name}={value!r}: the options are not all listed: {error}")
    sk_cls = SKLEARN[kind]
    if name in sk_cls().get_params():  # scikit-learn refuses it too
        status, error = outcome(lambda: _call(sk_cls(**{name: value}), "fit", kind))
        if not (status == "error" and isinstance(error, InvalidParameterError)):
            problems.append(f"scikit-learn accepts {name}={value!r}: mlpkit refuses more than it does")
    return problems


@pytest.mark.parametrize(("kind", "name"), PARAMETERS)
def test_every_invalid_value_is_refused_at_fit_naming_the_parameter(kind, name):
    values = invalid_values(MLPKIT[kind], name)
    assert values, f"no invalid value generated for {name}"
    problems = [p for value in values for p in _problems_with(kind, name, value)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", KINDS)
def test_an_invalid_parameter_leaves_a_fitted_model_untouched(kind):
    """One fitted model, every invalid value of every parameter in turn: fit refuses, the model is as it was."""
    model = fitted(kind)
    params = model.get_params()
    prediction = model.predict(X)
    snapshot = dict(vars(model))
    for name in MLPKIT[kind]._parameter_constraints:
        for value in invalid_values(MLPKIT[kind], name):
            model.set_params(**{name: value})
            status, error = outcome(lambda: model.fit(X, TARGETS[kind]))
            assert status == "error" and isinstance(error, InvalidParameterError)
            model.set_params(**{name: params[name]})
    assert vars(model).keys() == snapshot.keys()
    assert all(vars(model)[k] is v for k, v in snapshot.items())  # not even reassigned
    assert np.array_equal(model.predict(X), prediction)


@settings(max_examples=50, deadline=None)
@given(case=st.sampled_from(ALL_INVALID))
def test_partial_fit_of_a_fitted_model_with_an_invalid_parameter_never_corrupts_it(case):
    """scikit-learn's ``_fit_context`` does not validate parameters in ``partial_fit`` of a fitted
    estimator (scikit-learn's own MLPs then train on or fail deep inside). mlpkit may do either too,
    but never with a JAX error, and a failed call leaves the model as it was."""
    kind, name, value = case
    model = copy.deepcopy(fitted(kind))
    before = copy.deepcopy(vars(model))
    model.set_params(**{name: value})
    status, error = outcome(lambda: _call(model, "partial_fit", kind))
    if status == "error":
        assert not is_jax_error(error), f"{type(error).__name__}: {error}"
        model.set_params(**{name: before[name]})
        assert vars(model).keys() == before.keys()
        assert same_weights(model, _as_model(before))
    else:
        assert all_finite(*model.coefs_, *model.intercepts_)


def _as_model(attributes):
    shell = object.__new__(MLPKIT["classifier" if "classes_" in attributes else "regressor"])
    shell.__dict__.update(attributes)
    return shell


# ------------------------------------------------------------------ unknown names
@pytest.mark.parametrize("kind", KINDS)
def test_unknown_parameter_names_are_refused_as_sklearn(kind):
    for lib_cls in (MLPKIT[kind], SKLEARN[kind]):
        with pytest.raises(TypeError, match="unexpected keyword argument 'hiden_layer_sizes'"):
            lib_cls(hiden_layer_sizes=(3,))
    mk, sk = MLPKIT[kind](), SKLEARN[kind]()
    for est in (mk, sk):
        with pytest.raises(ValueError, match=r"Invalid parameter 'learning_rate_int' for estimator"):
            est.set_params(learning_rate_int=0.1)
    # the message lists the valid names, as scikit-learn's
    _, error = outcome(lambda: mk.set_params(learning_rate_int=0.1))
    assert "learning_rate_init" in str(error)


# ------------------------------------------- values of the right type, wrong inside
NAMED = [  # (kind, params, what the message must name) — mlpkit names the parameter
    ("regressor", {"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    ("regressor", {"hidden_layer_sizes": (-1,)}, "hidden_layer_sizes"),
    ("classifier", {"hidden_layer_sizes": (3, 0)}, "hidden_layer_sizes"),
    ("classifier", {"hidden_layer_sizes": [3, -2]}, "hidden_layer_sizes"),
    ("regressor", {"dropout": [0.5, 0.5]}, "dropout"),
    ("regressor", {"dropout": [1.5]}, "dropout"),
    ("regressor", {"dropout": [-0.1]}, "dropout"),
    ("regressor", {"dropout": [np.nan]}, "dropout"),
    ("classifier", {"dropout": [[0.1]]}, "dropout"),
    ("regressor", {"out_activation": "softmax"}, "out_activation"),
    ("classifier", {"out_activation": "relu"}, "out_activation"),
    ("regressor", {"alpha_dropout": True, "activation": "relu"}, "alpha_dropout"),
    ("regressor", {"solver": "lbfgs", "dropout": 0.2}, "lbfgs"),
    ("classifier", {"solver": "lbfgs", "batch_norm": True}, "lbfgs"),
    ("regressor", {"solver": "lbfgs", "activation": "rrelu"}, "lbfgs"),
]

NOT_NAMED = [  # scikit-learn's error does not name the parameter here; mlpkit's must
    pytest.param("regressor", {"hidden_layer_sizes": (3.5,)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": (3.0,)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": (True,)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": ("a",)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": (3, None)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": [[3]]}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"hidden_layer_sizes": (np.nan,)}, "hidden_layer_sizes", True),
    pytest.param("regressor", {"early_stopping": True, "validation_fraction": 0.0}, "validation_fraction", True),
    pytest.param("classifier", {"early_stopping": True, "validation_fraction": 0.99}, "validation_fraction", True),
    pytest.param("regressor", {"dropout": ["a"]}, "dropout", False),
    pytest.param("regressor", {"callbacks": [1]}, "callbacks", False),
    pytest.param("classifier", {"callbacks": [None]}, "callbacks", False),
    pytest.param("regressor", {"learning_rate": lambda step: "fast"}, "learning_rate", False),
    pytest.param("regressor", {"learning_rate": lambda step: None}, "learning_rate", False),
    pytest.param("regressor", {"solver": NotAnOptimizer()}, "solver", False),
]


@pytest.mark.parametrize(("kind", "params", "named"), NAMED, ids=lambda v: _id(v) if isinstance(v, dict) else None)
def test_wrong_contents_are_refused_at_fit_naming_the_parameter(kind, params, named):
    estimator = make(kind, **params)
    status, error = outcome(lambda: estimator.fit(X, TARGETS[kind]))
    assert status == "error"
    assert_clean_error(error)
    assert named in str(error), str(error)


@pytest.mark.parametrize(("kind", "params", "named", "sklearn_too"), NOT_NAMED,
                         ids=lambda v: _id(v) if isinstance(v, dict) else None)
def test_wrong_contents_sklearn_does_not_name_are_named(kind, params, named, sklearn_too):
    if sklearn_too:  # the same case through scikit-learn: an error too, that does not name it either
        sk_status, sk_error = outcome(lambda: SKLEARN[kind](**{**params, "max_iter": 5}).fit(X, TARGETS[kind]))
        assert sk_status == "error" and named not in str(sk_error)
    status, error = outcome(lambda: make(kind, **params).fit(X, TARGETS[kind]))
    assert status == "error", "accepted"
    assert_clean_error(error)
    assert named in str(error), f"{type(error).__name__}: {error}"


# ------------------------------------------------ valid values at the edges of their range
@pytest.mark.parametrize("kind", KINDS)
def test_batch_size_true_works_as_in_sklearn(kind):
    assert outcome(lambda: SKLEARN[kind](hidden_layer_sizes=(3,), max_iter=5, batch_size=True).fit(X, TARGETS[kind]))[0] == "ok"
    status, value = outcome(lambda: make(kind, batch_size=True).fit(X, TARGETS[kind]))
    assert status == "ok", f"{type(value).__name__}: {value}"


@pytest.mark.parametrize("params", [
    {"learning_rate": "step", "lr_decay_epochs": 1e-300},
    {"learning_rate": "exponential", "lr_decay_epochs": 1e-300},
    {"learning_rate": "cosine", "learning_rate_init": 1e-50},
], ids=["step-lr_decay_epochs=1e-300", "exponential-lr_decay_epochs=1e-300", "cosine-learning_rate_init=1e-50"])
def test_tiny_valid_schedule_values_train_or_are_named(params):
    with quiet():
        make("regressor", dtype="float64", **params).fit(X, TARGETS["regressor"])  # float64 trains
    status, error = outcome(lambda: make("regressor", **params).fit(X, TARGETS["regressor"]))
    if status == "error":  # not the divergence message, which blames the data
        assert "non-finite" not in str(error), str(error)
        assert any(name in str(error) for name in params if name != "learning_rate"), str(error)


HUGE_MAX_ITER = textwrap.dedent("""
    import resource, sys, warnings
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))  # a bad allocation fails, no OOM killer
    import numpy as np, mlpkit
    warnings.simplefilter("ignore")
    X = np.random.RandomState(0).randn(16, 3)
    for max_iter in map(int, sys.argv[1:]):
        model = mlpkit.MLPRegressor(hidden_layer_sizes=(3,), max_iter=max_iter, random_state=0)
        try:
            model.fit(X, X[:, 0])
            print(max_iter, "OK", model.n_iter_, flush=True)
        except Exception as error:
            message = str(error)[:300].replace("\\n", " ")
            print(max_iter, "ERROR", type(error).__module__, type(error).__name__, message, flush=True)
""")


def test_a_huge_max_iter_trains_or_is_refused_cleanly():
    """Two cases, in one process (the second may kill it): max_iter=2**40 and max_iter=2**62."""
    values = [2**40, 2**62]
    done = subprocess.run([sys.executable, "-c", HUGE_MAX_ITER, *map(str, values)], capture_output=True, text=True,
                          timeout=120, check=False)
    lines = {int(line.split()[0]): line for line in done.stdout.splitlines() if line.strip()}
    problems = []
    for value in values:
        line = lines.get(value)
        if line is None:
            problems.append(f"max_iter={value}: the process died (rc {done.returncode}): {done.stderr[-300:]}")
        elif " ERROR " in line and not (("builtins ValueError" in line or "InvalidParameterError" in line)
                                        and "max_iter" in line):
            problems.append(f"max_iter={value}: {line}")
    assert not problems, "\n".join(problems)
