"""Every address of the OSC server, through python-osc, against the FluCoMa estimators used directly."""

import numpy as np
import pytest
from osc_helpers import add_points, as_sent, fit

from mlpkit import flucoma, io, osc
from mlpkit.osc.client import Client

RNG = np.random.default_rng(7)
X = RNG.uniform(-1, 1, (40, 2))
Y = np.column_stack([np.tanh(X[:, 0] + X[:, 1]), X[:, 0] * X[:, 1]])
LABELS = np.where(X[:, 0] > X[:, 1], "up", "down")


def new_regressor(client, name="pad", hidden=(4,), **settings):
    assert client.ask("/mlp/create", name, "regressor", *hidden, reply="/mlp/created") == ("/mlp/created", [name])
    for param, value in {"inputs": 2, "seed": 0, "maxIter": 30, "validation": 0, **settings}.items():
        address, args = client.ask("/mlp/set", name, param, value)
        assert address == "/mlp/set", args


def direct_data():
    ids = [f"p{i}" for i in range(len(X))]
    return flucoma.DataSet.from_numpy(ids, as_sent(X)), flucoma.DataSet.from_numpy(ids, as_sent(Y))


def test_a_served_regressor_trains_as_the_estimator_does_and_resets_on_structure(client, tmp_path):
    new_regressor(client)
    add_points(client, "pad", X, Y)
    direct = flucoma.MLPRegressor(hidden_layers=[4], random_state=0, max_iter=30, validation=0)
    source, target = direct_data()

    errors = [fit(client, "pad"), fit(client, "pad")]
    assert errors == pytest.approx([direct.fit(source, target), direct.fit(source, target)], rel=1e-6)
    assert errors[1] < errors[0]

    # learnRate changes between fits and training goes on (no reset), as in FluCoMa
    client.ask("/mlp/set", "pad", "learnRate", 0.05)
    direct.set_params(learn_rate=0.05)
    assert fit(client, "pad") == pytest.approx(direct.fit(source, target), rel=1e-6)

    x = [0.25, -0.5]
    address, args = client.ask("/mlp/predict", "pad", *x)
    assert address == "/mlp/predict" and args[0] == "pad"
    np.testing.assert_allclose(args[1:], direct.predict_point(as_sent(x)), rtol=1e-5, atol=1e-6)

    # hiddenLayers is structural: the next fit starts a new network of the new shape
    assert client.ask("/mlp/set", "pad", "hiddenLayers", 3, 2) == ("/mlp/set", ["pad", "hiddenLayers", 3, 2])
    direct.set_params(hidden_layers=[3, 2])
    assert fit(client, "pad") == pytest.approx(direct.fit(source, target), rel=1e-6)
    path = tmp_path / "pad.json"
    assert client.ask("/mlp/write", "pad", str(path), reply="/mlp/written") == ("/mlp/written", ["pad", str(path)])
    written = flucoma.MLPRegressor().read(path)
    assert [layer.weights.shape for layer in written.layers] == [(2, 3), (3, 2), (2, 2)]
    # (float64 both; a fit heard by callbacks runs in chunks, whose sums round differently: ~1e-8)
    np.testing.assert_allclose(written.predict_point(x), direct.predict_point(x), rtol=1e-6)


def test_a_served_classifier_takes_labels_as_symbols_or_numbers(client):
    assert client.ask("/mlp/create", "drum", "classifier", 4, reply="/mlp/created") == ("/mlp/created", ["drum"])
    for param, value in (("seed", 1), ("maxIter", 40), ("validation", 0)):
        client.ask("/mlp/set", "drum", param, value)
    add_points(client, "drum", X, LABELS)
    direct = flucoma.MLPClassifier(hidden_layers=[4], random_state=1, max_iter=40, validation=0)
    ids = [f"p{i}" for i in range(len(X))]
    expected = direct.fit(flucoma.DataSet.from_numpy(ids, as_sent(X)), flucoma.LabelSet.from_numpy(ids, LABELS))
    assert fit(client, "drum") == pytest.approx(expected, rel=1e-6)
    for x in X[:5]:
        assert client.ask("/mlp/predict", "drum", *x) == ("/mlp/predict", ["drum", direct.predict_point(as_sent(x))])
    # Pure Data sends every number as a float: the label 2.0 is "2", as is the identifier 7.0
    assert client.ask("/mlp/point", "drum", 7.0, 0.1, 0.2, 2.0, reply="/mlp/points") == ("/mlp/points", ["drum", 41])
    assert client.ask("/mlp/get", "drum", "hiddenLayers") == ("/mlp/get", ["drum", "hiddenLayers", 4])


def test_set_and_get_take_flucoma_and_python_names_and_echo_what_applies(client):
    new_regressor(client)
    cases = [
        (("hiddenLayers", 8.0, 4), ["hiddenLayers", 8, 4]),
        (("activation", "tanh"), ["activation", 3]),
        (("outputActivation", 1), ["outputActivation", 1]),
        (("learn_rate", 0.5), ["learn_rate", 0.5]),
        (("batchSize", 16.0), ["batchSize", 16]),
        (("momentum", 0.5), ["momentum", 0.5]),
        (("tapOut", -1), ["tapOut", -1]),
        (("seed", -1), ["seed", "none"]),
        (("progress", 10), ["progress", 10]),
    ]
    for args, echoed in cases:
        assert client.ask("/mlp/set", "pad", *args) == ("/mlp/set", ["pad", *echoed])
    assert client.ask("/mlp/get", "pad", "hiddenLayers") == ("/mlp/get", ["pad", "hiddenLayers", 8, 4])
    assert client.ask("/mlp/get", "pad", "learnRate") == ("/mlp/get", ["pad", "learnRate", 0.5])
    assert client.ask("/mlp/get", "pad", "activation") == ("/mlp/get", ["pad", "activation", 3])
    assert client.ask("/mlp/get", "pad", "inputs") == ("/mlp/get", ["pad", "inputs", 2])


def test_points_clear_reset_delete_and_models(client):
    new_regressor(client)
    add_points(client, "pad", X[:10], Y[:10])
    # the same identifier again replaces its point
    assert client.ask("/mlp/point", "pad", "p0", 0.0, 0.0, 1.0, 1.0, reply="/mlp/points") == ("/mlp/points", ["pad", 10])
    fit(client, "pad")
    assert client.ask("/mlp/clear", "pad", reply="/mlp/points") == ("/mlp/points", ["pad", 0])
    assert client.ask("/mlp/predict", "pad", 0.0, 0.0)[0] == "/mlp/predict"  # the network stays
    assert client.ask("/mlp/reset", "pad") == ("/mlp/reset", ["pad"])
    address, args = client.ask("/mlp/predict", "pad", 0.0, 0.0)
    assert address == "/mlp/error" and "no trained network" in args[1]
    new_regressor(client, "other")
    assert client.ask("/mlp/models") == ("/mlp/models", ["other", "pad"])
    assert client.ask("/mlp/delete", "other", reply="/mlp/deleted") == ("/mlp/deleted", ["other"])
    assert client.ask("/mlp/models") == ("/mlp/models", ["pad"])


def test_datasets_labelsets_and_model_files_load_from_paths(client, tmp_path):
    source, target = direct_data()
    source.write(tmp_path / "in.json")
    target.write(tmp_path / "out.json")
    flucoma.LabelSet.from_numpy(source.ids, LABELS).write(tmp_path / "labels.json")
    new_regressor(client)
    assert client.ask("/mlp/dataset", "pad", str(tmp_path / "in.json"), reply="/mlp/points") == ("/mlp/points", ["pad", 0])
    assert client.ask("/mlp/targets", "pad", str(tmp_path / "out.json"), reply="/mlp/points") == ("/mlp/points", ["pad", 40])
    direct = flucoma.MLPRegressor(hidden_layers=[4], random_state=0, max_iter=30, validation=0)
    assert fit(client, "pad") == pytest.approx(direct.fit(source, target), rel=1e-6)
    address, args = client.ask("/mlp/labelset", "pad", str(tmp_path / "labels.json"), reply="/mlp/points")
    assert address == "/mlp/error" and "/mlp/targets" in args[1]

    # a model file written elsewhere (FluCoMa JSON, or mlpkit's own format) replaces the network
    direct.write(tmp_path / "model.json")
    io.save(direct, tmp_path / "model.mlpkit")
    for path in (tmp_path / "model.json", tmp_path / "model.mlpkit"):
        new_regressor(client, "copy")
        assert client.ask("/mlp/read", "copy", str(path)) == ("/mlp/read", ["copy", str(path)])
        address, args = client.ask("/mlp/predict", "copy", 0.5, 0.5)
        np.testing.assert_allclose(args[1:], direct.predict_point(as_sent([0.5, 0.5])), rtol=1e-5)
    client.ask("/mlp/create", "drum", "classifier", reply="/mlp/created")
    address, args = client.ask("/mlp/read", "drum", str(tmp_path / "model.json"))
    assert address == "/mlp/error" and "expected exactly ['labels', 'mlp']" in args[1]
    address, args = client.ask("/mlp/read", "drum", str(tmp_path / "model.mlpkit"))
    assert address == "/mlp/error" and "drum is a classifier; this file holds a regressor" in args[1]


def _error(client, *message):
    address, args = client.ask(*message, reply="/mlp/error")
    assert address == "/mlp/error", args
    return args


#: (message, words the error must contain)
ERRORS = [
    (("/mlp/predict", "nobody", 1.0), ["no model 'nobody'", "/mlp/create nobody"]),
    (("/mlp/fit", 3.0), ["first argument is the model's name", "usage: /mlp/fit NAME"]),
    (("/mlp/create", "x", "perceptron"), ["regressor or classifier"]),
    (("/mlp/create", "../evil", "regressor"), ["cannot name a model"]),
    (("/mlp/create", "x", "regressor", 0), ["at least 1"]),
    (("/mlp/set", "pad", "nonsense", 1), ["unknown parameter 'nonsense'", "learnRate"]),
    (("/mlp/set", "pad", "learnRate", 0.0), ["learnRate must be greater than 0"]),
    (("/mlp/set", "pad", "learnRate", "fast"), ["learnRate must be a finite number"]),
    (("/mlp/set", "pad", "momentum", 2.0), ["momentum must be in [0.0, 1.0]"]),
    (("/mlp/set", "pad", "validation", 1.0), ["validation must be in [0.0, 1.0)"]),
    (("/mlp/set", "pad", "maxIter", 1.5), ["maxIter must be a whole number"]),
    (("/mlp/set", "pad", "maxIter", 1, 2), ["maxIter takes one value, got 2"]),
    (("/mlp/set", "pad", "hiddenLayers", 4, -1), ["at least 1"]),
    (("/mlp/set", "pad", "activation", 7), ["0 identity, 1 sigmoid, 2 relu, 3 tanh"]),
    (("/mlp/set", "pad", "tapOut", 0), ["tapOut must be -1"]),
    (("/mlp/set", "pad", "inputs", 5), ["have 2 inputs", "/mlp/clear pad"]),
    (("/mlp/set", "pad"), ["expected a parameter name"]),
    (("/mlp/get", "pad", "nonsense"), ["unknown parameter 'nonsense'"]),
    (("/mlp/point", "pad", "q", 1.0, 2.0), ["takes 2 input value(s) and at least one target"]),
    (("/mlp/point", "pad", "q", 1.0, 2.0, 3.0), ["has 1 targets, but pad's points have 2"]),
    (("/mlp/point", "pad", "q", 1.0, "two", 3.0, 4.0), ["finite numbers; value 2 is 'two'"]),
    (("/mlp/predict", "pad", 1.0), ["1 features", "2"]),
    (("/mlp/predict", "pad", 1.0, "x"), ["finite numbers"]),
    (("/mlp/write", "pad", "model.txt"), ["end in .json"]),
    (("/mlp/write", "pad"), ["one file path"]),
    (("/mlp/read", "pad", "/nonexistent/model.json"), ["/nonexistent/model.json"]),
    (("/mlp/dataset", "pad", "/nonexistent/data.json"), ["/nonexistent/data.json"]),
    (("/mlp/nonsense", "pad"), ["unknown address /mlp/nonsense", "/mlp/predict"]),
    (("/other/thing",), ["unknown address /other/thing"]),
]


def test_every_mistake_gets_one_clear_error_and_changes_nothing(client, console):
    new_regressor(client)
    add_points(client, "pad", X[:20], Y[:20])
    fit(client, "pad")
    before = client.ask("/mlp/predict", "pad", 0.1, 0.2)
    for message, words in ERRORS:
        name, text = _error(client, *message)
        assert name == (message[1] if len(message) > 1 and isinstance(message[1], str) else ""), message
        assert "\n" not in text and len(text) < 500
        for word in words:
            assert word in text, (message, text)
    assert client.ask("/mlp/predict", "pad", 0.1, 0.2) == before
    address, args = client.ask("/mlp/get", "pad", "learnRate")
    assert args[:2] == ["pad", "learnRate"] and args[2] == pytest.approx(0.01)  # (an OSC float: 32 bits)
    assert client.ask("/mlp/clear", "pad", reply="/mlp/points") == ("/mlp/points", ["pad", 0])
    assert "no points to fit" in _error(client, "/mlp/fit", "pad")[1]
    assert any("no model 'nobody'" in line for line in console)  # the console hears of them too (a few a second)


def test_a_regressor_needs_its_input_width_before_its_first_point(client):
    client.ask("/mlp/create", "fresh", "regressor", reply="/mlp/created")
    name, text = _error(client, "/mlp/point", "fresh", "a", 1.0, 2.0, 3.0)
    assert name == "fresh" and "/mlp/set fresh inputs N" in text
    client.ask("/mlp/set", "fresh", "inputs", 1)
    assert client.ask("/mlp/point", "fresh", "a", 1.0, 2.0, 3.0, reply="/mlp/points") == ("/mlp/points", ["fresh", 1])
    assert client.ask("/mlp/get", "fresh", "inputs") == ("/mlp/get", ["fresh", "inputs", 1])


def test_progress_reports_every_nth_epoch_before_the_fit_replies(client):
    new_regressor(client, maxIter=20, progress=5)
    add_points(client, "pad", X, Y)
    for _ in range(2):  # the first fit makes the network (epochs told at its end), the second trains it live
        client.send("/mlp/fit", "pad")
        epochs = []
        while True:
            address, args = client.receive(timeout=60)
            if address == "/mlp/fit":
                break
            assert address == "/mlp/epoch" and args[0] == "pad", (address, args)
            epochs.append(args[1])
            assert np.isfinite(args[2]) and args[2] > 0
        assert epochs == [5, 10, 15, 20]


def test_replies_go_to_the_reply_port_when_one_is_given(console):
    with Client() as listener, osc.serve(port=0, reply_port=listener.port, log=console.append) as server, \
            Client(port=server.port) as sender:
        sender.send("/mlp/create", "pad", "regressor")
        assert listener.receive(timeout=5) == ("/mlp/created", ["pad"])
        sender.send("/mlp/predict", "nobody")
        assert listener.receive(timeout=5)[0] == "/mlp/error"
        with pytest.raises(TimeoutError):
            sender.receive(timeout=0.3)  # nothing came back to the sending port
