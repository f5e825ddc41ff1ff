"""Guidance for choosing a network's parameters, for people new to neural networks.

- ``advise(X, y)``: before training, how big a network the data supports, whether
  to scale, class balance, a batch size, and what to change if it under- or overfits;
- ``lr_find(model, X, y)``: a learning-rate range test that suggests ``learning_rate_init``;
- ``diagnose(model, X, y)``: after training, what the history and the weights say
  (overfitting, plateau, divergence, dead or saturated units, gradient norms);
- ``count_parameters(n_in, hidden, n_out)`` and ``data_size_warning`` /
  ``DataSizeWarning``: the 10-rows-per-parameter rule of thumb.

Each returns a report that prints as plain text and has ``to_dict()``.
"""

from .advice import Advice, advise
from .diagnosis import Diagnosis, Finding, diagnose
from .lr_finder import LRFinderResult, lr_find
from .sizing import DataSizeWarning, count_parameters, data_size_warning

__all__ = [
    "Advice",
    "DataSizeWarning",
    "Diagnosis",
    "Finding",
    "LRFinderResult",
    "advise",
    "count_parameters",
    "data_size_warning",
    "diagnose",
    "lr_find",
]
