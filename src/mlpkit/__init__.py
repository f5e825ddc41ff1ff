"""mlpkit: multilayer perceptrons for tabular data, trained by compiled JAX loops.

``MLPClassifier`` and ``MLPRegressor`` are drop-in replacements for
scikit-learn's, with the whole of ``fit`` compiled by XLA.
"""

from . import _compilation_cache
from .estimators import MLPClassifier, MLPRegressor
from .network import count_parameters

__version__ = "0.1.0"
__all__ = ["MLPClassifier", "MLPRegressor", "count_parameters", "__version__"]

_compilation_cache.enable()
