"""``MLflowCallback``: log mlpkit fits to MLflow, for those who already track experiments there.

>>> from mlpkit.experiments import MLflowCallback
>>> model.fit(X, y, track=MLflowCallback(experiment="digits"))     # doctest: +SKIP

Each fit becomes an MLflow run: the estimator's parameters when it starts; per
epoch the metrics ``loss``, ``validation_loss``, ``validation_score`` (with early
stopping) and ``learning_rate``, with ``step`` = the epoch; at the end the scores
(``train_score``, ``best_validation_score``, ``final_loss``, ``epochs``) and the
model, saved with ``mlpkit.save`` as the artifact ``model/model.mlpkit``. A fit
that raises ends its run FAILED with the error as the tag ``mlpkit.error``.

Pass it as ``track=`` so it hears how the fit ended and sees the trained model.
In ``callbacks=[...]`` it logs the parameters and the curves, and ends the run
when the fit's epochs end, without the model (see ``FitWatcher.watch``).

It talks to MLflow through ``MlflowClient`` (no global active run, so it never
clashes with the user's own ``mlflow.start_run``); metrics are sent in batches
like the run store's epochs. MLflow is imported when a fit starts; without it the
error says ``pip install "mlpkit[mlflow]"``.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from .recorder import FitWatcher, data_fingerprint, run_params, without_callbacks
from .store import CURVE_COLUMNS, json_safe

__all__ = ["MLflowCallback"]

#: MLflow's limits: metrics per log_batch call, characters of a parameter value.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAM_LENGTH = 6000

#: The experiment of runs logged without ``experiment=``.
DEFAULT_EXPERIMENT = "Default"


def _mlflow_client(tracking_uri):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError('MLflowCallback needs MLflow: pip install "mlpkit[mlflow]"') from None
    return MlflowClient(tracking_uri=tracking_uri)


class MLflowCallback(FitWatcher):
    """Logs each fit as an MLflow run (see the module docstring).

    Parameters
    ----------
    run_name : str, optional
        The MLflow run's name (MLflow picks one when None).
    tracking_uri : str, optional
        Where MLflow keeps runs (``sqlite:///mlflow.db``, ``http://...``, a file URI);
        None: MLflow's own default (``MLFLOW_TRACKING_URI``).
    experiment : str, optional
        Experiment name, created if missing; None: MLflow's "Default".
    log_model : bool, default True
        Log the trained model file as an artifact.

    After a fit, ``run_id`` is the MLflow run's id.
    """

    def __init__(self, run_name=None, tracking_uri=None, experiment=None, log_model=True):
        super().__init__()
        self.run_name, self.tracking_uri, self.experiment, self.log_model = run_name, tracking_uri, experiment, log_model
        self.run_id = None
        self._client = None

    def __repr__(self):
        return f"MLflowCallback(run_name={self.run_name!r}, experiment={self.experiment!r})"

    def _begin(self, model):
        self._client = client = _mlflow_client(self.tracking_uri)
        from mlflow.entities import Param

        name = self.experiment or DEFAULT_EXPERIMENT
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment is not None else client.create_experiment(name)
        X, y, sample_weight = self._data
        tags = {"mlpkit.estimator": type(model).__name__}
        if X is not None:
            tags["mlpkit.data_fingerprint"] = data_fingerprint(X, y, sample_weight)
        self.run_id = client.create_run(experiment_id, run_name=self.run_name, tags=tags).info.run_id
        params = [Param(name, str(json_safe(value))[:MAX_PARAM_LENGTH]) for name, value in run_params(model).items()]
        client.log_batch(self.run_id, params=params)

    def _write_epochs(self, rows):
        self._log_metrics([(name, value, epoch) for epoch, *values in rows
                           for name, value in zip(CURVE_COLUMNS, values)])

    def _log_metrics(self, triples):
        """(name, value, step) triples, NaN left out (MLflow would plot it as a gap anyway)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(name, float(value), now, int(step)) for name, value, step in triples
                   if value is not None and not math.isnan(value)]
        for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
            self._client.log_batch(self.run_id, metrics=metrics[start:start + MAX_METRICS_PER_BATCH])

    def _succeed(self, model, scores):
        step = int(scores.get("epochs", 0))
        # "loss" is also the per-epoch curve: the final value gets its own name, not one more point on it
        self._log_metrics([("final_loss" if name in CURVE_COLUMNS else name, value, step)
                           for name, value in scores.items()])
        if self.log_model and model is not None:
            from ..io import save

            with tempfile.TemporaryDirectory() as directory, without_callbacks(model):
                path = Path(directory) / "model.mlpkit"
                save(model, path)
                self._client.log_artifact(self.run_id, str(path), artifact_path="model")
        self._client.set_terminated(self.run_id, "FINISHED")

    def _fail(self, error):
        if self._client is None or self.run_id is None:
            return
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self._client.set_tag(self.run_id, "mlpkit.error", text[:MAX_PARAM_LENGTH])
        self._client.set_terminated(self.run_id, "FAILED")
