"""Experiments: record fits as runs in a local store, sweep hyper-parameters, log to MLflow.

- ``store.py``: ``RunStore``, the runs directory and its SQLite database (schema in its docstring);
- ``recorder.py``: ``RunRecorder``, the fit watcher behind ``fit(X, y, track=...)``;
- ``space.py``: search spaces from dicts, CLI strings and scikit-learn parameter grids;
- ``sweep.py``: ``sweep``, hyper-parameter search on Optuna with pruning, stored as runs;
- ``export.py``: the best model as FluCoMa JSON with its scaler;
- ``mlflow.py``: ``MLflowCallback``, for those who track experiments in MLflow.

Optuna and MLflow are imported only when a sweep runs or the MLflow callback starts logging.
"""

from .._lazy import lazy_exports

#: Public name -> the module of this package that defines it, imported when the name is first used (PEP 562),
#: so that ``from mlpkit.experiments.store import ...`` does not import the sweep's and recorder's dependencies.
_PUBLIC = {
    "MLflowCallback": ".mlflow",
    "RunRecorder": ".recorder",
    "data_fingerprint": ".recorder",
    "recorder_from_option": ".recorder",
    "SearchSpace": ".space",
    "parse_space": ".space",
    "Run": ".store",
    "RunStore": ".store",
    "SweepResult": ".sweep",
}
# (The sweep function is ``mlpkit.sweep``; here ``sweep`` is its module, whatever was imported first.)

__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)  # noqa: PLE0605 (the table's names)
