"""Deep ensembles: ``EnsembleClassifier`` and ``EnsembleRegressor``, members trained as one population.

>>> ensemble = mlpkit.EnsembleClassifier(MLPClassifier(max_iter=100), n_members=8, random_state=0).fit(X, y)
>>> ensemble.predict_proba(X_test)                    # the members' probabilities, averaged
>>> mean, std = mlpkit.EnsembleRegressor(MLPRegressor(), n_members=8).fit(X, y).predict(X_test, return_std=True)

An ensemble of networks that differ only in their random start (initial weights,
shuffling, dropout, early stopping's split) predicts better than its members do
alone and says how much they disagree (Lakshminarayanan et al. 2017, "Simple and
scalable predictive uncertainty estimation using deep ensembles"; on tabular data
Gorishniy et al. 2025, "TabM", where MLPs trained together as one are among the
strongest models). The members are ``n_members`` clones of ``estimator``, member
``i`` with its own ``random_state`` (drawn from the ensemble's, or where that is
None the estimator's: a seeded estimator gives a reproducible ensemble) and, with
``vary``, its own values of other parameters: ``vary={"learning_rate_init": [1e-3,
3e-3]}`` gives member ``i`` the value ``i % 2``. They are fitted by
``mlpkit.fit_many``, so members that share a structure (all of them, unless
``vary`` changes one, such as ``hidden_layer_sizes``) train as one population in
one compiled program, and each is the network a separate ``fit`` with its seed
would give.

Predictions average the members' outputs: the classifier its members'
``predict_proba`` (``predict`` is the most probable class; for multi-label targets
each label whose averaged probability is above 0.5), the regressor its members'
``predict`` (``return_std=True`` adds their standard deviation, a measure of the
ensemble's uncertainty). ``mlpkit.save``/``load`` keep an ensemble in one file,
``mlpkit.export_onnx`` writes one graph with the members averaged in it.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .estimators import MLPClassifier, MLPRegressor
from .population import fit_many

__all__ = ["EnsembleClassifier", "EnsembleRegressor"]

_PARAMETERS_DOC = """
    Parameters
    ----------
    estimator : mlpkit.{member} or None, default=None
        The members' settings (None: ``{member}()``); never fitted itself.
    n_members : int, default=8
    vary : dict or None, default=None
        Parameter name -> list of values; member ``i`` takes ``values[i % len(values)]``.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds; None: the estimator's ``random_state`` does.
    n_jobs : int or None, default=-1
        Lanes ``mlpkit.fit_many`` trains the members in (threads; -1 every core, 1 one): the time only,
        never a number.

    Attributes
    ----------
    estimators_ : list of fitted {member}
{extra}    n_features_in_, feature_names_in_ : as scikit-learn's
"""


class _Ensemble(BaseEstimator):
    """What the two ensembles share: their parameters, the members' settings and their fit."""

    _member_class: type = None  # the estimator class members are (MLPClassifier or MLPRegressor)
    _y_numeric = False  # targets must be numbers (a regressor's)

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "get_params"])],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "vary": [None, dict],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, estimator=None, n_members=8, vary=None, random_state=None, n_jobs=-1):
        self.estimator = estimator
        self.n_members = n_members
        self.vary = vary
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _template(self):
        """The estimator the members are clones of (``estimator``, or a default one)."""
        if self.estimator is None:
            return self._member_class()
        if not isinstance(self.estimator, self._member_class):
            raise ValueError(
                f"{type(self).__name__} trains members of mlpkit.{self._member_class.__name__}; estimator is"
                f" {self.estimator!r}. Give an mlpkit.{self._member_class.__name__} (or None for its defaults)."
            )
        return self.estimator

    def _member_settings(self, template) -> list[dict]:
        """Each member's parameters: its seed, and its values of ``vary``'s parameters."""
        vary = dict(self.vary or {})
        known = template.get_params()
        for name, values in vary.items():
            if name == "random_state":
                raise ValueError(
                    "vary must leave out random_state: each member's seed is drawn from the ensemble's random_state"
                    " (or the estimator's); set that instead."
                )
            if name not in known:
                raise ValueError(f"vary names {name!r}, which is not a parameter of {type(template).__name__}.")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
                raise ValueError(
                    f"vary[{name!r}] must be a non-empty list of values, member i taking value i % len; got {values!r}"
                )
        seed = self.random_state if self.random_state is not None else template.random_state
        seeds = check_random_state(seed).randint(np.iinfo(np.int32).max, size=self.n_members)
        return [
            {"random_state": int(s), **{name: values[i % len(values)] for name, values in vary.items()}}
            for i, s in enumerate(seeds)
        ]

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit ``n_members`` clones of ``estimator`` on ``X, y`` as one population (``mlpkit.fit_many``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : the fitted ensemble, its members in ``estimators_``.
        """
        template = self._template()
        settings = self._member_settings(template)
        X, y = self._validate_training_data(X, y)
        self.estimators_ = fit_many(template, X, y, settings, sample_weight=sample_weight, n_jobs=self.n_jobs)
        return self

    def _validate_training_data(self, X, y):
        return validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=self._y_numeric,
                             dtype=(np.float64, np.float32))  # fmt: skip

    def _checked(self, X):
        """``X`` checked against the fitted ensemble (the members then trust it)."""
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def __sklearn_tags__(self):  # (the members' own: sparse input; a classifier's multi-label targets)
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = True
        return tags


class EnsembleClassifier(ClassifierMixin, _Ensemble):
    """A deep ensemble of ``mlpkit.MLPClassifier`` s: the members' probabilities averaged."""

    __doc__ += _PARAMETERS_DOC.format(member="MLPClassifier", extra="    classes_ : ndarray of the class labels\n")

    _member_class = MLPClassifier

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.classes_ = self.estimators_[0].classes_
        return self

    fit.__doc__ = _Ensemble.fit.__doc__

    def predict_proba(self, X):
        """The members' ``predict_proba``, averaged: columns in the order of ``classes_``."""
        X = self._checked(X)
        return np.mean([member.predict_proba(X) for member in self.estimators_], axis=0)

    def predict_log_proba(self, X):
        """Log of ``predict_proba``."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of the averaged probabilities (multi-label: each label above 0.5)."""
        probabilities = self.predict_proba(X)
        first = self.estimators_[0]
        if first._is_multilabel():
            return first._label_binarizer.inverse_transform((probabilities > 0.5).astype(int))
        if len(self.classes_) == 1:  # trained on one class: it is the only answer
            return np.repeat(self.classes_, probabilities.shape[0])
        return self.classes_[probabilities.argmax(axis=1)]


class EnsembleRegressor(RegressorMixin, _Ensemble):
    """A deep ensemble of ``mlpkit.MLPRegressor`` s: the members' predictions averaged, their spread on request."""

    __doc__ += _PARAMETERS_DOC.format(member="MLPRegressor", extra="")

    _member_class = MLPRegressor

    _y_numeric = True

    def predict(self, X, return_std=False):
        """The members' predictions averaged, shape (n_samples,) or (n_samples, n_outputs); with
        ``return_std=True`` also their standard deviation (over members, ``ddof=0``), of the same shape."""
        X = self._checked(X)
        predictions = np.stack([member.predict(X) for member in self.estimators_])
        mean = predictions.mean(axis=0)
        return (mean, predictions.std(axis=0)) if return_std else mean
