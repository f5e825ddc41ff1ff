"""mlpkit: multilayer perceptrons for tabular data, trained by compiled JAX loops.

``MLPClassifier`` and ``MLPRegressor`` are drop-in replacements for
scikit-learn's, with the whole of ``fit`` compiled by XLA.

``import mlpkit`` imports nothing heavy: each public name is imported from its
module when first used (PEP 562), so ``mlpkit --help`` or a script that only needs
``mlpkit.load`` does not pay for JAX, and importing mlpkit starts no JAX backend and
changes no JAX setting (the persistent compilation cache is set up at the first fit,
``_compilation_cache``).
"""

from importlib import import_module

from ._version import __version__

#: Public name -> the module (relative to this package) that defines it.
_PUBLIC = {
    "MLPClassifier": ".estimators",
    "MLPRegressor": ".estimators",
    "EnsembleClassifier": ".ensemble",
    "EnsembleRegressor": ".ensemble",
    "count_parameters": ".network",
    "export_onnx": ".onnx_export",
    "load": ".io",
    "save": ".io",
    "advise": ".guide",
    "lr_find": ".guide",
    "diagnose": ".guide",
    "data_size_warning": ".guide",
    "DataSizeWarning": ".guide",
    "sweep": ".experiments.sweep",
    "fit_many": ".population",
    "FitManyError": ".population",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'mlpkit' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC})
