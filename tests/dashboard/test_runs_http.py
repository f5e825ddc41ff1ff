"""The runs page's server over plain HTTP (urllib): its JSON, its errors, its security; no browser needed."""

import math
import urllib.request

import pytest
from dashboard_helpers import SWEEP_RUNS, get, make_runs, post, record_run, run_params, write_mixed_csv

from mlpkit.dashboard import serve_runs
from mlpkit.dashboard.runs import MAX_CURVES
from mlpkit.experiments.store import json_safe


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The store of ``make_runs`` and its runs page, for the tests that only read (one store: quicker)."""
    directory = tmp_path_factory.mktemp("runs")
    store = make_runs(directory)
    with serve_runs(directory) as server:
        yield store, server


def column_types(table):
    return {(column["group"], column["key"]): column["type"] for column in table["columns"]}


def test_page_and_its_scripts_are_served_from_the_package(runs):
    _, server = runs
    assert server.url.startswith("http://127.0.0.1:")
    for path in ("", "runs"):
        status, page = get(server.url, path)
        assert status == 200 and 'id="runs"' in page and 'src="plot.js"' in page and 'src="runs.js"' in page
        assert "http" not in page  # nothing from elsewhere
    for name in ("runs.js", "plot.js", "dashboard.css"):
        status, text = get(server.url, name)
        assert status == 200 and len(text) > 500 and "http://" not in text and "https://" not in text
    with urllib.request.urlopen(server.url + "api/runs") as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Type"] == "application/json"


def test_runs_come_with_their_params_scores_and_what_varies(runs):
    store, server = runs
    status, table = get(server.url, "api/runs")
    assert status == 200 and table["ok"] and table["sweep"] is None and table["sweeps"] == ["lr"]
    assert table["view"] == {"kind": "estimator", "name": "MLPClassifier"}  # the latest run is outside the sweep
    rows = table["runs"]
    assert [row["id"] for row in rows] == [run.id for run in store.runs()] and len(rows) == len(SWEEP_RUNS) + 1
    assert [row["status"] for row in rows] == ["finished", "finished", "finished", "pruned", "finished"]
    assert [row["scores"].get("accuracy") for row in rows] == [score for _, score in SWEEP_RUNS] + [None]
    assert rows[1]["params"]["hidden_layer_sizes"] == [8] and rows[2]["params"]["learning_rate_init"] == 0.1
    assert rows[3]["error"] == "pruned at epoch 6" and rows[4]["name"] == "by hand" and rows[0]["trial"] == 0
    assert all(row["wall_time"] >= 0 for row in rows)
    assert table["varying"] == ["activation", "hidden_layer_sizes", "learning_rate_init"]
    assert table["constant"] == {name: value for name, value in json_safe(run_params()).items()
                                 if name not in table["varying"]}
    assert table["constant"]["alpha"] == 0.0001 and table["scores"] == ["accuracy"]


def test_columns_say_how_to_sort_them(runs):
    _, server = runs
    table = get(server.url, "api/runs")[1]
    assert [(c["group"], c["key"]) for c in table["columns"]] == [  # the scores first: they stay in sight
        ("run", "id"), ("run", "name"), ("run", "sweep"), ("run", "trial"), ("run", "status"),
        ("score", "accuracy"), ("run", "wall_time"),
        ("param", "activation"), ("param", "hidden_layer_sizes"), ("param", "learning_rate_init"),
    ]
    types = column_types(table)
    assert types[("run", "id")] == types[("param", "learning_rate_init")] == types[("score", "accuracy")] == "number"
    assert types[("run", "trial")] == "number"  # the run outside the sweep has none: missing values do not count
    assert types[("run", "status")] == types[("param", "activation")] == types[("param", "hidden_layer_sizes")] == "text"


def test_one_sweep_lists_its_runs_only_and_drops_the_columns_that_would_not_differ(runs):
    _, server = runs
    status, table = get(server.url, "api/runs?sweep=lr")
    assert status == 200 and table["sweep"] == "lr" and table["sweeps"] == ["lr"]
    assert [row["trial"] for row in table["runs"]] == [0, 1, 2, 3]
    keys = [column["key"] for column in table["columns"]]
    assert "sweep" not in keys and "name" not in keys and "trial" in keys
    assert get(server.url, "api/runs?sweep=")[1]["view"] == {"kind": "estimator", "name": "MLPClassifier"}  # empty: the latest


def test_a_parameter_only_some_runs_have_varies_and_bools_sort_as_text(tmp_path):
    store = make_runs(tmp_path)
    store.finish_run(store.start_run("Custom", run_params(**SWEEP_RUNS[0][0])), {"accuracy": 0.5})
    run_id = store.start_run("MLPClassifier", {**run_params(**SWEEP_RUNS[0][0]), "extra": True}, sweep="other")
    store.finish_run(run_id, {"accuracy": 0.5})
    with serve_runs(tmp_path, port=0) as server:
        table = get(server.url, "api/runs?estimator=MLPClassifier")[1]
    assert "extra" in table["varying"] and "extra" not in table["runs"][0]["params"]
    assert table["runs"][-1]["params"]["extra"] is True
    assert column_types(table)[("param", "extra")] == "text"
    assert "extra" not in table["plotted"]  # one value where present: no axis for it
    assert table["sweeps"] == ["other", "lr"]  # the most recent first
    assert {run["estimator"] for run in table["runs"]} == {"MLPClassifier"}  # the Custom run is another kind


def test_the_page_opens_on_the_latest_runs_kind_and_never_ranks_two_kinds_together(tmp_path):
    store = make_runs(tmp_path)  # four trials of the sweep "lr", then a classifier run outside it
    regressor = store.start_run("MLPRegressor", {"hidden_layer_sizes": 32, "alpha": 0.001})
    store.finish_run(regressor, {"train_score": 0.4, "loss": 0.2})
    with serve_runs(tmp_path) as server:
        latest = get(server.url, "api/runs")[1]
        classifiers = get(server.url, "api/runs?estimator=MLPClassifier")[1]
        sweep = get(server.url, "api/runs?sweep=lr")[1]
    assert latest["view"] == {"kind": "estimator", "name": "MLPRegressor"}
    assert [row["id"] for row in latest["runs"]] == [regressor] and latest["best"] == [regressor]
    assert latest["runs"][0]["params"]["hidden_layer_sizes"] == [32]  # stored canonically
    assert latest["views"] == [{"kind": "estimator", "name": "MLPRegressor", "runs": 1},
                               {"kind": "estimator", "name": "MLPClassifier", "runs": 5},
                               {"kind": "sweep", "name": "lr", "runs": 4}]
    assert latest["ranking"] == {"score": "train_score", "higher_is_better": True}
    assert all(row["estimator"] == "MLPClassifier" for row in classifiers["runs"])
    assert classifiers["best"] == [2, 3, 1]  # accuracy 0.95, 0.90, 0.80; the pruned and the unscored left out
    assert sweep["view"] == {"kind": "sweep", "name": "lr"} and sweep["best"] == [2, 3, 1]


def test_the_ranking_score_prefers_held_out_scores_and_knows_which_way_is_better():
    from mlpkit.dashboard.runs import ranking_score

    assert ranking_score(["train_score", "best_validation_score", "loss", "epochs"])["score"] == "best_validation_score"
    assert ranking_score(["score", "score_std", "fold_0"])["score"] == "score"
    assert ranking_score(["loss", "epochs"]) == {"score": "loss", "higher_is_better": False}
    assert ranking_score(["epochs"]) is None


def test_curves_are_the_logged_epochs_with_nan_as_null(runs):
    store, server = runs
    status, answer = get(server.url, "api/curves?ids=2,1,2")
    assert status == 200 and answer["ok"] and set(answer["curves"]) == {"1", "2"}
    for run_id in (1, 2):
        curve, stored = answer["curves"][str(run_id)], store.curves([run_id])[run_id]
        assert curve["epoch"] == stored["epoch"] == [1, 2, 3, 4, 5, 6]
        assert curve["loss"] == pytest.approx(stored["loss"])
        assert curve["validation_loss"][0] is None and math.isnan(stored["validation_loss"][0])
        assert curve["validation_loss"][1:] == pytest.approx(stored["validation_loss"][1:])
        assert curve["validation_score"] == [None] * 6


@pytest.mark.parametrize(
    "path, message",
    [
        ("api/runs?sweep=nope", "no sweep 'nope' in "),
        ("api/curves?ids=1,x", "ids must be run numbers separated by commas, got '1,x'"),
        ("api/curves?ids=", "no runs named: ask for ids=1,2,3"),
        ("api/curves", "no runs named: ask for ids=1,2,3"),
        ("api/curves?ids=1,99,98", "no run 98, 99 in "),
        ("api/curves?ids=" + ",".join(map(str, range(1, MAX_CURVES + 2))), f"ask for at most {MAX_CURVES}"),
    ],
)
def test_bad_parameters_are_refused_saying_what_to_send(runs, path, message):
    _, server = runs
    status, answer = get(server.url, path)
    assert status == 400 and answer["ok"] is False and message in answer["error"]


def test_the_sweep_error_lists_the_sweeps_there_are(runs):
    _, server = runs
    error = get(server.url, "api/runs?sweep=nope")[1]["error"]
    assert "its sweeps: 'lr'" in error and "leave it out to see the most recent runs" in error
    error = get(server.url, "api/runs?estimator=Nope")[1]["error"]
    assert "no estimator 'Nope'" in error and "its estimators: 'MLPClassifier'" in error
    assert "not both" in get(server.url, "api/runs?estimator=MLPClassifier&sweep=lr")[1]["error"]


def test_requests_that_are_not_the_pages_own_are_refused(runs):
    _, server = runs
    assert get(server.url, "api/runs", headers={"Host": "evil.example:80"})[0] == 403
    assert get(server.url, "", headers={"Host": "127.0.0.1:1"})[0] == 403
    assert post(server.url, "api/runs", {})[0] == 404  # nothing to command here
    assert get(server.url, "api/state")[0] == 404  # the training page's routes are not here
    assert get(server.url, "index.html")[0] == 404


def test_a_run_recorded_while_serving_appears_on_the_next_request(tmp_path):
    store = make_runs(tmp_path)
    with serve_runs(tmp_path) as server:
        check_a_new_run_appears(store, server)


def check_a_new_run_appears(store, server):
    before = get(server.url, "api/runs")[1]["runs"]
    run_id = record_run(store, {"learning_rate_init": 0.3, "activation": "relu", "hidden_layer_sizes": (8,)},
                        sweep="lr", trial=4, status="running", epochs=2)
    after = get(server.url, "api/runs?sweep=lr")[1]["runs"]
    assert len(after) == len(before)  # four of the sweep, now five; the run outside it is not listed
    assert after[-1]["id"] == run_id and after[-1]["status"] == "running" and after[-1]["scores"] == {}
    assert after[-1]["wall_time"] >= 0  # the time so far
    assert get(server.url, f"api/curves?ids={run_id}")[1]["curves"][str(run_id)]["epoch"] == [1, 2]
    store.log_epochs(run_id, [(3, 0.1, 0.2, 0.9, 0.001)])
    store.finish_run(run_id, {"accuracy": 0.97})
    row = get(server.url, "api/runs?sweep=lr")[1]["runs"][-1]
    assert row["status"] == "finished" and row["scores"] == {"accuracy": 0.97}
    assert get(server.url, f"api/curves?ids={run_id}")[1]["curves"][str(run_id)]["epoch"] == [1, 2, 3]


def test_an_empty_runs_directory_is_served_with_no_runs(tmp_path):
    with serve_runs(tmp_path) as server:
        status, table = get(server.url, "api/runs")
    assert status == 200 and table["runs"] == [] and table["varying"] == [] and table["sweeps"] == []
    assert [column["key"] for column in table["columns"]] == ["id", "status", "wall_time"]


def test_a_missing_directory_or_a_busy_port_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no runs directory .*nowhere.*track=DIR"):
        serve_runs(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()  # not created by looking
    with serve_runs(tmp_path) as first:
        busy = f"the runs page cannot listen on 127.0.0.1 port {first.port}.*port=0"
        with pytest.raises(OSError, match=busy):
            serve_runs(tmp_path, port=first.port)


# ------------------------------------------------------------------------------ a run's model (issue 28)
def test_a_fit_tracked_on_a_raw_table_downloads_as_the_whole_model_that_predicts_it(tmp_path):
    import numpy as np
    import pandas as pd

    import mlpkit
    from mlpkit.cli import main

    data, runs, out = write_mixed_csv(tmp_path / "mixed.csv"), tmp_path / "runs", tmp_path / "m.mlpkit"
    assert main(["fit", str(data), "--target", "label", "--out", str(out), "--hidden", "4", "--set", "max_iter=4",
                 "--seed", "0", "--no-progress", "--track", str(runs)]) == 0
    by_hand = record_run(mlpkit.experiments.RunStore(runs), {"learning_rate_init": 0.01})  # finished, no model
    with serve_runs(runs) as server:
        status, table = get(server.url, "api/runs?estimator=MLPClassifier")
        assert status == 200 and [row["model"] for row in table["runs"]] == [True, False]
        status, body = get(server.url, f"api/model?id={table['runs'][0]['id']}")
        assert status == 200 and isinstance(body, bytes)
        (tmp_path / "downloaded.mlpkit").write_bytes(body)
        downloaded, raw = mlpkit.load(tmp_path / "downloaded.mlpkit"), pd.read_csv(data)
        np.testing.assert_allclose(downloaded.predict_proba(raw), mlpkit.load(out).predict_proba(raw), rtol=0,
                                   atol=1e-12)
        status, answer = get(server.url, f"api/model?id={by_hand}")
        assert status == 404 and f"run {by_hand} has no model to download: it kept no model" in answer["error"]
        for query, message in (("", "id must be one run number, got None"), ("id=x", "id must be one run number"),
                               ("id=999", "no run 999 in")):
            status, answer = get(server.url, f"api/model?{query}")
            assert status == 400 and message in answer["error"], (query, answer)


def test_an_older_store_whose_models_are_networks_alone_still_reads_and_downloads(tmp_path):
    """Before issue 28 a run of a Pipeline kept its network alone; such a store reads and serves as it did."""
    import numpy as np

    import mlpkit
    from mlpkit.experiments import RunStore

    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    network = mlpkit.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    store = RunStore(tmp_path)
    run_id = store.start_run("MLPClassifier", network.get_params())
    mlpkit.save(network, store.models / f"run-{run_id}.mlpkit")
    store.finish_run(run_id, {"train_score": 0.5}, model_path=store.models / f"run-{run_id}.mlpkit")
    with serve_runs(tmp_path) as server:
        status, body = get(server.url, f"api/model?id={run_id}")
    assert status == 200
    (tmp_path / "old.mlpkit").write_bytes(body)
    for kept in (mlpkit.load(tmp_path / "old.mlpkit"), mlpkit.load(RunStore(tmp_path).model_file(run_id))):
        assert isinstance(kept, mlpkit.MLPClassifier)
        np.testing.assert_array_equal(kept.predict_proba(X), network.predict_proba(X))
