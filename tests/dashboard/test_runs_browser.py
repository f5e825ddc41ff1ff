"""The runs page in a real headless browser (the ``browser`` fixture of ``conftest.py``; skips without one).

Elements are read and clicked through small scripts run in the page (``RunsPage``).
"""

import pytest
from dashboard_helpers import RUN_MODEL, SWEEP_RUNS, X, Y, RunsPage, make_runs, record_run, wait_for

import mlpkit
from mlpkit.dashboard import serve_runs

pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

#: How long the page may take to show a change in the store (it asks once a second).
SHOWS_WITHIN = 5.0


def test_runs_page_lists_sorts_overlays_and_follows_the_store(browser, tmp_path):
    store = make_runs(tmp_path)
    with serve_runs(tmp_path) as server:
        browser.get(server.url)
        assert browser.title == "mlpkit runs"
        page = RunsPage(browser)
        everything = list(range(1, len(SWEEP_RUNS) + 2))
        wait_for(lambda: page.row_ids() == everything, timeout=SHOWS_WITHIN, what="the runs in the table")
        assert "pruned" in page.cell_texts(4) and "by hand" in page.cell_texts(5)

        # Sorting by the score: ascending, then descending; runs without one stay last either way.
        page.sort_by("accuracy")
        assert page.row_ids() == [1, 3, 2, 4, 5]  # 0.80, 0.90, 0.95, then no score
        page.sort_by("accuracy")
        assert page.row_ids() == [2, 3, 1, 4, 5]
        page.sort_by("learning_rate_init")
        assert page.row_ids() == [1, 2, 5, 3, 4]  # 0.001, 0.01, 0.01, 0.1, 1.0

        # The page opens with the best three ticked (accuracy 0.95, 0.90, 0.80); unticking one leaves two:
        # their training and validation losses overlaid, a legend line each.
        wait_for(lambda: page.chart("runs") == 3, timeout=SHOWS_WITHIN, what="the best runs' curves")
        assert page.ticked() == [1, 2, 3] and page.chart("series") == 6
        page.tick(2)
        wait_for(lambda: page.chart("runs") == 2, timeout=SHOWS_WITHIN, what="two runs' curves")
        assert page.ticked() == [1, 3]
        assert page.chart("series") == 4 and page.chart("points") == 2 * (6 + 5)  # validation from epoch 2
        assert len(browser.find_elements("css selector", "#legend li")) == 2

        # Score against each varying parameter: one chart each, a dot per scored run.
        plots = {name: page.chart("points", f"#param-plots figure[data-param='{name}'] canvas")
                 for name in ("activation", "hidden_layer_sizes", "learning_rate_init")}
        assert plots == {"activation": 3, "hidden_layer_sizes": 3, "learning_rate_init": 3}

        # Live: a run recorded while the page is open shows up, and its curve grows while it runs.
        new = record_run(store, {"learning_rate_init": 0.003, "activation": "relu", "hidden_layer_sizes": (8,)},
                         sweep="lr", trial=4, status="running", epochs=2)
        wait_for(lambda: new in page.row_ids(), timeout=SHOWS_WITHIN, what="the new run in the table")
        assert "running" in page.cell_texts(new)
        page.tick(new)
        wait_for(lambda: page.chart("runs") == 3, timeout=SHOWS_WITHIN, what="the running run's curve")
        points = page.chart("points")
        store.log_epochs(new, [(3, 0.2, 0.25, 0.9, 0.001), (4, 0.15, 0.2, 0.92, 0.001)])
        wait_for(lambda: page.chart("points") == points + 4, timeout=SHOWS_WITHIN, what="the curve to grow")
        store.finish_run(new, {"accuracy": 0.99})
        wait_for(lambda: "finished" in page.cell_texts(new), timeout=SHOWS_WITHIN, what="the run's end")

        # A real fit recorded with track=DIR while the page is open: its run and its loss curve.
        mlpkit.MLPClassifier(**RUN_MODEL, learning_rate_init=0.02).fit(X, Y, track=tmp_path)
        fitted = store.runs()[-1]
        assert fitted.status == "finished" and fitted.params["learning_rate_init"] == 0.02
        wait_for(lambda: fitted.id in page.row_ids(), timeout=SHOWS_WITHIN, what="the fitted run in the table")
        page.tick(fitted.id)
        wait_for(lambda: page.chart("runs") == 4, timeout=SHOWS_WITHIN, what="the fitted run's curve")

        # One sweep only, chosen on the page.
        page.js("const s = document.getElementById('view'); s.value = 'sweep:lr'; s.dispatchEvent(new Event('change'))")
        wait_for(lambda: 5 not in page.row_ids(), timeout=SHOWS_WITHIN, what="the sweep's runs only")
        assert browser.current_url.endswith("?sweep=lr")

        # Nothing loaded from elsewhere; no script errors.
        resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert resources and all(name.startswith(server.url) for name in resources)
        assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
