"""Data preparation: one fitted step, chosen from what a table's columns hold, in front of the network.

- ``columns.py``: sorts each column into a kind (numeric, category, date, left out) by a table of rules;
- ``encoding.py``: what a fitted column is, as plain data, and how each kind is fitted and encoded;
- ``scaling.py``: whether the numbers need scaling and which scaler (the guide's rules);
- ``preparation.py``: ``Preparation``, the scikit-learn transformer built of the above;
- ``target.py``: the task a target calls for (one rule for the command line and Python), and
  leaving out rows whose target is missing;
- ``report.py``: each choice once, with why and what changes it.

This package imports neither ``mlpkit.cli`` nor ``mlpkit.guide``: both build on it.
"""

from .._lazy import lazy_exports

#: Public name -> its module here, imported when first used (``_lazy.py``): reading a data file needs only
#: ``target.py``'s rule for a missing target, not scikit-learn and pandas.
_PUBLIC = {
    "Column": ".encoding",
    "UnseenCategoryWarning": ".encoding",
    "Preparation": ".preparation",
    "Scaling": ".preparation",
    "detect_task": ".target",
}
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)  # noqa: PLE0605 (the table's names)
