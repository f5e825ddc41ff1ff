"""mlpkit: multilayer perceptrons for tabular data, trained by compiled JAX loops.

``MLPClassifier`` and ``MLPRegressor`` are drop-in replacements for
scikit-learn's, with the whole of ``fit`` compiled by XLA.

Importing mlpkit starts no JAX backend and changes no JAX setting: the
persistent compilation cache is set up at the first fit (``_compilation_cache``).
"""

from .ensemble import EnsembleClassifier, EnsembleRegressor
from .estimators import MLPClassifier, MLPRegressor
from .guide import DataSizeWarning, advise, data_size_warning, diagnose, lr_find
from .io import load, save
from .network import count_parameters
from .onnx_export import export_onnx
from .population import FitManyError, fit_many
from .prep import Preparation
from ._version import __version__

__all__ = ["MLPClassifier", "MLPRegressor", "EnsembleClassifier", "EnsembleRegressor", "count_parameters", "export_onnx", "load", "save", "advise", "lr_find", "diagnose",
           "data_size_warning", "DataSizeWarning", "sweep", "fit_many", "FitManyError", "Preparation", "__version__"]


def __getattr__(name):
    # mlpkit.sweep is imported when first used: the experiments package loads sqlite3 and Optuna's helpers
    if name == "sweep":
        from .experiments.sweep import sweep

        return sweep
    raise AttributeError(f"module 'mlpkit' has no attribute {name!r}")

