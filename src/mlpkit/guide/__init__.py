"""Guidance for choosing a network's parameters, for people new to neural networks.

- ``advise(X, y)``: before training, a first network (chosen on evidence where the data is
  small), its learning rate, scaling, batch size, class balance, and what to change if it
  under- or overfits; ``advise(X, y).estimator()`` builds it;
- ``lr_find(model, X, y)``: a learning-rate range test that suggests ``learning_rate_init``;
- ``diagnose(model, X, y)``: after training, what the history and the weights say
  (overfitting, plateau, divergence, dead or saturated units, gradient norms);
- ``count_parameters(n_in, hidden, n_out)``, ``data_size_note`` / ``data_size_warning`` and
  ``DataSizeWarning``: FluCoMa's 10-rows-per-parameter rule of thumb, as context.

Suggestions are said in the words of the interface in use (``vocabulary.py``): Python's, the
command line's, or the FluCoMa estimators'.

Each returns a report that prints as plain text and has ``to_dict()``.
"""

from .advice import Advice, advise
from .diagnosis import Diagnosis, Finding, diagnose
from .lr_finder import LRFinderResult, lr_find
from .sizing import DataSizeWarning, count_parameters, data_size_note, data_size_warning

__all__ = [
    "Advice",
    "DataSizeWarning",
    "Diagnosis",
    "Finding",
    "LRFinderResult",
    "advise",
    "count_parameters",
    "data_size_note",
    "data_size_warning",
    "diagnose",
    "lr_find",
]
