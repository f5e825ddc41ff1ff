"""FluCoMa's KNNClassifier and KNNRegressor on DataSets, over scikit-learn's k-nearest neighbours.

``fit(source, target)`` pairs the rows of a DataSet with those of a LabelSet (classifier) or a
DataSet (regressor) by identifier; ``predict`` maps a DataSet to a new LabelSet / DataSet under
the same identifiers and ``predict_point`` maps one vector. Distances are Euclidean.

``weight=True`` (FluCoMa's default) weighs each of the ``num_neighbours`` nearest points by
``1 / distance`` (scikit-learn's ``weights="distance"``); ``weight=False`` gives each the same
weight. Where FluCoMa (flucoma-core ``KNNClassifier.hpp`` / ``KNNRegressor.hpp``) and
scikit-learn differ, only in corner cases:

* a query that coincides with two or more training points: FluCoMa's regressor *sums* their
  targets, scikit-learn averages them (FluCoMa tests ``distance < eps``, scikit-learn ``== 0``);
* a tie between labels: FluCoMa keeps the label of the nearest neighbour among the tied ones,
  scikit-learn the label that sorts first. With ``weight=True`` ties need exactly equal
  distances.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from .dataset import DataSet, LabelSet, pair_by_identifier


class _KNN:
    """Shared by both: parameters, pairing, and the checks on points to predict."""

    _sklearn_class = None
    _target_class = None

    def __init__(self, num_neighbours: int = 3, weight: bool = True):
        self.num_neighbours = num_neighbours
        self.weight = weight

    def fit(self, source: DataSet, target):
        """Remember the points of ``source`` and their targets, paired by identifier."""
        if not isinstance(target, self._target_class):
            raise TypeError(
                f"{type(self).__name__}.fit needs a {self._target_class.__name__} target, "
                f"got {type(target).__name__}"
            )
        k = self.num_neighbours
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(f"num_neighbours must be a whole number >= 1, got {k!r}")
        _, X, Y = pair_by_identifier(source, target)
        if k > len(X):
            raise ValueError(
                f"num_neighbours is {k} but there are only {len(X)} points to learn from; "
                "lower num_neighbours or add points"
            )
        weights = "distance" if self.weight else "uniform"
        self.model_ = self._sklearn_class(n_neighbors=k, weights=weights).fit(X, Y)
        self.cols_ = X.shape[1]
        self.target_cols_ = target.cols
        return self

    def _predict(self, X: np.ndarray, what: str) -> np.ndarray:
        """scikit-learn's prediction for the rows of ``X``, after checking the model and the width."""
        if not hasattr(self, "model_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(source, target) first")
        if X.shape[1] != self.cols_:
            raise ValueError(
                f"{what} has {X.shape[1]} values, but the model was fitted on points of {self.cols_}"
            )
        return self.model_.predict(X)

    @staticmethod
    def _point(vector) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float64)
        if v.ndim != 1 or not np.isfinite(v).all():
            raise ValueError(f"a point is a 1-D vector of finite numbers, got {vector!r}")
        return v[None, :]


class KNNClassifier(_KNN):
    """The label most of the ``num_neighbours`` nearest training points carry (weighted vote)."""

    _sklearn_class = KNeighborsClassifier
    _target_class = LabelSet

    def predict(self, data: DataSet) -> LabelSet:
        """A LabelSet with the predicted label of every point of ``data``, same identifiers."""
        ids, X = data.to_numpy()
        if not ids:
            return LabelSet()
        labels = self._predict(X, "each point of the DataSet")
        return LabelSet.from_numpy(ids, [str(label) for label in labels])

    def predict_point(self, vector) -> str:
        """The predicted label of one point."""
        return str(self._predict(self._point(vector), "the point")[0])


class KNNRegressor(_KNN):
    """The (weighted) mean of the targets of the ``num_neighbours`` nearest training points."""

    _sklearn_class = KNeighborsRegressor
    _target_class = DataSet

    def predict(self, data: DataSet) -> DataSet:
        """A DataSet with the prediction for every point of ``data``, same identifiers."""
        ids, X = data.to_numpy()
        if not ids:
            return DataSet(getattr(self, "target_cols_", None))
        Y = self._predict(X, "each point of the DataSet")
        return DataSet.from_numpy(ids, Y.reshape(len(ids), -1))

    def predict_point(self, vector) -> np.ndarray:
        """The predicted target row of one point."""
        return self._predict(self._point(vector), "the point").reshape(-1)
