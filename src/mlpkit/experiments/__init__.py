"""Experiments: record fits as runs in a local store, sweep hyper-parameters, log to MLflow.

- ``store.py``: ``RunStore``, the runs directory and its SQLite database (schema in its docstring);
- ``recorder.py``: ``RunRecorder``, the fit watcher behind ``fit(X, y, track=...)``;
- ``space.py``: search spaces from dicts, CLI strings and scikit-learn parameter grids;
- ``sweep.py``: ``sweep``, hyper-parameter search on Optuna with pruning, stored as runs;
- ``export.py``: the best model as FluCoMa JSON with its scaler;
- ``mlflow.py``: ``MLflowCallback``, for those who track experiments in MLflow.

Optuna and MLflow are imported only when a sweep runs or the MLflow callback starts logging.
"""

from .mlflow import MLflowCallback
from .recorder import RunRecorder, data_fingerprint, recorder_from_option
from .space import SearchSpace, parse_space
from .store import Run, RunStore
from .sweep import SweepResult, sweep

__all__ = ["MLflowCallback", "Run", "RunRecorder", "RunStore", "SearchSpace", "SweepResult", "data_fingerprint",
           "parse_space", "recorder_from_option", "sweep"]
