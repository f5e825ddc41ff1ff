"""The runs page as a new user first sees it, in headless Chromium at 1280 x 800 (skips without one).

A real sweep, then a classifier and a regressor recorded by ``fit(track=...)``: the page
must open on the latest kind with its best runs ticked, keep every kind's scores apart,
group equal settings recorded in different forms, draw round ticks with labelled axes,
and keep every score cell in sight. Screenshots of each view are saved in the test's
``tmp_path`` (their paths are printed: ``pytest -s`` shows them).
"""

import json
import math

import pytest
from dashboard_helpers import X, Y, RunsPage, wait_for
from sklearn.datasets import load_diabetes

import mlpkit
from mlpkit.dashboard import serve_runs

pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
pytest.importorskip("optuna", reason='sweeps need Optuna: pip install "mlpkit[sweep]"')

SHOWS_WITHIN = 5.0
VIEWPORT = (1280, 800)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A runs directory: a sweep of 4 trials (layer sizes given as 8 and (16, 8)), its refitted best,
    then a classifier fitted with hidden_layer_sizes=(8,) and a regressor, both tracked."""
    directory = tmp_path_factory.mktemp("runs")
    quick = {"max_iter": 15, "random_state": 0}
    mlpkit.sweep(mlpkit.MLPClassifier(**quick), X, Y,
                 {"hidden_layer_sizes": [8, (16, 8)], "learning_rate_init": {"low": 1e-3, "high": 0.1, "log": True}},
                 n_trials=4, runs=directory, name="iris", random_state=0, prune=False)  # the fit's program too
    mlpkit.MLPClassifier(hidden_layer_sizes=(8,), **quick).fit(X, Y, track=directory)
    diabetes_X, diabetes_y = load_diabetes(return_X_y=True)
    mlpkit.MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.05, **quick).fit(
        diabetes_X, diabetes_y / 100, track=directory)
    return directory


def best_ids(store, runs, score, count=3):
    scored = [run for run in runs if run.status == "finished" and isinstance((run.scores or {}).get(score), float)]
    return sorted(run.id for run in sorted(scored, key=lambda run: (-run.scores[score], run.id))[:count])


def assert_round(ticks):
    """Every tick text a round number: 1, 2 or 5 times a power of ten, or a whole multiple of one step."""
    values = [float(text) for text in ticks]
    assert 3 <= len(values) <= 8, ticks
    gaps = {round(b - a, 12) for a, b in zip(values, values[1:])}
    ratios = {round(b / a, 9) for a, b in zip(values, values[1:]) if a > 0}
    nice = all(v == 0 or round(v / 10 ** math.floor(math.log10(abs(v))), 9) in (1, 2, 5) for v in values)
    assert len(gaps) == 1 or nice or ratios <= {2, 2.5, 10, 100}, ticks


def test_views_ticks_grouping_and_scores_in_sight(browser, recorded, tmp_path):
    from mlpkit.experiments import RunStore

    store = RunStore(recorded)
    runs = store.runs()
    regressor, classifier = runs[-1], runs[-2]
    browser.set_window_size(*VIEWPORT)
    page = RunsPage(browser)
    with serve_runs(recorded) as server:
        browser.get(server.url)
        # Opens on the latest run's kind (the regressor), its run ticked and its curve drawn.
        wait_for(lambda: page.row_ids() == [regressor.id], timeout=SHOWS_WITHIN, what="the regressor's view")
        wait_for(lambda: page.dataset().get("series") == "1", timeout=SHOWS_WITHIN, what="its training curve")
        assert page.ticked() == [regressor.id]
        options = page.js("return [...document.querySelectorAll('#view option')].map((o) => o.value)")
        assert options == ["estimator:MLPRegressor", "estimator:MLPClassifier", "sweep:iris"]
        curves = page.dataset()
        assert curves["xtitle"] == "epoch" and curves["ytitle"] == "loss (log scale)"
        assert all(float(t).is_integer() for t in json.loads(curves["xticks"]))
        assert_round(json.loads(curves["xticks"]))
        assert_round(json.loads(curves["yticks"]))
        assert curves["markers"] == "1"  # the best epoch of the ticked run
        assert page.score_cells_outside_the_viewport() == []
        screenshot(browser, tmp_path / "regressor.png")

        # The classifiers: the sweep's trials, its refitted best and the lone fit; no regressor among them.
        page.view("estimator:MLPClassifier")
        classifiers = [run for run in runs if run.estimator == "MLPClassifier"]
        wait_for(lambda: page.row_ids() == [run.id for run in classifiers], timeout=SHOWS_WITHIN, what="the classifiers")
        wait_for(lambda: page.ticked() == best_ids(store, classifiers, "score"), timeout=SHOWS_WITHIN,
                 what="the best three trials ticked")
        assert "train_score" in page.score_columns() and "score" in page.score_columns()
        # hidden_layer_sizes was given as 8 (the sweep) and (8,) (the fit): one setting, one category.
        layers = page.dataset("#param-plots figure[data-param='hidden_layer_sizes'] canvas")
        assert json.loads(layers["xticks"]) == ["8", "16, 8"] and layers["xtitle"] == "hidden_layer_sizes"
        rates = page.dataset("#param-plots figure[data-param='learning_rate_init'] canvas")
        assert_round(json.loads(rates["xticks"]))
        assert_round(json.loads(rates["yticks"]))
        assert rates["ytitle"] == "score"
        plotted = page.js("return [...document.querySelectorAll('#param-plots figure')].map((f) => f.dataset.param)")
        columns = page.js("return [...document.querySelectorAll('#runs th.col-param')].map((th) => th.dataset.key)")
        assert plotted == columns == ["hidden_layer_sizes", "learning_rate_init"]  # max_iter & co. are constant
        assert page.score_cells_outside_the_viewport() == []
        screenshot(browser, tmp_path / "classifiers.png")

        # The sweep alone: its trials, the best three ticked; the smoothing slider redraws the curves.
        page.view("sweep:iris")
        trials = store.runs(sweep="iris")
        wait_for(lambda: page.row_ids() == [run.id for run in trials], timeout=SHOWS_WITHIN, what="the sweep's trials")
        wait_for(lambda: page.ticked() == best_ids(store, trials, "score"), timeout=SHOWS_WITHIN, what="its best")
        wait_for(lambda: page.dataset().get("series") == "3", timeout=SHOWS_WITHIN, what="three runs' curves")
        points = page.dataset()["points"]
        page.js("const s = document.getElementById('smoothing'); s.value = 0.8; s.dispatchEvent(new Event('input'))")
        assert page.dataset()["series"] == "3" and page.dataset()["points"] == points  # the raw curves faint behind
        assert page.js("return document.getElementById('smoothing-value').textContent") == "0.80"
        assert page.score_cells_outside_the_viewport() == []
        screenshot(browser, tmp_path / "sweep.png")
        assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def screenshot(browser, path):
    assert browser.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
