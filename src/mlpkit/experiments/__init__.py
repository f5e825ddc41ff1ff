"""Experiments: record fits as runs in a local store, sweep hyper-parameters, log to MLflow.

- ``store.py``: ``RunStore``, the runs directory and its SQLite database (schema in its docstring);
- ``recorder.py``: ``RunRecorder``, the fit watcher behind ``fit(X, y, track=...)``;
- ``space.py``: search spaces from dicts, CLI strings and scikit-learn parameter grids;
- ``sweep.py``: ``sweep``, hyper-parameter search on Optuna with pruning, stored as runs;
- ``mlflow.py``: ``MLflowCallback``, for those who track experiments in MLflow.

Optuna and MLflow are imported only when a sweep or the MLflow callback is used.
"""

from .store import Run, RunStore

__all__ = ["Run", "RunStore"]
