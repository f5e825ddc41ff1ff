"""MLflowCallback against a local MLflow file store, read back through MlflowClient."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris

import mlpkit
from mlpkit import MLPClassifier
from mlpkit.experiments import MLflowCallback

mlflow_tracking = pytest.importorskip("mlflow.tracking", reason='MLflow is optional: pip install "mlpkit[mlflow]"')


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store for those who opt in; it needs no database to start (fast for a test)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def test_a_tracked_fit_logs_params_per_epoch_metrics_scores_and_the_model(tracking_uri, tmp_path):
    X, y = load_iris(return_X_y=True)
    callback = MLflowCallback(run_name="iris", tracking_uri=tracking_uri, experiment="flowers")
    model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=12, early_stopping=True, n_iter_no_change=50,
                          random_state=0)
    model.fit(X, y, track=callback)

    client = mlflow_tracking.MlflowClient(tracking_uri)
    run = client.get_run(callback.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "iris"
    assert client.get_experiment(run.info.experiment_id).name == "flowers"
    assert run.data.params["hidden_layer_sizes"] == "[5]" and run.data.params["max_iter"] == "12"
    loss = client.get_metric_history(callback.run_id, "loss")
    assert [m.step for m in loss] == list(range(1, 13))
    np.testing.assert_allclose([m.value for m in loss], model.loss_curve_, rtol=1e-6)
    assert len(client.get_metric_history(callback.run_id, "validation_score")) == 12
    assert run.data.metrics["train_score"] == pytest.approx(model.score(X, y))
    assert run.data.metrics["best_validation_score"] == pytest.approx(model.best_validation_score_)
    path = client.download_artifacts(callback.run_id, "model/model.mlpkit", str(tmp_path))
    np.testing.assert_array_equal(mlpkit.load(path).predict(X), model.predict(X))


def test_a_failed_fit_ends_its_mlflow_run_failed_with_the_error(tracking_uri):
    X, y = load_iris(return_X_y=True)

    def explode(model, info):
        raise RuntimeError("no more")

    callback = MLflowCallback(tracking_uri=tracking_uri, log_model=False)
    with pytest.raises(RuntimeError, match="no more"):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, callbacks=[explode]).fit(X, y, track=callback)
    run = mlflow_tracking.MlflowClient(tracking_uri).get_run(callback.run_id)
    assert run.info.status == "FAILED" and run.data.tags["mlpkit.error"] == "RuntimeError: no more"


@pytest.mark.filterwarnings("error:.*on_fit_failed raised")  # the failure is its own: nothing more to say
def test_without_mlflow_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # importing it now raises ImportError
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ImportError, match=r'pip install "mlpkit\[mlflow\]"'):
        MLPClassifier(max_iter=2).fit(X, y, track=MLflowCallback())
