"""The dashboard's server and callback over plain HTTP (urllib): no browser needed, always runs."""

import math
import threading
import time
import urllib.request

import numpy as np
import pytest
from dashboard_helpers import BackgroundFit, get, post, slow_model, wait_for

import mlpkit
from mlpkit import trainer
from mlpkit.callbacks import EpochInfo
from mlpkit.dashboard import Dashboard, from_option, serve


def info(epoch, loss=1.0, lr=0.001, validation_loss=math.nan):
    return EpochInfo(epoch, loss, validation_loss, math.nan, lr, 0.01 * epoch)


@pytest.fixture
def started():
    """A dashboard whose fit has started (driven by hand: no training), and the model it watches."""
    model = mlpkit.MLPClassifier(solver="sgd", max_iter=50)
    dashboard = Dashboard(quiet=True)
    dashboard.on_fit_start(model, 50)
    yield dashboard, model
    dashboard.close()


def test_page_script_and_style_are_served_from_the_package(started):
    dashboard, _ = started
    status, page = get(dashboard.url, "")
    assert status == 200 and "<canvas" in page and 'src="dashboard.js"' in page
    assert "http" not in page.replace(dashboard.url, "")  # nothing from elsewhere
    for name in ("dashboard.js", "dashboard.css"):
        status, text = get(dashboard.url, name)
        assert status == 200 and len(text) > 500 and "http://" not in text and "https://" not in text
    with urllib.request.urlopen(dashboard.url) as response:
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_state_grows_with_each_epoch_and_sends_only_new_points(started):
    dashboard, model = started
    assert dashboard.url.startswith("http://127.0.0.1:")
    _, state = get(dashboard.url)
    assert state["status"] == "running" and state["total"] == 0 and state["max_iter"] == 50
    assert state["model"] == "MLPClassifier" and state["params"]["solver"] == "sgd"
    assert set(state["editable"]) == {"learning_rate_init", "momentum"}  # what sgd keeps in its state
    for epoch in (1, 2, 3):
        assert dashboard(model, info(epoch, loss=1.0 / epoch)) is None
    _, state = get(dashboard.url, "api/state?since=1")
    assert state["total"] == 3 and state["since"] == 1 and state["epoch"] == 3
    assert state["history"]["step"] == [2, 3] and state["history"]["loss"] == [0.5, 1 / 3]
    assert state["history"]["validation_loss"] == [None, None]  # NaN is null in JSON
    assert state["latest"]["loss"] == pytest.approx(1 / 3)


def test_pause_blocks_the_fit_until_resume(started):
    dashboard, model = started
    assert post(dashboard.url, "api/control", {"action": "pause"})[0] == 200
    state = get(dashboard.url)[1]  # asked, not yet done: the fit finishes its chunk first
    assert (state["status"], state["message"]) == ("pausing", "pausing after this chunk of epochs")
    answers = []
    caller = threading.Thread(target=lambda: answers.append(dashboard(model, info(1))))
    caller.start()
    wait_for(lambda: get(dashboard.url)[1]["status"] == "paused", what="the paused status")
    assert get(dashboard.url)[1]["message"] == "paused after epoch 1; Resume goes on, Stop ends the fit"
    time.sleep(0.2)
    assert caller.is_alive() and not answers  # the fit waits
    assert post(dashboard.url, "api/control", {"action": "resume"})[0] == 200
    caller.join(5)
    assert answers == [None] and get(dashboard.url)[1]["status"] == "running"


def test_stop_makes_the_callback_answer_true_even_while_paused(started):
    dashboard, model = started
    post(dashboard.url, "api/control", {"action": "pause"})
    answers = []
    caller = threading.Thread(target=lambda: answers.append(dashboard(model, info(1))))
    caller.start()
    wait_for(lambda: get(dashboard.url)[1]["status"] == "paused", what="the paused status")
    assert post(dashboard.url, "api/control", {"action": "stop"})[0] == 200
    caller.join(5)
    assert answers == [True]


def test_new_values_are_handed_to_the_fit_once(started):
    dashboard, model = started
    status, answer = post(dashboard.url, "api/params", {"learning_rate_init": 0.05, "momentum": 0.5})
    assert status == 200 and answer["accepted"] == {"learning_rate_init": 0.05, "momentum": 0.5}
    assert dashboard(model, info(1)) == {"learning_rate_init": 0.05, "momentum": 0.5}
    assert dashboard(model, info(2)) is None
    assert get(dashboard.url)[1]["editable"] == {"learning_rate_init": 0.05, "momentum": 0.5}


@pytest.mark.parametrize(
    "body, message",
    [
        ({"learning_rate_init": -1}, "The 'learning_rate_init' parameter of MLPClassifier must be a float in the range (0.0, inf)"),
        ({"momentum": 2}, "The 'momentum' parameter of MLPClassifier must be a float in the range [0.0, 1.0]"),
        ({"learning_rate_init": "fast"}, "learning_rate_init must be a number"),
        ({"alpha": 0.1}, "'alpha' cannot change during this fit; the solver lets change: learning_rate_init, momentum"),
        ({}, "send a JSON object of new values"),
    ],
)
def test_bad_values_are_refused_with_the_estimators_message(started, body, message):
    dashboard, model = started
    status, answer = post(dashboard.url, "api/params", body)
    assert status == 400 and answer["ok"] is False and message in answer["error"]
    assert dashboard(model, info(1)) is None  # nothing reached the fit


def test_requests_that_are_not_the_pages_own_are_refused(started):
    dashboard, _ = started
    assert get(dashboard.url, "api/state", headers={"Host": "evil.example:80"})[0] == 403
    assert post(dashboard.url, "api/control", {"action": "stop"}, content_type="text/plain")[0] == 415
    assert post(dashboard.url, "api/control", {"action": "explode"})[0] == 400
    assert get(dashboard.url, "api/nothing")[0] == 404
    assert get(dashboard.url, "api/state?since=x")[0] == 400
    assert get(dashboard.url)[1]["status"] == "running"  # none of it stopped anything


def test_server_closes_at_the_end_of_the_fit_unless_kept_open():
    model = mlpkit.MLPClassifier()
    dashboard = Dashboard(quiet=True)
    dashboard.on_fit_start(model, 10)
    url = dashboard.url
    dashboard.on_fit_end(model)
    assert dashboard.url is None
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "api/state", timeout=2)
    with Dashboard(quiet=True, keep_open=True) as kept:
        kept.on_fit_start(model, 10)
        kept(model, info(1))
        kept.on_fit_end(model)
        status, state = get(kept.url)
        assert status == 200 and state["status"] == "finished" and state["total"] == 1
        assert post(kept.url, "api/control", {"action": "stop"})[0] == 400  # nothing left to stop
    assert kept.url is None


def test_a_busy_port_gives_a_clear_error():
    with Dashboard(quiet=True) as first:
        port = int(first.url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1 port {port}.*port=0"):
            Dashboard(port=port, quiet=True).start()


def test_stop_from_the_page_ends_a_real_fit_with_its_best_weights(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk
    dashboard = Dashboard(quiet=True)
    fit = BackgroundFit(slow_model(dashboard))
    url = wait_for(lambda: dashboard.url, what="the server")
    wait_for(lambda: get(url)[1]["total"] >= 5, what="five epochs")
    status, _ = post(url, "api/params", {"learning_rate_init": 0.02})
    assert status == 200
    wait_for(lambda: get(url)[1]["latest"]["learning_rate"] == pytest.approx(0.02), what="the new learning rate")
    assert post(url, "api/control", {"action": "stop"})[0] == 200
    model = fit.join()
    assert model.n_iter_ < model.max_iter
    assert model.learning_rate_curve_[0] == pytest.approx(0.001) and model.learning_rate_curve_[-1] == pytest.approx(0.02)
    assert model.learning_rate_init == 0.02
    assert model.best_validation_score_ == max(model.validation_scores_)  # early stopping's best epoch is kept
    assert model.predict(np.zeros((2, 4))).shape == (2,)
    assert dashboard.url is None  # closed at the end of the fit


def test_serve_shows_a_fitted_models_history_and_watches_its_next_fit(monkeypatch):
    from dashboard_helpers import X, Y

    model = mlpkit.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, Y)
    dashboard = serve(model, quiet=True)
    try:
        _, state = get(dashboard.url)
        assert state["status"] == "waiting" and state["history"]["loss"] == pytest.approx(model.loss_curve_)
        assert model.callbacks == [dashboard]
        assert serve(model, quiet=True).close() is None and len(model.callbacks) == 1  # replaced, not added
        model.set_params(callbacks=[dashboard], warm_start=True)
        model.fit(X, Y)
        _, state = get(dashboard.url)
        assert state["status"] == "finished" and state["total"] == 10 and state["fit"] == 1
    finally:
        dashboard.close()


def test_from_option_gives_the_callback_for_a_dashboard_argument():
    assert from_option(False) is None and from_option(None) is None
    assert isinstance(from_option(True), Dashboard)
    assert from_option({"port": 0, "keep_open": True}).keep_open
    mine = Dashboard()
    assert from_option(mine) is mine
    with pytest.raises(TypeError, match="dashboard must be"):
        from_option("yes")
