"""Fits run in the background: predictions go on with the last finished weights, a second fit queues,
a third is refused, and what arrives during a fit applies when it ends."""

import time

import numpy as np
from osc_helpers import add_points, fit

RNG = np.random.default_rng(3)
X = RNG.uniform(-1, 1, (200, 2))
Y = np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] ** 2])


def start_a_long_fit(server, client):
    """A trained model "pad", now in a fit far longer than any test (which /mlp/stop or close() end)."""
    client.ask("/mlp/create", "pad", "regressor", 8, reply="/mlp/created")
    for param, value in (("inputs", 2), ("seed", 0), ("maxIter", 20), ("validation", 0)):
        client.ask("/mlp/set", "pad", param, value)
    add_points(client, "pad", X, Y)  # the same data in every test: the compiled programs are reused
    fit(client, "pad")  # makes the network (and compiles)
    before = client.ask("/mlp/predict", "pad", 0.3, -0.3)
    client.ask("/mlp/set", "pad", "maxIter", 1_000_000)
    client.ask("/mlp/set", "pad", "progress", 1000)
    client.send("/mlp/fit", "pad")  # a fit that can be stopped: it trains an existing network
    # Training, not just started: its first progress report has come (whatever the load on the machine,
    # any compiling is over and the fit is between chunks of epochs that a stop can end).
    assert client.receive("/mlp/epoch", timeout=60)[0] == "/mlp/epoch"
    assert server.models["pad"].fitting
    return before


def test_predictions_during_a_fit_use_the_last_finished_weights_and_never_wait(server, client):
    before = start_a_long_fit(server, client)

    seconds = []
    for _ in range(50):
        start = time.perf_counter()
        assert client.ask("/mlp/predict", "pad", 0.3, -0.3) == before  # the weights of the last finished fit
        seconds.append(time.perf_counter() - start)
    assert np.median(seconds) < 0.05, seconds  # (bench/osc_latency.py measures it: ~0.3 ms)

    assert client.ask("/mlp/fit", "pad", reply="/mlp/queued") == ("/mlp/queued", ["pad"])
    assert client.ask("/mlp/fit", "pad", reply="/mlp/busy") == ("/mlp/busy", ["pad"])
    # changes wait for the fit to end; the reply says they were taken, /mlp/get shows what the next fit uses
    assert client.ask("/mlp/set", "pad", "maxIter", 5) == ("/mlp/set", ["pad", "maxIter", 5])
    assert client.ask("/mlp/set", "pad", "learnRate", 0.0625) == ("/mlp/set", ["pad", "learnRate", 0.0625])
    assert client.ask("/mlp/get", "pad", "maxIter") == ("/mlp/get", ["pad", "maxIter", 5])
    assert server.models["pad"].estimator.max_iter == 1_000_000  # the running fit's estimator is untouched
    # points come in during a fit (it trains on a copy of those it started with)
    assert client.ask("/mlp/point", "pad", "new", 0.0, 0.0, 0.0, 0.0, reply="/mlp/points") == ("/mlp/points", ["pad", 201])
    assert not [reply for reply in client.backlog if reply[0] == "/mlp/fit"]  # it is still running

    assert client.ask("/mlp/stop", "pad", reply="/mlp/stopping") == ("/mlp/stopping", ["pad"])
    first = client.receive("/mlp/fit", timeout=30)
    second = client.receive("/mlp/fit", timeout=60)  # the queued fit, with the changes made meanwhile
    assert first[0] == second[0] == "/mlp/fit"
    estimator = server.models["pad"].estimator
    assert (estimator.max_iter, estimator.learn_rate) == (5, 0.0625)
    assert not server.models["pad"].fitting
    after = client.ask("/mlp/predict", "pad", 0.3, -0.3)
    assert after[0] == "/mlp/predict" and after != before
    assert client.ask("/mlp/stop", "pad", reply="/mlp/stopping")[0] == "/mlp/error"  # nothing to stop now


def test_a_model_cannot_be_replaced_or_deleted_while_it_fits_but_others_carry_on(server, client):
    start_a_long_fit(server, client)
    for message in (("/mlp/create", "pad", "classifier"), ("/mlp/delete", "pad")):
        address, args = client.ask(*message, reply="/mlp/error")
        assert address == "/mlp/error" and "is fitting" in args[1]
    client.ask("/mlp/create", "other", "classifier", reply="/mlp/created")
    assert client.ask("/mlp/models") == ("/mlp/models", ["other", "pad"])
    client.ask("/mlp/stop", "pad", reply="/mlp/stopping")
    assert client.receive("/mlp/fit", timeout=30)[0] == "/mlp/fit"


def test_closing_stops_a_running_fit_quickly(server, client):
    start_a_long_fit(server, client)
    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 5
    assert not server.models["pad"].fitting
