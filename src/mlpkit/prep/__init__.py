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

from .encoding import Column, UnseenCategoryWarning
from .preparation import Preparation, Scaling
from .target import detect_task

__all__ = ["Column", "Preparation", "Scaling", "UnseenCategoryWarning", "detect_task"]
