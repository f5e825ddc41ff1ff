"""mlpkit.guide: advice before training, the learning-rate finder, diagnosis after training.

Each rule is checked where it must fire and where it must not, on constructed
data and on small real fits (digits, and tiny noisy regressions).
"""

import copy
import json
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, engine, guide
from mlpkit.guide import diagnosis, lr_finder, sizing


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


def quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def weights_bytes(model):
    return [a.tobytes() for a in (*model.coefs_, *model.intercepts_)] + [str(a.dtype) for a in model.coefs_]


# ======================================================================= sizing
def test_count_parameters_counts_weights_and_biases():
    assert guide.count_parameters(13, (5, 4), 3) == 109  # 97 weights + 12 biases
    assert guide.count_parameters(13, 5, 3) == 13 * 5 + 5 + 5 * 3 + 3
    assert guide.count_parameters(4, (), 1) == 5
    assert guide.count_parameters(13, [5, 4], 3) == mlpkit.count_parameters([13, 5, 4, 3])
    with pytest.raises(ValueError, match="positive integers"):
        guide.count_parameters(13, (5, 0), 3)
    with pytest.raises(ValueError, match="n_in must be a positive integer"):
        guide.count_parameters(0, (5,), 3)


def test_data_size_warning_follows_ten_rows_per_parameter():
    assert guide.data_size_warning(1090, 109) is None
    text = guide.data_size_warning(1089, 109)
    assert "1089 rows" in text and "109 parameters" in text and "10 per parameter" in text
    assert issubclass(guide.DataSizeWarning, UserWarning) and mlpkit.DataSizeWarning is guide.DataSizeWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=mlpkit.DataSizeWarning)
        warnings.warn(text, mlpkit.DataSizeWarning)
    assert not caught  # silenceable by category


def test_suggested_architecture_is_a_funnel_shrunk_to_the_data():
    assert sizing.funnel_width(64, 10) == 25  # sqrt(640) = 25.3
    assert sizing.funnel_width(1, 1) == 2  # never narrower than 2
    assert sizing.suggest_hidden_layer_sizes(100_000, 64, 10) == (25,)
    shrunk = sizing.suggest_hidden_layer_sizes(1797, 64, 10)
    assert shrunk[0] < 25 and guide.count_parameters(64, shrunk, 10) <= 1797 / 10
    assert sizing.suggest_hidden_layer_sizes(20, 64, 10) == (2,)  # floor, with advise's note


@pytest.mark.parametrize("n, expected", [(5, 5), (50, 8), (1000, 100), (5000, 200)])
def test_suggested_batch_size(n, expected):
    assert sizing.suggest_batch_size(n) == expected


# ======================================================================= advise
def test_advise_warns_on_tiny_data_not_on_large():
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 10), rng.randn(40)
    tiny = guide.advise(X, y, hidden_layer_sizes=(16,))
    assert tiny.task == "regress" and tiny.n_parameters == 10 * 16 + 16 + 16 + 1
    assert tiny.rows_per_parameter < 10 and tiny.data_size_warning and tiny.warnings
    assert "WARNING" in str(tiny)
    assert any("too few" in note for note in guide.advise(X, y).notes)

    X, y = rng.randn(20_000, 5), rng.randint(0, 3, 20_000)
    large = guide.advise(X, y)
    assert large.task == "classify" and large.n_classes == 3 and large.n_outputs == 3
    assert large.hidden_layer_sizes == large.suggested_hidden_layer_sizes == (4,)  # sqrt(5 * 3) = 3.9
    assert large.data_size_warning is None and large.rows_per_parameter >= 10
    assert large.batch_size == 200 and large.warnings == []
    assert "WARNING" not in str(large)


def test_advise_scaling_fires_for_uneven_columns_not_for_standardized():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.uniform(0, 1, 500), rng.uniform(0, 1e4, 500)])
    scaling = guide.advise(X, rng.randn(500)).scaling
    assert scaling.needed and scaling.scaler == "MinMaxScaler"  # uniform columns: bounded
    assert any("differ" in r for r in scaling.reasons) and any("typical size" in r for r in scaling.reasons)

    Z = rng.randn(500, 4)
    Z = (Z - Z.mean(0)) / Z.std(0)
    assert not guide.advise(Z, rng.randn(500)).scaling.needed
    assert "not needed" in str(guide.advise(Z, rng.randn(500)))


def test_advise_names_the_columns_where_the_data_has_names():
    import pandas as pd

    rng = np.random.RandomState(0)
    X = np.column_stack([rng.uniform(0, 1, 500), rng.uniform(0, 1e4, 500), np.ones(500)])
    named = guide.advise(X, rng.randn(500), feature_names=["ratio", "price", "flag"]).scaling
    assert "column 'price' has values of typical size" in " ".join(named.reasons)
    assert "(column 'price': 9.99e+03, column 'ratio': 0.994)" in " ".join(named.reasons)
    assert named.constant_columns == ["flag"]
    frame = pd.DataFrame(X, columns=["ratio", "price", "flag"])
    assert guide.advise(frame, rng.randn(500)).scaling.reasons == named.reasons  # a DataFrame names its own
    assert "column 1 has values" in " ".join(guide.advise(X, rng.randn(500)).scaling.reasons)  # no names: indices
    with pytest.raises(ValueError, match="feature_names has 2 names for 3 columns"):
        guide.advise(X, rng.randn(500), feature_names=["a", "b"])


def test_advise_picks_the_scaler_from_the_data():
    rng = np.random.RandomState(0)
    bell = rng.normal(50, 10, (1000, 3))
    assert guide.advise(bell, rng.randn(1000)).scaling.scaler == "StandardScaler"
    spiky = bell.copy()
    spiky[:50, 0] = 1e4  # 5 % heavy outliers
    advice = guide.advise(spiky, rng.randn(1000))
    assert advice.scaling.scaler == "RobustScaler" and advice.scaling.flucoma_scaler == "RobustScale"
    constant = np.column_stack([bell, np.ones(1000)])
    assert guide.advise(constant, rng.randn(1000)).scaling.constant_columns == [3]


def test_advise_flags_large_regression_targets():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    assert "TransformedTargetRegressor" in guide.advise(X, 1000 + 50 * rng.randn(300)).target_scaling
    assert guide.advise(X, rng.randn(300)).target_scaling is None


def test_advise_imbalance_fires_for_95_5_not_for_balanced():
    X = np.random.RandomState(0).randn(200, 3)
    skewed = guide.advise(X, np.array(["yes"] * 190 + ["no"] * 10))
    assert skewed.imbalance.imbalanced and skewed.imbalance.ratio == pytest.approx(10 / 190)
    assert skewed.n_outputs == 1 and skewed.n_classes == 2  # two classes: one logistic unit
    assert (
        "compute_sample_weight('balanced', y)" in skewed.imbalance.message
        and "stratify" in skewed.imbalance.message
    )
    assert not guide.advise(X, np.array([0, 1] * 100)).imbalance.imbalanced


def test_advise_task_detection_and_errors():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 2)
    counts = rng.randint(0, 60, 100)
    assert guide.advise(X, counts).task == "classify"  # whole numbers read as labels, as scikit-learn ...
    assert any("task='regress'" in n for n in guide.advise(X, counts).notes)  # ... with a note
    assert guide.advise(X, counts, task="regress").task == "regress"
    assert guide.advise(X, rng.randn(100, 2)).n_outputs == 2
    with pytest.raises(ValueError, match="task='classify' but y holds real numbers"):
        guide.advise(X, rng.randn(100), task="classify")
    with pytest.raises(ValueError, match="task must be"):
        guide.advise(X, counts, task="cluster")


def test_advise_report_prints_and_serialises(digits):
    X, y = digits
    advice = guide.advise(X, y, hidden_layer_sizes=(32,))
    text = str(advice)
    for part in (
        "classification, 10 classes",
        "64 -> 32 -> 10",
        "2410 parameters",
        "start with",
        "batch_size",
        "scaling",
        "underfits?",
        "widen",
    ):
        assert part in text
    as_dict = json.loads(json.dumps(advice.to_dict()))
    assert as_dict["n_parameters"] == 2410 and as_dict["hidden_layer_sizes"] == [32]
    assert as_dict["warnings"] == advice.warnings


# ====================================================================== lr_find
def test_lr_find_leaves_the_model_unchanged(digits):
    X, y = digits
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0), X, y)
    before, curve = weights_bytes(model), list(model.loss_curve_)
    result = guide.lr_find(model, X, y, steps=30)
    assert weights_bytes(model) == before and model.loss_curve_ == curve
    assert len(result.lrs) == len(result.losses) == len(result.raw_losses) <= 30

    fresh = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    guide.lr_find(fresh, X, y, steps=30)
    assert not hasattr(fresh, "coefs_")  # an unfitted model stays unfitted


def test_lr_find_starts_from_the_initial_weights_fit_would_draw(digits):
    X, y = digits
    from mlpkit.guide import _estimator

    prepared = _estimator.prepare(MLPClassifier(hidden_layer_sizes=(16,), random_state=3), X, y)
    one_tiny_step = MLPClassifier(
        hidden_layer_sizes=(16,), random_state=3, max_iter=1, learning_rate_init=1e-12
    )
    initial = quiet_fit(one_tiny_step, X, y)  # steps of 1e-12: the initial network
    for a, b in zip(prepared.model.coefs_ + prepared.model.intercepts_, initial.coefs_ + initial.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert prepared.Y.shape == (X.shape[0], 10) and set(np.unique(prepared.Y)) == {0.0, 1.0}  # one-hot


def test_lr_find_stops_as_fastai_and_reads_an_unlagged_smoothing(digits):
    X, y = digits
    result = guide.lr_find(MLPClassifier(hidden_layer_sizes=(32,), random_state=0), X, y, start=1e-5, end=100)
    beta, average, ema = lr_finder.SMOOTHING, 0.0, []
    for i, raw in enumerate(result.raw_losses):  # the stop: exponential moving average, bias-corrected
        average = beta * average + (1 - beta) * raw
        ema.append(average / (1 - beta ** (i + 1)))
    assert result.diverged and len(result.lrs) < 100
    assert not np.isfinite(ema[-1]) or ema[-1] > lr_finder.DIVERGE_FACTOR * np.nanmin(ema[:-1])
    assert all(e <= lr_finder.DIVERGE_FACTOR * np.nanmin(ema[: i + 1]) for i, e in enumerate(ema[:-1]))
    np.testing.assert_allclose(result.lrs, np.geomspace(1e-5, 100, 100)[: len(result.lrs)], rtol=1e-5)
    w = result.warmup
    np.testing.assert_allclose(result.losses[w:], lr_finder.centred_smoothing(result.raw_losses[w:]))
    # centred: the smoothed minimum is where the batch losses are lowest, not ~50 steps (a lagging average) later
    lowest_raw = w + int(np.argmin(lr_finder.centred_smoothing(result.raw_losses[w:])))
    assert abs(result.lowest - lowest_raw) <= 1 and result.lowest < int(np.nanargmin(ema))
    assert result.clear and result.lrs[result.warmup] < result.suggestion < result.lrs[result.lowest]


def sweep_of(losses, start=1e-6, end=1.0):
    losses = np.asarray(losses, dtype=float)
    return np.geomspace(start, end, len(losses)), losses


def test_the_suggestion_ignores_odd_first_batches_and_noise():
    rng = np.random.RandomState(0)
    lrs, _ = sweep_of(np.zeros(100))
    x = np.log10(lrs)
    clean = 1.0 - 0.8 / (1 + np.exp(-3 * (x + 2.5)))  # falls fastest at 10**-2.5, lowest near 10**-1
    clean = np.where(x > -0.8, clean + 5 * (x + 0.8) ** 2, clean)  # then explodes
    noisy = clean + 0.03 * rng.randn(100)
    noisy[0], noisy[1] = 3.0, 0.2  # the untrained network's first batches
    result = lr_finder.read_sweep(lrs, noisy, diverged=False, own_rate=1e-3)
    assert result.clear and 10**-3 <= result.suggestion <= 10**-2, result
    assert result.warmup >= lr_finder.MIN_WARMUP


def test_a_curve_that_never_falls_gives_no_clear_answer_and_keeps_the_rate():
    rng = np.random.RandomState(0)
    lrs, flat = sweep_of(1.0 + 0.01 * rng.randn(100))
    result = lr_finder.read_sweep(lrs, flat, diverged=False, own_rate=0.003)
    assert not result.clear and result.suggestion == 0.003 and "no clear answer" in str(result)
    lrs, rising = sweep_of(np.linspace(1.0, 3.0, 100))
    assert not lr_finder.read_sweep(lrs, rising, diverged=True, own_rate=0.003).clear


def test_lr_find_on_a_smooth_small_regression_suggests_a_rate_that_trains():
    """The issue's case: 300 rows of a smooth 4-feature function got 1e-07 (the first batch's loss
    differed from the second's). Now the suggestion lands where the training goes well."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (300, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.5 * X[:, 2] * X[:, 3]
    make = lambda lr: MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=lr, random_state=0)
    result = guide.lr_find(make(1e-3), X, y)
    assert result.clear and 1e-3 <= result.suggestion <= 0.1, result
    scores = {lr: quiet_fit(make(lr), X[:200], y[:200]).score(X[200:], y[200:]) for lr in (1e-4, 1e-3, 1e-2)}
    suggested = quiet_fit(make(result.suggestion), X[:200], y[:200]).score(X[200:], y[200:])
    assert suggested >= max(scores.values()) - 0.05, (suggested, scores)


def test_lr_find_says_when_unscaled_inputs_make_the_curve_meaningless():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)  # proline in the thousands
    result = guide.lr_find(MLPClassifier(hidden_layer_sizes=(16,), random_state=0), X, y, steps=60)
    assert not result.clear and "scale" in result.reason and result.suggestion == 1e-3


def test_lr_find_suggestion_is_near_the_best_rate_of_a_grid(digits):
    """Adam (the default solver), hidden (32,): the suggestion lands within a factor of 10 of the rate
    that scores best on held-out rows after 20 epochs."""
    X, y = digits
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    make = lambda lr: MLPClassifier(
        hidden_layer_sizes=(32,),
        solver="adam",
        learning_rate_init=lr,
        max_iter=20,
        random_state=0,
    )
    grid = {
        lr: quiet_fit(make(lr), X_train, y_train).score(X_val, y_val) for lr in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    }
    best = max(grid, key=grid.get)
    suggestion = guide.lr_find(make(1e-3), X_train, y_train).suggestion
    assert best / 10 <= suggestion <= best * 10, (suggestion, grid)


def test_lr_find_is_one_compiled_program_reused(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    guide.lr_find(model, X, y, steps=20)
    compiled = engine.compiled_programs()
    again = guide.lr_find(model.set_params(random_state=1, learning_rate_init=0.5), X, y, start=1e-4, end=1, steps=30)
    assert engine.compiled_programs() == compiled  # other rates and steps: the same program (fit's own)
    assert np.all(np.isfinite(again.raw_losses[:5]))


def test_lr_find_float64_and_regressor():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.randn(300)
    result = guide.lr_find(
        MLPRegressor(hidden_layer_sizes=(8,), dtype="float64", random_state=0), X, y, steps=40
    )
    assert result.raw_losses.dtype == np.float64 and 1e-7 <= result.suggestion <= 10
    assert "suggested learning_rate_init" in str(result)
    json.dumps(result.to_dict())


def test_lr_find_plot_returns_a_log_x_figure(digits):
    X, y = digits
    result = guide.lr_find(MLPClassifier(hidden_layer_sizes=(16,), random_state=0), X, y, steps=40)
    fig = result.plot()
    assert isinstance(fig, matplotlib.figure.Figure) and fig.axes[0].get_xscale() == "log"
    _, ax = plt.subplots()
    assert result.plot(ax=ax) is ax.figure
    plt.close("all")


def test_lr_find_errors_say_what_to_do(digits):
    X, y = digits
    with pytest.raises(ValueError, match="line search"):
        guide.lr_find(MLPClassifier(solver="lbfgs"), X, y)
    with pytest.raises(ValueError, match="0 < start < end"):
        guide.lr_find(MLPClassifier(), X, y, start=1.0, end=0.1)
    with pytest.raises(ValueError, match="steps must be an integer"):
        guide.lr_find(MLPClassifier(), X, y, steps=2)


# ===================================================================== diagnose
def history(loss, val_loss=None, hit_max_iter=False, chance=None, tol=1e-4):
    curve = lambda v: None if v is None else np.asarray(v, float)
    return diagnosis.History(curve(loss), curve(val_loss), None, hit_max_iter, tol, chance)


def test_history_rules_on_constructed_curves():
    falling = np.geomspace(2.0, 0.01, 50)
    for check in (diagnosis.divergence, diagnosis.overfitting, diagnosis.plateau):
        assert check(history(falling, val_loss=falling + 0.05)) is None

    assert diagnosis.divergence(history([2.0, 1.0, np.nan])).severity == "error"
    assert diagnosis.divergence(history([2.0, 0.5, 0.4, 3.0])).severity == "warning"
    assert diagnosis.divergence(history([2.0, 1e-5, 5e-5, 1e-5])) is None  # noise near 0 is no blow-up
    assert diagnosis.divergence(history([40.0, 2.3, 2.3], chance=np.log(10))) is not None

    val = np.r_[np.linspace(1.0, 0.5, 20), np.linspace(0.5, 0.8, 20)]
    found = diagnosis.overfitting(history(falling[:40], val_loss=val))
    assert found.name == "overfitting" and "epoch 20" in found.message

    stuck = np.full(30, 2.30)
    assert diagnosis.plateau(history(stuck, chance=np.log(10))).name == "plateau"
    large = 1e6 - np.arange(30.0)  # relatively flat, yet each epoch improves by more than tol
    assert "max_iter" in diagnosis.plateau(history(large, hit_max_iter=True)).message
    assert diagnosis.plateau(history(np.r_[2.0, np.full(29, 1e-4)], hit_max_iter=True)) is None  # converged


def test_gradient_rule():
    assert diagnosis.gradient_finding([0.01, 0.02]) is None
    assert diagnosis.gradient_finding([1e-9, 1e-9]) is None  # at a minimum
    assert diagnosis.gradient_finding([1e-7, 0.05]).name == "vanishing_gradient"
    assert diagnosis.gradient_finding([5e3, 1.0]).name == "exploding_gradient"
    assert diagnosis.gradient_finding([np.nan, 1.0]).severity == "error"


@pytest.fixture(scope="module")
def clean_fit(digits):
    X, y = digits
    return quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, random_state=0), X, y)


def test_diagnose_clean_fit_has_no_findings(digits, clean_fit):
    X, y = digits
    before = weights_bytes(clean_fit)
    report = guide.diagnose(clean_fit, X, y)
    assert report.findings == [] and report.ok
    assert report.checked == ["divergence", "overfitting", "plateau", "dead_relu", "gradients"]
    assert len(report.gradient_norms) == 2 and np.all(np.isfinite(report.gradient_norms))
    assert report.dead_units[0] < 0.1
    assert weights_bytes(clean_fit) == before
    assert "no problems found" in str(report)
    json.dumps(report.to_dict())


def test_diagnose_huge_learning_rate_diverges(digits):
    X, y = digits
    model = quiet_fit(
        MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=1.0, max_iter=30, random_state=0), X, y
    )
    report = guide.diagnose(model, X, y)
    assert "divergence" in report.names and "learning_rate_init" in report.findings[0].suggestion
    assert "dead_relu" in report.names  # the overshoot killed the units


def test_diagnose_long_training_on_tiny_noisy_data_overfits():
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
    assert (
        "overfitting" in report.names and "divergence" not in report.names and "plateau" not in report.names
    )
    assert report.skipped["dead_relu"].startswith("needs rows")


def test_diagnose_plateau_from_a_tiny_learning_rate(digits):
    X, y = digits
    model = MLPClassifier(
        hidden_layer_sizes=(32,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=1e-5,
        momentum=0.0,
        max_iter=50,
        random_state=0,
    )
    report = guide.diagnose(quiet_fit(model, X, y))
    assert report.names == ["plateau"] and "guessing" in report.findings[0].message
    assert "overfitting" in report.skipped


def test_diagnose_dead_relu_units(digits, clean_fit):
    X, y = digits
    assert guide.diagnose(clean_fit, X).dead_units[0] < 0.1

    model = copy.deepcopy(clean_fit)
    model.intercepts_[0][:] = -100
    report = guide.diagnose(model, X, y)
    assert report.dead_units == [1.0] and report.findings[0].name == "dead_relu"
    assert report.findings[0].severity == "warning" and "vanishing_gradient" in report.names


def test_diagnose_saturated_units(digits):
    X, y = digits
    saturated = quiet_fit(
        MLPClassifier(hidden_layer_sizes=(32,), activation="tanh", max_iter=30, random_state=0), 16 * X, y
    )
    assert "saturation" in guide.diagnose(saturated, 16 * X).names
    scaled = quiet_fit(
        MLPClassifier(hidden_layer_sizes=(32,), activation="tanh", max_iter=30, random_state=0), X, y
    )
    report = guide.diagnose(scaled, X)
    assert "saturation" not in report.names and report.saturated[0] < 0.2


def test_diagnose_needs_a_fitted_model_and_reports_skipped_checks(digits):
    X, y = digits
    with pytest.raises(NotFittedError):
        guide.diagnose(MLPClassifier())
    lbfgs = quiet_fit(
        MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0), X, y
    )
    report = guide.diagnose(lbfgs, X, y)
    assert "lbfgs" in report.skipped["plateau"] and report.checked == ["dead_relu", "gradients"]
    with pytest.raises(ValueError, match="y without X"):
        guide.diagnose(lbfgs, y=y)


def test_the_sklearn_replacements_never_warn_about_data_size_but_the_guidance_does():
    """scikit-learn's MLPs have no such warning, so mlpkit's drop-ins have none; fits inside
    ``advising_on_data_size`` (the command line, the FluCoMa estimators) give the advice."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 4), rng.rand(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mlpkit.DataSizeWarning)
        mlpkit.MLPRegressor(hidden_layer_sizes=(20,), max_iter=2).fit(X, y)
        MLPClassifier(hidden_layer_sizes=(20,), max_iter=2).fit(X, y > 0.5)
    with sizing.advising_on_data_size(), pytest.warns(mlpkit.DataSizeWarning, match="rows per parameter"):
        mlpkit.MLPRegressor(hidden_layer_sizes=(20,), max_iter=2).fit(X, y)
    with sizing.advising_on_data_size(), warnings.catch_warnings():
        warnings.simplefilter("error", mlpkit.DataSizeWarning)
        mlpkit.MLPRegressor(hidden_layer_sizes=(2,), max_iter=2).fit(rng.rand(300, 4), rng.rand(300))
    with warnings.catch_warnings():  # the advice ends with the block
        warnings.simplefilter("error", mlpkit.DataSizeWarning)
        mlpkit.MLPRegressor(hidden_layer_sizes=(20,), max_iter=2).fit(X, y)


def test_the_flucoma_estimators_warn_when_the_data_is_small_for_the_network():
    from mlpkit import flucoma

    rng = np.random.RandomState(0)
    source = flucoma.DataSet.from_numpy([f"p{i}" for i in range(30)], rng.rand(30, 4))
    target = flucoma.DataSet.from_numpy([f"p{i}" for i in range(30)], rng.rand(30, 2))
    with pytest.warns(mlpkit.DataSizeWarning, match="rows per parameter"):
        flucoma.MLPRegressor(hidden_layers=[20], max_iter=2).fit(source, target)


def test_model_diagnose_is_the_guide_s():


    rng = np.random.RandomState(0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(rng.rand(100, 3), rng.rand(100))
    report = model.diagnose(rng.rand(100, 3), rng.rand(100))
    assert hasattr(report, "findings") and isinstance(report.to_dict(), dict)
