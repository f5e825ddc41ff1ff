"""The dashboard in a real headless browser: Debian's chromium and chromedriver, driven by selenium.

Skips, saying why, when selenium, chromium or chromedriver is missing
(``apt-get install chromium chromium-driver``; ``pip install selenium``) or the
browser cannot start (the ``browser`` fixture of ``conftest.py``, shared with
``test_runs_browser.py``).
"""

import json
import time

import pytest
from dashboard_helpers import BackgroundFit, X, slow_model, wait_for

from mlpkit import trainer
from mlpkit.dashboard import Dashboard

pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.by import By


def test_page_follows_pauses_steers_and_stops_a_running_fit(browser, monkeypatch, tmp_path):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: many small steps to watch
    dashboard = Dashboard(quiet=True)
    fit = BackgroundFit(slow_model(dashboard))
    url = wait_for(lambda: dashboard.url, what="the server")
    browser.get(url)
    assert browser.title == "mlpkit dashboard"

    def text(element_id):
        return browser.find_element(By.ID, element_id).text

    def points():
        return int(text("points") or 0)

    # The curve gains points while the fit runs.
    first = wait_for(lambda: points() >= 3 and points(), what="the first points on the page")
    wait_for(lambda: points() >= first + 10, what="more points while training runs")
    assert int(browser.find_element(By.ID, "loss-chart").get_attribute("data-points")) > 0
    assert text("status") == "running" and "MLPClassifier" in text("model")
    assert "hidden_layer_sizes" in text("params")
    assert "adam" in text("params") and "'adam'" not in text("params")  # values, not Python's reprs

    # The loss chart: titled axes, round ticks, the best epoch marked and named; smoothing keeps the points.
    chart = browser.execute_script("return {...document.getElementById('loss-chart').dataset}")
    assert chart["xtitle"] == "epoch" and chart["ytitle"] == "loss (log scale)" and chart["markers"] == "1"
    assert all(float(tick).is_integer() for tick in json.loads(chart["xticks"]))
    assert int(text("best-epoch")) >= 1
    browser.execute_script("const s = document.getElementById('smoothing'); s.value = 0.9;"
                           " s.dispatchEvent(new Event('input'))")
    assert browser.find_element(By.ID, "smoothing-value").text == "0.90"

    # Pause holds the fit; resume lets it go on.
    browser.find_element(By.ID, "pause").click()
    wait_for(lambda: text("status") == "paused", what="the paused status")
    assert text("message").startswith("paused after epoch")  # not "pausing ..." beside "paused"
    assert browser.save_screenshot(str(tmp_path / "dashboard-paused.png"))
    time.sleep(0.4)
    held = points()
    time.sleep(0.6)
    assert points() == held
    browser.find_element(By.ID, "resume").click()
    wait_for(lambda: points() > held + 5, what="training to go on after resume")

    # A new learning rate from the page reaches the fit.
    field = browser.find_element(By.ID, "input-learning_rate_init")
    field.send_keys("0.0123")
    browser.find_element(By.ID, "apply-learning_rate_init").click()
    wait_for(lambda: text("learning-rate") not in ("-", "") and abs(float(text("learning-rate")) - 0.0123) < 1e-6,
             what="the new learning rate on the page")

    # The page loaded nothing from elsewhere and reported no script errors.
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(name.startswith(url) for name in resources)
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []

    # Stop ends the fit early with early stopping's best weights.
    browser.find_element(By.ID, "stop").click()
    model = fit.join()
    assert model.n_iter_ < model.max_iter
    assert model.learning_rate_curve_[0] == pytest.approx(0.001)
    assert model.learning_rate_curve_[-1] == pytest.approx(0.0123)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.predict(X[:2]).shape == (2,)
    wait_for(lambda: text("status") in ("finished", "disconnected"), what="the page to show the end")
