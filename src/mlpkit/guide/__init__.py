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

from .._lazy import lazy_exports

#: Public name -> its module here, imported when first used (``_lazy.py``).
_PUBLIC = {
    "Advice": ".advice",
    "advise": ".advice",
    "Diagnosis": ".diagnosis",
    "Finding": ".diagnosis",
    "diagnose": ".diagnosis",
    "LRFinderResult": ".lr_finder",
    "lr_find": ".lr_finder",
    "DataSizeWarning": ".sizing",
    "count_parameters": ".sizing",
    "data_size_note": ".sizing",
    "data_size_warning": ".sizing",
}
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)  # noqa: PLE0605 (the table's names)
