"""mlpkit: multilayer perceptrons for tabular data, trained by compiled JAX loops.

``MLPClassifier`` and ``MLPRegressor`` are drop-in replacements for
scikit-learn's, with the whole of ``fit`` compiled by XLA.

``import mlpkit`` imports nothing heavy: each public name is imported from its
module when first used (PEP 562), so ``mlpkit --help`` or a script that only needs
``mlpkit.load`` does not pay for JAX, and importing mlpkit starts no JAX backend and
changes no JAX setting (the persistent compilation cache is set up at the first fit,
``_compilation_cache``).
"""

from ._lazy import lazy_exports
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
    "Preparation": ".prep",
}

__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
__all__ = [*_PUBLIC, "__version__"]  # noqa: PLE0604 (the table's names are strings)
