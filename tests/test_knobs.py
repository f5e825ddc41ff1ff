"""mlpkit's knobs beyond scikit-learn's, each against its formula or documented behaviour."""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

import mlpkit
from mlpkit import engine, schedules
from mlpkit.activations import ACTIVATIONS, SELU_ALPHA, SELU_SCALE, leaky_relu
from mlpkit.losses import per_sample_loss

POINTS = np.array([-30.0, -2.0, -0.5, 0.0, 0.7, 3.0, 30.0])


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# Each activation's value and derivative, written the plain way.
FORMULAS = {
    "identity": (lambda x: x, lambda x: np.ones_like(x)),
    "logistic": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1), lambda x: np.where(x > 0, 1, np.exp(np.minimum(x, 0)))),
    "selu": (
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1)),
        lambda x: SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(np.minimum(x, 0))),
    ),
    "softplus": (lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0), sigmoid),
    "silu": (lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x)))),
    "exp": (np.exp, np.exp),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_activation_values_and_gradients_match_formulas(name):
    value, derivative = FORMULAS[name]
    x = POINTS if name != "exp" else POINTS[1:-1]
    with jax.enable_x64(True):
        f = ACTIVATIONS[name]
        np.testing.assert_allclose(f(x, np), value(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(f(jnp.asarray(x), jnp)), value(x), rtol=1e-12, atol=1e-12)
        grad = jax.vmap(jax.grad(lambda v: f(v, jnp)))(jnp.asarray(x))
        keep = x != 0  # relu and elu's kinks: either one-sided derivative is fine
        np.testing.assert_allclose(np.asarray(grad)[keep], derivative(x)[keep], rtol=1e-10, atol=1e-12)
        assert np.all(np.isfinite(np.asarray(grad)))


def test_gelu_is_the_tanh_approximation_and_close_to_the_exact_form():
    from scipy.special import erf

    x = POINTS[1:-1]
    exact = 0.5 * x * (1 + erf(x / math.sqrt(2)))
    np.testing.assert_allclose(ACTIVATIONS["gelu"](x, np), exact, atol=1e-3)
    with jax.enable_x64(True):
        np.testing.assert_allclose(ACTIVATIONS["gelu"](x, np), jax.nn.gelu(x, approximate=True), rtol=1e-12)


def test_leaky_relu_family_uses_its_slope():
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(leaky_relu(x, np, 0.1), [-0.2, 3.0])
    np.testing.assert_allclose(leaky_relu(x, np, np.array([0.5, 0.5])), [-1.0, 3.0])


# ------------------------------------------------------------------------- losses
Z = np.array([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 2.0]])


@pytest.mark.parametrize(
    "loss, out, expected",
    [
        ("squared_error", "identity", 0.5 * ((Z - Y) ** 2).sum(1)),
        ("absolute_error", "identity", np.abs(Z - Y).sum(1)),
        ("huber", "identity", np.where(np.abs(Z - Y) <= 1, 0.5 * (Z - Y) ** 2, np.abs(Z - Y) - 0.5).sum(1)),
        ("poisson", "exp", (np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / np.exp(Z)), 0) - Y + np.exp(Z)).sum(1)),
        ("squared_error", "logistic", 0.5 * ((sigmoid(Z) - Y) ** 2).sum(1)),
    ],
)
@pytest.mark.parametrize("xp", [np, jnp], ids=["numpy", "jax"])
def test_losses_match_formulas(loss, out, expected, xp):
    with jax.enable_x64(True):
        objective, _ = per_sample_loss(loss, out, xp.asarray(Z), xp.asarray(Y), 1.0, xp)
        assert isinstance(objective, np.ndarray if xp is np else jax.Array)
        np.testing.assert_allclose(np.asarray(objective), expected, rtol=1e-12)


@pytest.mark.parametrize("out", ["softmax", "logistic"])
def test_log_loss_gradient_is_output_minus_target(out):
    Y01 = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    with jax.enable_x64(True):
        grad = jax.grad(lambda z: per_sample_loss("log_loss", out, z, jnp.asarray(Y01), 1.0, jnp)[0].sum())(jnp.asarray(Z))
        np.testing.assert_allclose(np.asarray(grad), ACTIVATIONS[out](Z, np) - Y01, rtol=1e-12)


def test_huber_delta_changes_the_loss_and_the_fit():
    X, y = make_regression(n_samples=120, n_features=3, noise=5, random_state=0)
    y[:5] += 500  # outliers: huber must weigh them less than squared error
    fits = {
        loss: mlpkit.MLPRegressor(hidden_layer_sizes=(8,), loss=loss, max_iter=60, learning_rate_init=0.05, random_state=0, tol=0).fit(X, y)
        for loss in ["squared_error", "huber", "absolute_error"]
    }
    errors = {loss: np.median(np.abs(m.predict(X[5:]) - y[5:])) for loss, m in fits.items()}
    assert errors["huber"] < errors["squared_error"]
    assert errors["absolute_error"] < errors["squared_error"]


# ------------------------------------------------------------------- optimisers
X_TINY = np.array([[0.5, -1.0], [1.5, 0.3], [-0.2, 0.8], [1.0, 1.0]])
Y_TINY = np.array([0.3, -0.4, 1.2, 0.1])
W0 = [np.array([[0.2, -0.3, 0.4], [0.1, 0.5, -0.6]]), np.array([[0.3], [-0.2], [0.7]])]
B0 = [np.array([0.01, -0.02, 0.03]), np.array([0.05])]
LR, B1, B2, EPS, WD = 0.1, 0.8, 0.9, 1e-6, 0.5


def one_step(solver, **params):
    """Weights after one full-batch step of ``solver`` from W0, B0 (float64)."""
    params = {**dict(learning_rate_init=LR, beta_1=B1, beta_2=B2, epsilon=EPS), **params}
    model = mlpkit.MLPRegressor(
        hidden_layer_sizes=(3,), activation="tanh", solver=solver, alpha=0.0, batch_size=4, shuffle=False,
        max_iter=1, tol=0, dtype="float64", **params,
    )  # fmt: skip
    model.fit(X_TINY, Y_TINY)
    model.coefs_, model.intercepts_ = [w.copy() for w in W0], [b.copy() for b in B0]
    model.set_params(warm_start=True).fit(X_TINY, Y_TINY)
    return model.coefs_ + model.intercepts_


def gradient():
    """The gradient at W0, B0: minus one plain SGD step of rate 1 (SGD matches scikit-learn, see test_parity)."""
    after = one_step("sgd", momentum=0.0, learning_rate_init=1.0)
    return [before - now for before, now in zip(W0 + B0, after)]


# First steps from zero moments, by the papers' formulas (t = 1).
FIRST_STEP = {
    "adamw": lambda g, w, is_weight: -LR * (g / (np.abs(g) + EPS) + (WD * w if is_weight else 0)),
    "nadam": lambda g, w, is_weight: -LR * (g * (B1 / (1 + B1) + 1)) / (np.abs(g) + EPS),
    "adamax": lambda g, w, is_weight: -LR * g / (np.abs(g) + EPS),
    "rmsprop": lambda g, w, is_weight: -LR * g / np.sqrt((1 - B2) * g**2 + EPS),
    "adagrad": lambda g, w, is_weight: -LR * g / np.sqrt(0.1 + g**2 + EPS),
    "flucoma_sgd": lambda g, w, is_weight: -(1 - 0.9) * LR * g,
}


@pytest.mark.parametrize("solver", FIRST_STEP)
def test_one_optimiser_step_matches_its_formula(solver):
    params = {"weight_decay": WD} if solver == "adamw" else {}
    grads = gradient()
    after = one_step(solver, **params)
    for i, (g, w, new) in enumerate(zip(grads, W0 + B0, after)):
        expected = w + FIRST_STEP[solver](g, w, is_weight=i < 2)
        np.testing.assert_allclose(new, expected, rtol=1e-9, atol=1e-12)


def test_weight_decay_of_other_solvers_is_decoupled():
    grads = gradient()
    after = one_step("sgd", momentum=0.0, weight_decay=WD)
    for i, (g, w, new) in enumerate(zip(grads, W0 + B0, after)):
        np.testing.assert_allclose(new, w - LR * g - (LR * WD * w if i < 2 else 0), rtol=1e-9)


def test_l1_adds_its_subgradient():
    grads = gradient()
    after = one_step("sgd", momentum=0.0, l1=0.2)
    for i, (g, w, new) in enumerate(zip(grads, W0 + B0, after)):
        penalty = 0.2 * np.sign(w) / len(X_TINY) if i < 2 else 0
        np.testing.assert_allclose(new, w - LR * (g + penalty), rtol=1e-9)


def test_clipping_by_value_and_by_global_norm():
    grads = gradient()
    after = one_step("sgd", momentum=0.0, clip_value=0.05)
    for g, w, new in zip(grads, W0 + B0, after):
        np.testing.assert_allclose(new, w - LR * np.clip(g, -0.05, 0.05), rtol=1e-9)
    norm = math.sqrt(sum((g**2).sum() for g in grads))
    after = one_step("sgd", momentum=0.0, clip_norm=norm / 4)
    for g, w, new in zip(grads, W0 + B0, after):
        np.testing.assert_allclose(new, w - LR * g / 4, rtol=1e-9)


def test_any_optax_transformation_is_a_solver():
    import optax

    grads = gradient()
    after = one_step(optax.sgd(0.3))
    for g, w, new in zip(grads, W0 + B0, after):
        np.testing.assert_allclose(new, w - 0.3 * g, rtol=1e-9)


# -------------------------------------------------------------------- schedules
class H:
    lr_decay, lr_decay_epochs, lr_min, learning_rate_init, max_iter = 0.5, 2.0, 0.01, 0.1, 10.0


@pytest.mark.parametrize(
    "name, progress, expected",
    [
        ("exponential", [0, 1, 2, 4], [1, 0.5**0.5, 0.5, 0.25]),
        ("step", [0, 1.9, 2, 4.5], [1, 1, 0.5, 0.25]),
        # lr_min / lr = 0.1; half-way: 0.1 + 0.9 * (1 + cos(pi / 2)) / 2
        ("cosine", [0, 5, 10, 20], [1, 0.1 + 0.9 * 0.5, 0.1, 0.1]),
        ("one_cycle", [0, 3, 10], [1 / 25, 1, 1 / 25e4]),
    ],
)
def test_schedule_rates_match_their_formulas(name, progress, expected):
    """Rates relative to the base rate 0.1, at ``progress`` epochs (into training and into the cycle)."""
    at = [schedules.Position(*[jnp.asarray(p, jnp.float32)] * 2, samples=0.0) for p in progress]
    got = [float(schedules.RATES[name](H.learning_rate_init, position, H)) / H.learning_rate_init for position in at]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_schedules_give_the_documented_learning_rates_while_training():
    X, y = make_regression(n_samples=64, n_features=3, random_state=0)
    common = dict(hidden_layer_sizes=(4,), solver="adam", max_iter=6, learning_rate_init=0.1, tol=0, random_state=0)

    def rates(**params):
        return mlpkit.MLPRegressor(**{**common, **params}).fit(X, y / 100).learning_rate_curve_

    np.testing.assert_allclose(rates(learning_rate="step", lr_decay=0.5, lr_decay_epochs=2), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rtol=1e-6)
    np.testing.assert_allclose(rates(learning_rate="constant"), [0.1] * 6, rtol=1e-6)
    # a callable takes the optimiser's step count; 64 rows make one batch, one step per epoch
    np.testing.assert_allclose(rates(learning_rate=lambda step: 0.1 / (1 + step)), [0.1 / (1 + e) for e in range(6)], rtol=1e-6)
    # reduce_on_plateau: a tolerance no epoch can beat makes every epoch a plateau
    plateau = rates(learning_rate="reduce_on_plateau", lr_patience=2, lr_decay=0.5, tol=1e9, n_iter_no_change=100)
    np.testing.assert_allclose(plateau, [0.1, 0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


# ------------------------------------------------------- dropout and batch norm
X_CLS, Y_CLS = make_classification(n_samples=200, n_features=6, n_informative=4, random_state=0)


def manual_forward(model, X):
    h = X
    for i, (W, b) in enumerate(zip(model.coefs_[:-1], model.intercepts_[:-1])):
        z = h @ W + b
        if hasattr(model, "batch_norm_"):
            bn = model.batch_norm_
            z = (z - bn["mean"][i]) / np.sqrt(bn["var"][i] + 1e-5) * bn["scale"][i] + bn["shift"][i]
        h = np.maximum(z, 0)
    return h @ model.coefs_[-1] + model.intercepts_[-1]


def test_dropout_trains_differently_but_is_off_at_predict():
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0, dtype="float64")
    plain = mlpkit.MLPClassifier(**params).fit(X_CLS, Y_CLS)
    dropped = mlpkit.MLPClassifier(dropout=0.5, **params).fit(X_CLS, Y_CLS)
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])
    p = dropped.predict_proba(X_CLS)
    np.testing.assert_array_equal(p, dropped.predict_proba(X_CLS))
    np.testing.assert_allclose(p[:, 1], sigmoid(manual_forward(dropped, X_CLS)[:, 0]), rtol=1e-10)


def test_batch_norm_uses_running_statistics_at_predict():
    model = mlpkit.MLPClassifier(
        hidden_layer_sizes=(8,), batch_norm=True, batch_size=32, max_iter=100, random_state=0, dtype="float64"
    )
    model.fit(X_CLS * 10 + 3, Y_CLS)
    z = (X_CLS * 10 + 3) @ model.coefs_[0] + model.intercepts_[0]
    # running averages follow the (moving) batch statistics of the pre-activations
    np.testing.assert_allclose(model.batch_norm_["mean"][0], z.mean(0), rtol=0.2, atol=0.5)
    p = model.predict_proba(X_CLS * 10 + 3)[:, 1]
    np.testing.assert_allclose(p, sigmoid(manual_forward(model, X_CLS * 10 + 3)[:, 0]), rtol=1e-10)
    assert model.score(X_CLS * 10 + 3, Y_CLS) > 0.8
    assert model.n_parameters_ == sum(a.size for a in model.coefs_ + model.intercepts_) + 2 * 8


@pytest.mark.parametrize("activation", ["prelu", "rrelu", "leaky_relu", "selu", "gelu", "elu", "softplus", "swish"])
def test_every_activation_trains(activation):
    params = dict(alpha_dropout=True, dropout=0.1) if activation == "selu" else {}
    model = mlpkit.MLPClassifier(
        hidden_layer_sizes=(16,), activation=activation, learning_rate_init=0.01, max_iter=60, random_state=0, **params
    )
    model.fit(X_CLS, Y_CLS)
    assert model.score(X_CLS, Y_CLS) > 0.75  # balanced classes: chance is 0.5, relu reaches ~0.9
    if activation == "prelu":
        assert not np.allclose(model.prelu_slopes_[0], 0.25)  # the slopes learned


@pytest.mark.parametrize("init", ["glorot_normal", "he_uniform", "lecun_normal", "kaiming_normal", "xavier_uniform"])
def test_initialisers_draw_with_their_variance(init):
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(400,), init=init, max_iter=1, learning_rate_init=1e-12, random_state=0)
    model.fit(np.random.RandomState(0).rand(20, 300), np.zeros(20))
    fan_in, fan_out = 300, 400
    fan = {"glorot": (fan_in + fan_out) / 2, "xavier": (fan_in + fan_out) / 2}.get(init.split("_")[0], fan_in)
    scale = 2.0 if init.split("_")[0] in ("he", "kaiming") else 1.0
    assert np.var(model.coefs_[0]) == pytest.approx(scale / fan, rel=0.05)
    assert np.abs(model.intercepts_[0]).max() < 1e-9  # zero, give or take the one tiny step


def test_selu_defaults_to_lecun_normal():
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(400,), activation="selu", max_iter=1, learning_rate_init=1e-12, random_state=0)
    model.fit(np.random.RandomState(0).rand(20, 300), np.zeros(20))
    assert np.var(model.coefs_[0]) == pytest.approx(1 / 300, rel=0.05)


# ---------------------------------------------------------------- early stopping
def test_early_stopping_on_validation_loss_keeps_the_best_weights():
    model = mlpkit.MLPClassifier(
        hidden_layer_sizes=(64,), early_stopping=True, early_stopping_monitor="loss", n_iter_no_change=3,
        learning_rate_init=0.05, max_iter=300, random_state=0, dtype="float64",
    )  # fmt: skip
    model.fit(X_CLS, Y_CLS)
    curve = model.validation_loss_curve_
    assert len(curve) == len(model.loss_curve_) == model.n_iter_ < 300
    best = int(np.argmin(curve))
    assert best < model.n_iter_ - 3  # it went on n_iter_no_change epochs past the best, then stopped
    # The kept weights are the best epoch's: on the validation rows (scikit-learn's split,
    # drawn after the initial weights from the same RandomState) they give the lowest loss.
    rng = np.random.RandomState(0)
    for shape in [(6, 64), (64,), (64, 1), (1,)]:
        rng.uniform(size=shape)
    stratify = Y_CLS.reshape(-1, 1).astype(bool)
    _, X_val, _, y_val = train_test_split(X_CLS, Y_CLS, random_state=rng, test_size=0.1, stratify=stratify)
    assert log_loss(y_val, model.predict_proba(X_val)) == pytest.approx(curve[best], rel=1e-9)


# ------------------------------------------------------ changing knobs between fits
def test_non_structural_changes_keep_weights_and_optimiser_state_and_do_not_recompile():
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    y = y / y.std()
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(12,), dropout=0.1, l1=1e-4, max_iter=5, random_state=0, warm_start=True)
    model.fit(X, y)
    compiled = engine.compiled_programs()
    steps_before = int(model._state.opt_state.inner_state.count)
    last_loss = model.loss_curve_[-1]
    model.set_params(learning_rate_init=0.002, dropout=0.2, alpha=0.01, l1=1e-3, max_iter=7, beta_1=0.85, tol=1e-5)
    model.fit(X, y)
    assert engine.compiled_programs() == compiled
    assert int(model._state.opt_state.inner_state.count) == steps_before + 7 * 2
    assert model.loss_curve_[5] < 2 * last_loss  # continued, not restarted from random weights
    assert len(model.loss_curve_) == 12


def test_new_batch_size_keeps_weights_and_optimiser_state():
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(12,), max_iter=2, random_state=0, warm_start=True).fit(X, y)
    weights, steps = model.coefs_[0], int(model._state.opt_state.count)
    model.set_params(batch_size=50, max_iter=1).fit(X, y)
    assert int(model._state.opt_state.count) == steps + 6
    assert np.abs(model.coefs_[0] - weights).max() < 0.05


@pytest.mark.parametrize(
    "change", [dict(hidden_layer_sizes=(7,)), dict(activation="tanh"), dict(batch_norm=True)], ids=str
)
def test_structural_changes_reset_the_network(change):
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    model = mlpkit.MLPRegressor(hidden_layer_sizes=(6,), max_iter=3, random_state=0, warm_start=True).fit(X, y)
    with pytest.warns(UserWarning, match="structure changed"):
        model.set_params(max_iter=1, **change).fit(X, y)
    assert len(model.loss_curve_) == 1  # a new history
    assert model.coefs_[0].shape[1] == change.get("hidden_layer_sizes", (6,))[0]


# ------------------------------------------------------------------ bad settings
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(init="bogus"), "'init' parameter .* must be None or a str among .*glorot_uniform"),
        (dict(out_activation="bogus"), "'out_activation' parameter .* must be None or a str among .*softmax"),
        (dict(loss="bogus"), "'loss' parameter .* must be a str among .*log_loss"),
        (dict(dropout=[0.1, 0.2]), r"one such rate per hidden layer \(1\)"),
        (dict(dropout=1.0), "'dropout' parameter"),
        (dict(solver="lbfgs", dropout=0.2), "need a stochastic solver"),
        (dict(alpha_dropout=True), "use it with activation='selu'"),
        (dict(out_activation="tanh"), "does not give probabilities"),
        (dict(clip_norm=0), "'clip_norm' parameter"),
        (dict(early_stopping_monitor="accuracy"), "'early_stopping_monitor' parameter"),
    ],
    ids=str,
)
def test_bad_knob_values_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        mlpkit.MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, **params).fit(X_CLS, Y_CLS)


# --------------------------------------------------------------- reproducibility
def test_same_seed_is_bit_identical_with_every_source_of_randomness():
    params = dict(hidden_layer_sizes=(10, 6), activation="rrelu", dropout=[0.2, 0.1], early_stopping=True,
                  validation_fraction=0.2, max_iter=8, random_state=3)  # fmt: skip
    a = mlpkit.MLPClassifier(**params).fit(X_CLS, Y_CLS)
    b = mlpkit.MLPClassifier(**params).fit(X_CLS, Y_CLS)
    c = mlpkit.MLPClassifier(**{**params, "random_state": 4}).fit(X_CLS, Y_CLS)
    np.testing.assert_array_equal(a.predict_proba(X_CLS), b.predict_proba(X_CLS))
    assert a.loss_curve_ == b.loss_curve_
    assert a.loss_curve_ != c.loss_curve_


def test_summed_squared_error_is_flucomas_loss_not_the_half_mean():
    """FluCoMa's loss sums (pred - y)^2 over outputs; scikit-learn's squared_error reports half its mean:
    on the same starting weights the first epoch's losses differ by 2 x outputs, and it trains otherwise."""
    rng = np.random.RandomState(0)
    X, Y = rng.rand(40, 3), rng.rand(40, 2)
    common = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, batch_size=40, shuffle=False,
                  max_iter=2, tol=0.0, random_state=0, dtype="float64", learning_rate_init=0.1, alpha=0.0)
    half = mlpkit.MLPRegressor(loss="squared_error", **common).fit(X, Y)
    summed = mlpkit.MLPRegressor(loss="summed_squared_error", **common).fit(X, Y)
    assert summed.loss_curve_[0] == pytest.approx(2 * 2 * half.loss_curve_[0], rel=1e-12)
    assert not np.allclose(summed.coefs_[0], half.coefs_[0])  # twice the gradient (times outputs), other steps
