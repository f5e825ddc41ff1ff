"""mlpkit.guide.diagnose: each finding from a deliberately induced condition, none for a network that trained well.

The rules are checked on constructed curves (where they must fire and where they must not),
then on small real fits that induce each condition; every suggestion is said in the words of
the interface in use (Python, the command line, the FluCoMa estimators).
"""

import copy
import json
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, guide
from mlpkit.guide import history_checks, unit_checks
from mlpkit.guide.findings import Subject
from mlpkit.guide.vocabulary import VOCABULARIES


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture(scope="module")
def smooth():
    """500 rows of a smooth 10-feature regression, inputs and targets standardised."""
    X, y = make_friedman1(500, noise=0.3, random_state=0)
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


def quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def weights_bytes(model):
    return [a.tobytes() for a in (*model.coefs_, *model.intercepts_)]


SUBJECT = Subject(learning_rate=0.01, max_iter=200, hidden=(32,), alpha=1e-4, early_stopping=False,
                  batch_size=16, activation="relu", words=VOCABULARIES["python"])  # fmt: skip


def history(loss, val_loss=None, hit_max_iter=False, chance=None, tol=1e-4, train_score=None):
    curve = lambda v: None if v is None else np.asarray(v, float)
    return history_checks.History(curve(loss), curve(val_loss), None, hit_max_iter, tol, chance, train_score)


# ============================================================ rules on constructed curves
def test_no_history_rule_fires_on_a_loss_that_falls_and_settles():
    falling = np.r_[np.geomspace(2.0, 0.01, 40), np.full(10, 0.01)]
    for check in history_checks.CHECKS.values():
        assert check(history(falling, val_loss=falling + 0.05, chance=np.log(10)), SUBJECT) is None, check


def test_divergence_rules():
    assert history_checks.divergence(history([2.0, 1.0, np.nan]), SUBJECT).severity == "error"
    assert history_checks.divergence(history([2.0, 0.5, 0.4, 3.0]), SUBJECT).severity == "warning"
    assert history_checks.divergence(history([2.0, 1e-5, 5e-5, 1e-5]), SUBJECT) is None  # noise near 0
    assert history_checks.divergence(history([40.0, 2.3, 2.3], chance=np.log(10)), SUBJECT) is not None


def test_a_bouncing_loss_is_a_learning_rate_too_high():
    rng = np.random.RandomState(0)
    settled = np.r_[np.linspace(1.0, 0.2, 20), 0.2 + 0.001 * rng.rand(20)]
    assert history_checks.bouncing_loss(history(settled), SUBJECT) is None  # tiny wiggles near the end
    bouncing = np.r_[np.linspace(1.0, 0.2, 20), 0.2 + 0.15 * np.tile([0.0, 1.0], 10)]
    found = history_checks.bouncing_loss(history(bouncing), SUBJECT)
    assert found.name == "learning_rate_too_high" and "bounces" in found.message
    assert "learning_rate_init=0.001" in found.said(SUBJECT.words).suggestion


def test_not_converged_means_out_of_epochs_while_still_learning():
    five = [2.3, 2.2, 2.05, 1.95, 1.89]  # the case: 5 epochs, loss 1.89
    found = history_checks.not_converged(history(five, hit_max_iter=True, chance=np.log(10)), SUBJECT)
    assert found.name == "not_converged" and "max_iter=200" in found.message
    assert history_checks.not_converged(history(five, hit_max_iter=False), SUBJECT) is None  # the rule stopped it
    done = np.r_[np.geomspace(2.0, 0.002, 40), np.geomspace(0.002, 0.0019, 10)]
    assert history_checks.not_converged(history(done, hit_max_iter=True), SUBJECT) is None
    val_still_improving = np.geomspace(1.0, 0.5, 30)
    found = history_checks.not_converged(history(done[:30], val_loss=val_still_improving, hit_max_iter=True), SUBJECT)
    assert "validation loss was still at its best" in found.message


def test_overfitting_underfitting_and_plateau_rules():
    falling = np.geomspace(2.0, 0.01, 40)
    val = np.r_[np.linspace(1.0, 0.5, 20), np.linspace(0.5, 0.8, 20)]
    found = history_checks.overfitting(history(falling, val_loss=val), SUBJECT)
    assert found.name == "overfitting" and "epoch 20" in found.message

    settled_high = np.r_[np.linspace(2.3, 1.8, 10), np.full(20, 1.8)]
    assert history_checks.underfitting(history(settled_high, chance=np.log(10)), SUBJECT).name == "underfitting"
    assert history_checks.underfitting(history(falling, train_score=0.1), SUBJECT).name == "underfitting"
    assert history_checks.underfitting(history(falling, train_score=0.9), SUBJECT) is None

    stuck = np.full(30, 2.30)
    assert history_checks.plateau(history(stuck, chance=np.log(10)), SUBJECT).name == "plateau"
    large = 1e6 - np.arange(30.0)  # relatively flat, yet each epoch improves by more than tol
    assert "max_iter" in history_checks.plateau(history(large, hit_max_iter=True), SUBJECT).message
    assert history_checks.plateau(history(np.r_[2.0, np.full(29, 1e-4)], hit_max_iter=True), SUBJECT) is None


def test_gradient_rule():
    assert unit_checks.gradient_finding([0.01, 0.02], SUBJECT) is None
    assert unit_checks.gradient_finding([1e-9, 1e-9], SUBJECT) is None  # at a minimum
    assert unit_checks.gradient_finding([1e-7, 0.05], SUBJECT).name == "vanishing_gradient"
    assert unit_checks.gradient_finding([5e3, 1.0], SUBJECT).name == "exploding_gradient"
    assert unit_checks.gradient_finding([np.nan, 1.0], SUBJECT).severity == "error"


# ============================================================ induced conditions, real fits
@pytest.fixture(scope="module")
def clean_fit(digits):
    X, y = digits
    return quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, random_state=0), X, y)


def test_a_network_that_trained_well_has_no_findings(digits, clean_fit, smooth):
    X, y = digits
    before = weights_bytes(clean_fit)
    report = guide.diagnose(clean_fit, X, y)
    assert report.findings == [] and report.ok, str(report)
    assert set(report.checked) == {*history_checks.CHECKS, "dead_relu", "unscaled_inputs", "gradients"}
    assert len(report.gradient_norms) == 2 and np.all(np.isfinite(report.gradient_norms))
    assert weights_bytes(clean_fit) == before
    assert "no problems found" in str(report)
    json.dumps(report.to_dict())
    X, y = smooth
    regressor = quiet_fit(MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, batch_size=16,
                                       max_iter=60, random_state=0), X, y)  # fmt: skip
    assert guide.diagnose(regressor, X, y).findings == []


def test_five_epochs_are_not_converged(digits):
    """The issue's case: 'no problems found' after 5 epochs with the loss still high."""
    X, y = digits
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0), X, y)
    report = guide.diagnose(model, X, y)
    assert "not_converged" in report.names and not report.ok
    assert "max_iter=20" in report.findings[0].suggestion


def test_a_huge_learning_rate_diverges(digits):
    X, y = digits
    model = quiet_fit(
        MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=1.0, max_iter=30, random_state=0), X, y
    )
    report = guide.diagnose(model, X, y)
    assert report.names[0] == "divergence" and "learning_rate_init=0.1" in report.findings[0].suggestion
    assert "dead_relu" in report.names  # the overshoot killed the units


def test_a_learning_rate_a_little_too_high_bounces(smooth):
    X, y = smooth
    model = quiet_fit(MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.1, batch_size=8, max_iter=40,
                                   n_iter_no_change=1000, random_state=0), X, y)  # fmt: skip
    report = guide.diagnose(model, X, y)
    assert "learning_rate_too_high" in report.names and "divergence" not in report.names


def test_long_training_on_tiny_noisy_data_overfits():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = X[:, 0] + rng.randn(60)
    model = MLPRegressor(
        hidden_layer_sizes=(64,),
        learning_rate_init=0.01,
        max_iter=300,
        early_stopping=True,
        early_stopping_monitor="loss",
        n_iter_no_change=1000,
        validation_fraction=0.3,
        random_state=0,
    )
    report = guide.diagnose(quiet_fit(model, X, y))
    assert "overfitting" in report.names and "divergence" not in report.names and "plateau" not in report.names
    assert report.skipped["dead_relu"].startswith("needs rows")


def test_a_network_too_small_underfits(digits):
    X, y = digits
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(1,), max_iter=100, random_state=0), X, y)
    report = guide.diagnose(model, X, y)
    assert "underfitting" in report.names and "hidden_layer_sizes=(4,)" in report.findings[0].suggestion


def test_a_tiny_learning_rate_plateaus(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(32,), activation="logistic", solver="sgd", learning_rate_init=1e-5,
                          momentum=0.0, max_iter=50, random_state=0)  # fmt: skip
    report = guide.diagnose(quiet_fit(model, X, y))
    assert report.names == ["plateau"] and "guessing" in report.findings[0].message
    assert "overfitting" in report.skipped


def test_dead_relu_units(digits, clean_fit):
    X, y = digits
    assert guide.diagnose(clean_fit, X).dead_units[0] < 0.1
    model = copy.deepcopy(clean_fit)
    model.intercepts_[0][:] = -100
    report = guide.diagnose(model, X, y)
    assert report.dead_units == [1.0] and report.findings[0].name == "dead_relu"
    assert report.findings[0].severity == "warning" and "vanishing_gradient" in report.names


def test_saturated_units_and_unscaled_inputs(digits):
    X, y = digits
    saturated = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), activation="tanh", max_iter=30, random_state=0), 16 * X, y)
    report = guide.diagnose(saturated, 16 * X)
    assert {"saturation", "unscaled_inputs"} <= set(report.names)
    assert "StandardScaler" in next(f for f in report.findings if f.name == "unscaled_inputs").suggestion
    scaled = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), activation="tanh", max_iter=30, random_state=0), X, y)
    report = guide.diagnose(scaled, X)
    assert "saturation" not in report.names and "unscaled_inputs" not in report.names and report.saturated[0] < 0.2


def test_a_pipeline_is_judged_on_the_inputs_its_network_sees(digits):
    X, y = digits
    pipeline = quiet_fit(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=30,
                                                                        random_state=0)), 16 * X, y)  # fmt: skip
    assert "unscaled_inputs" not in guide.diagnose(pipeline, 16 * X, y).names


# ============================================================ the words of each interface
def test_the_command_line_and_flucoma_hear_their_own_parameter_names(digits, smooth):
    X, y = digits
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0), X, y)
    cli = guide.diagnose(model, X, y, interface="cli")
    assert "--set max_iter=20" in cli.findings[0].suggestion and cli.interface == "cli"

    from mlpkit import flucoma

    X, y = smooth
    ids = [f"p{i}" for i in range(len(X))]
    source, target = flucoma.DataSet.from_numpy(ids, X), flucoma.DataSet.from_numpy(ids, y[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlpkit.DataSizeWarning)
        fluid = flucoma.MLPRegressor(hidden_layers=[8], learn_rate=1.0, max_iter=30, validation=0, random_state=0)
        fluid.fit(source, target)
    report = guide.diagnose(fluid, source, target)
    assert report.interface == "flucoma" and report.findings, str(report)
    said = " ".join(f.suggestion for f in report.findings)
    assert "learn_rate=" in said and "learning_rate_init" not in said and "alpha" not in said


def test_diagnose_needs_a_fitted_model_and_reports_skipped_checks(digits):
    X, y = digits
    with pytest.raises(NotFittedError):
        guide.diagnose(MLPClassifier())
    with pytest.raises(NotFittedError):
        guide.diagnose(mlpkit.flucoma.MLPRegressor())
    lbfgs = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0), X, y)
    report = guide.diagnose(lbfgs, X, y)
    assert "lbfgs" in report.skipped["plateau"] and report.checked == ["dead_relu", "unscaled_inputs", "gradients"]
    with pytest.raises(ValueError, match="y without X"):
        guide.diagnose(lbfgs, y=y)
    with pytest.raises(ValueError, match="interface must be one of"):
        guide.diagnose(lbfgs, X, interface="max")


def test_model_diagnose_is_the_guide_s():
    rng = np.random.RandomState(0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(rng.rand(100, 3), rng.rand(100))
    report = model.diagnose(rng.rand(100, 3), rng.rand(100))
    assert hasattr(report, "findings") and isinstance(report.to_dict(), dict)
