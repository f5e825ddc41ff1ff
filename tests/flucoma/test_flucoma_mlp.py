"""FluCoMa-style MLPs: FluCoMa's files, parameters and re-fitting habits (their training rules: test_flucoma_training)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit import flucoma as fl
from mlpkit.flucoma import _small

DATA = Path(__file__).parent.parent / "data" / "flucoma"


def read(name):
    return (fl.LabelSet if "labelset" in name else fl.DataSet).read(DATA / name)


XYS, CHORDS = read("xys-dataset.json"), read("chords-dataset.json")
RNG = np.random.RandomState(0)
SQUARE = fl.DataSet.from_numpy([f"p{i}" for i in range(40)], RNG.rand(40, 2))
TARGET = fl.DataSet.from_numpy(SQUARE.ids, np.c_[SQUARE.to_numpy()[1].sum(1), np.sin(3 * SQUARE.to_numpy()[1][:, 0])])


# ------------------------------------------------------------------ real files
def test_xys_to_chords_model_reproduces_its_chords():
    model = fl.MLPRegressor().read(DATA / "xys-to-chords-regressor.json")
    predicted = model.predict(XYS)
    assert predicted.ids == XYS.ids
    for identifier in XYS.ids:
        # FluCoMa's own training left up to 1.3e-3 between the model and its targets (see test_flucoma_model)
        np.testing.assert_allclose(predicted.get_point(identifier), CHORDS.get_point(identifier), atol=1.5e-3)
    np.testing.assert_allclose(model.predict_point(XYS.get_point(XYS.ids[0])), predicted.get_point(XYS.ids[0]))


def test_written_model_is_the_file_read():
    model = fl.MLPRegressor().read(DATA / "xys-to-chords-regressor.json")
    assert model.to_dict() == json.loads((DATA / "xys-to-chords-regressor.json").read_text())
    assert (model.hidden_layers, model.activation, model.output_activation) == ([8], 1, 1)


def test_trombone_autoencoder_taps_give_the_latent_point_and_decode_it():
    model = fl.MLPRegressor().read(DATA / "trombone-autoencoder-regressor.json")
    x = np.random.RandomState(1).rand(3, model.layers[0].weights.shape[0])
    full = model.predict(x)
    model.set_params(tap_out=3)
    latent = model.predict(x)
    assert latent.shape == (3, 2)
    model.set_params(tap_in=3, tap_out=-1)
    np.testing.assert_allclose(model.predict(latent), full, rtol=1e-12)
    model.set_params(tap_in=9)
    with pytest.raises(ValueError, match="tap"):
        model.predict(x)


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_hand_made_two_layer_models_predict_by_hand(code, tmp_path):
    act = {0: lambda v: v, 1: lambda v: 1 / (1 + np.exp(-v)), 2: lambda v: np.maximum(v, 0), 3: np.tanh}[code]
    spec = {"layers": [
        {"activation": code, "biases": [0.1, -0.2], "cols": 2, "rows": 2, "weights": [[0.5, -1.0], [2.0, 0.25]]},
        {"activation": 0, "biases": [0.3], "cols": 1, "rows": 2, "weights": [[1.5], [-0.5]]},
    ]}  # fmt: skip
    (tmp_path / "m.json").write_text(json.dumps(spec))
    model = fl.MLPRegressor().read(tmp_path / "m.json")
    x = np.array([0.4, -0.7])
    hidden = act(np.array([0.4 * 0.5 - 0.7 * 2.0 + 0.1, 0.4 * -1.0 - 0.7 * 0.25 - 0.2]))
    assert model.predict_point(x)[0] == pytest.approx(hidden @ [1.5, -0.5] + 0.3, rel=1e-12)


# ----------------------------------------------------------- FluCoMa's habits
def test_fit_returns_flucoma_error_and_continues():
    model = fl.MLPRegressor(hidden_layers=[6], validation=0, random_state=0, max_iter=50, learn_rate=0.1)
    first = model.fit(SQUARE, TARGET)
    ids, X = SQUARE.to_numpy()
    Y = np.array([TARGET.get_point(i) for i in ids])
    assert first == pytest.approx(((model.predict(X) - Y) ** 2).sum() / len(X))
    second = model.fit(SQUARE, TARGET)
    assert second < first


def test_two_fits_of_50_epochs_are_one_of_100():
    """The second fit carries on the weights and the momentum (40 points, batches of 50: one full batch per
    epoch, whose shuffle only reorders sums; each fit draws its shuffles from its own stream)."""
    params = dict(hidden_layers=[6], validation=0, random_state=0, learn_rate=0.1)
    long = fl.MLPRegressor(max_iter=100, **params).fit(SQUARE, TARGET)
    split = fl.MLPRegressor(max_iter=50, **params)
    split.fit(SQUARE, TARGET)
    assert split.fit(SQUARE, TARGET) == pytest.approx(long, rel=1e-9)


def test_a_loop_of_small_fits_compiles_once():
    """After the first fit, later fits (new learning rates, momentum carried on) compile nothing: numba's
    kernels keep the signatures they have."""
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=10, random_state=0)
    model.fit(SQUARE, TARGET)
    kernels = (_small.train, _small.loss)
    compiled = [len(kernel.signatures) for kernel in kernels]
    for lr in (0.01, 0.02, 0.005):
        model.learn_rate = lr
        model.fit(SQUARE, TARGET)
    assert [len(kernel.signatures) for kernel in kernels] == compiled


@pytest.mark.parametrize(
    "change", [dict(learn_rate=0.001), dict(momentum=0.2), dict(batch_size=7), dict(max_iter=3), dict(validation=0.0)],
    ids=lambda c: next(iter(c)),
)
def test_training_parameters_change_without_a_reset(change):
    # (FluCoMa's step at 0.025 is the half squared error's at 0.05, which this test was written for)
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=30, random_state=0, learn_rate=0.025)
    model.fit(SQUARE, TARGET)
    network, before = model.network_, [W.copy() for W in model.network_.coefs_]
    model.set_params(**change)
    model.learn_rate = 1e-9  # only the momentum carried over moves the weights, a little: no new random start
    model.fit(SQUARE, TARGET)
    assert model.network_ is network
    for W, W0 in zip(model.network_.coefs_, before):
        np.testing.assert_allclose(W, W0, atol=0.05)


@pytest.mark.parametrize(
    "change", [dict(hidden_layers=[4]), dict(activation=3), dict(output_activation=1), "width"], ids=str
)
def test_structural_changes_reset(change):
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=30, random_state=0, learn_rate=0.05)
    model.fit(SQUARE, TARGET)
    before = model.network_.coefs_[0].copy()
    source = SQUARE
    if change == "width":
        ids, X = SQUARE.to_numpy()
        source = fl.DataSet.from_numpy(ids, np.c_[X, X[:, :1]])
    else:
        model.set_params(**change)
    model.learn_rate = 1e-9
    model.fit(source, TARGET)
    after = model.network_.coefs_[0]
    assert after.shape != before.shape or np.abs(after - before).max() > 0.05


def test_clear_starts_a_new_network():
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=5)
    model.fit(SQUARE, TARGET)
    model.clear()
    with pytest.raises(RuntimeError, match="no network yet"):
        model.predict(SQUARE)


def test_divergence_warns_returns_minus_one_and_keeps_the_model():
    model = fl.MLPRegressor(hidden_layers=[5], max_iter=20, random_state=0, validation=0)
    model.fit(SQUARE, TARGET)
    before = model.predict(SQUARE.to_numpy()[1])
    curve = list(model.network_.loss_curve_)
    model.learn_rate = 1e12
    with pytest.warns(RuntimeWarning, match="diverged"):
        assert model.fit(SQUARE, TARGET) == -1.0
    np.testing.assert_array_equal(model.predict(SQUARE.to_numpy()[1]), before)
    assert model.network_.loss_curve_ == curve  # the diverged fit's epochs are gone from the history too


def test_mismatched_identifiers_are_named():
    target = fl.DataSet.from_numpy(["p0", "elsewhere"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="elsewhere"):
        fl.MLPRegressor().fit(SQUARE, target)


@pytest.mark.parametrize("params, match", [(dict(activation=7), "activation"), (dict(validation=1.0), "validation"),
                                           (dict(batch_size=0), "batch_size"), (dict(output_activation="softmax"), "output_activation")])  # fmt: skip
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        fl.MLPRegressor(**params).fit(SQUARE, TARGET)


# ------------------------------------------------------------------ classifier
def test_timbre_classifier_learns_bass_from_music_box(capsys):
    data, labels = read("timbre-dataset.json"), read("timbre-labelset.json")
    scaled = fl.Standardize().fit_transform(data)
    ids = np.array(scaled.ids)
    test = set(np.random.RandomState(0).choice(ids, len(ids) // 5, replace=False))
    train_ids = [i for i in ids if i not in test]
    subset = lambda s, keep: s.__class__.from_numpy(keep, [s.get_point(i) for i in keep])  # noqa: E731
    model = fl.MLPClassifier(hidden_layers=[8], max_iter=100, learn_rate=0.1, momentum=0.9, random_state=0)
    model.fit(subset(scaled, train_ids), subset(labels, train_ids))
    test_ids = sorted(test)
    predicted = model.predict(subset(scaled, test_ids))
    accuracy = np.mean([predicted.get_point(i) == labels.get_point(i) for i in test_ids])
    with capsys.disabled():
        print(f"\ntimbre held-out accuracy: {accuracy:.3f} on {len(test_ids)} points")
    assert accuracy > 0.9
    assert model.labels_ == labels.unique_labels()
    np.testing.assert_allclose(model.predict_proba(subset(scaled, test_ids)).sum(1), 1)


def test_classifier_file_round_trip(tmp_path):
    X = RNG.rand(30, 3)
    labels = np.array(["kick", "snare", "hat"])[(X[:, 0] * 3).astype(int)]
    model = fl.MLPClassifier(hidden_layers=[4], max_iter=20, random_state=0)
    model.fit(X, labels)
    model.write(tmp_path / "c.json")
    again = fl.MLPClassifier().read(tmp_path / "c.json")
    assert again.labels_ == model.labels_ == ["kick", "snare", "hat"][: len(model.labels_)] or again.labels_ == model.labels_
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert again.to_dict() == model.to_dict()


# ------------------------------------------------------- core models to FluCoMa
def test_core_regressor_exports_and_predicts_the_same(tmp_path):
    X = RNG.rand(50, 3)
    core = mlpkit.MLPRegressor(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=20, random_state=0, dtype="float64")
    core.fit(X, X.sum(1))
    fl.write_model(core, tmp_path / "r.json")
    model = fl.MLPRegressor().read(tmp_path / "r.json")
    np.testing.assert_allclose(model.predict(X)[:, 0], core.predict(X), rtol=1e-12)


def test_core_models_flucoma_cannot_express_are_refused_by_layer():
    X = RNG.rand(50, 3)
    gelu = mlpkit.MLPRegressor(hidden_layer_sizes=(4,), activation="gelu", max_iter=2).fit(X, X.sum(1))
    with pytest.raises(ValueError, match="layer 0 uses activation 'gelu'"):
        fl.to_flucoma_dict(gelu)
    softmax = mlpkit.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, (X[:, 0] * 3).astype(int))
    with pytest.raises(ValueError, match="layer 1 uses activation 'softmax'"):
        fl.to_flucoma_dict(softmax)
    binary = mlpkit.MLPClassifier(hidden_layer_sizes=(4,), loss="squared_error", max_iter=2).fit(X, X[:, 0] > 0.5)
    with pytest.raises(ValueError, match="one sigmoid output per label"):
        fl.to_flucoma_dict(binary)
    sigmoid = mlpkit.MLPClassifier(hidden_layer_sizes=(4,), loss="squared_error", max_iter=2)
    sigmoid.fit(X, (X[:, 0] * 3).astype(int))
    assert fl.to_flucoma_dict(sigmoid)["labels"]["labels"] == ["0", "1", "2"]


def test_refitting_sees_points_changed_since_the_last_fit():
    """The pairing of a DataSet is reused between fits only while neither set changed."""
    source = fl.DataSet.from_numpy(SQUARE.ids, SQUARE.to_numpy()[1])
    target = fl.DataSet.from_numpy(TARGET.ids, TARGET.to_numpy()[1])
    model = fl.MLPRegressor(hidden_layers=[4], validation=0, random_state=0, max_iter=5)
    model.fit(source, target)
    changes = [
        lambda: target.update_point("p0", [50.0, -50.0]),
        lambda: source.set_point("p1", [9.0, 9.0]),
        lambda: (source.delete_point("p2"), target.delete_point("p2")),
        lambda: (source.add_point("new", [0.5, 0.5]), target.add_point("new", [1.0, 0.0])),
    ]
    for change in changes:
        change()
        error = model.fit(source, target)
        ids, X = source.to_numpy()
        Y = np.array([target.get_point(i) for i in ids])
        assert error == pytest.approx(((model.predict(X) - Y) ** 2).sum() / len(X))  # FluCoMa's error on the new data
    target.clear()
    with pytest.raises(ValueError, match="same identifiers"):
        model.fit(source, target)


def test_fitting_arrays_leaves_them_writable():
    X, Y = SQUARE.to_numpy()[1].copy(), TARGET.to_numpy()[1].copy()
    fl.MLPRegressor(hidden_layers=[4], validation=0, random_state=0, max_iter=2).fit(X, Y)
    assert X.flags.writeable and Y.flags.writeable


def test_pickles_hold_the_model_not_the_training_data():
    import pickle

    model = fl.MLPRegressor(hidden_layers=[4], validation=0, random_state=0, max_iter=3)
    model.fit(SQUARE, TARGET)
    copy = pickle.loads(pickle.dumps(model))
    assert "_paired" in vars(model) and "_paired" not in vars(copy)
    np.testing.assert_array_equal(copy.predict(SQUARE.to_numpy()[1]), model.predict(SQUARE.to_numpy()[1]))
    assert copy.fit(SQUARE, TARGET) >= 0  # and it trains on from there


def test_refits_with_one_output_are_silent():
    """A live loop refits again and again: after the first fit (which may advise on data size), nothing warns."""
    X = SQUARE.to_numpy()[1]
    one_output = fl.DataSet.from_numpy(SQUARE.ids, X.sum(1, keepdims=True))
    model = fl.MLPRegressor(hidden_layers=[3], max_iter=5, validation=0.2, random_state=0)
    model.fit(SQUARE, one_output)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            model.fit(SQUARE, one_output)


def test_a_live_loop_keeps_a_bounded_history(monkeypatch):
    """Curves grow in place (copying a long history on every fit made each fit slower than the last) and
    keep the most recent epochs once they reach twice the bound."""
    monkeypatch.setattr(fl.mlp, "HISTORY_EPOCHS", 30)
    model = fl.MLPRegressor(hidden_layers=[3], max_iter=10, validation=0, random_state=0)
    model.fit(SQUARE, TARGET)
    curve = model.network_.loss_curve_
    lengths = []
    for _ in range(8):
        model.fit(SQUARE, TARGET)
        assert model.network_.loss_curve_ is curve
        lengths.append(len(curve))
    assert lengths == [20, 30, 40, 50, 60, 30, 40, 50]
    assert len(model.network_.learning_rate_curve_) == len(curve)
