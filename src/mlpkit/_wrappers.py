"""The scikit-learn wrappers mlpkit saves, exports and trains through: a ``Pipeline`` of scalers before a
network, and a ``TransformedTargetRegressor`` that standardises a regressor's targets.

``advise(X, y).estimator()`` and ``mlpkit fit`` build them; ``mlpkit.save`` / ``load`` keep them
(``io/wrappers.py``), ``export_onnx`` folds their scalers into the graph, and the command line fits them a step
at a time (``fit_steps``), so that its own ways of training the network (``--processes``) apply.

Each scaler mlpkit handles is one affine map per column, ``x' = x * a + b`` (``SCALERS``):

- ``StandardScaler``: ``a = 1 / scale_``, ``b = -mean_ / scale_`` (without a mean: ``b = 0``);
- ``MinMaxScaler``: ``a = scale_``, ``b = min_`` (``clip=True`` is not affine: refused);
- ``RobustScaler``: ``a = 1 / scale_``, ``b = -center_ / scale_``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SCALERS", "affine", "fit_steps", "is_wrapper", "name_columns", "network_of", "scalers_of", "target_scaler_of"]


def _standard(scaler):
    scale = np.ones(scaler.n_features_in_) if scaler.scale_ is None else np.asarray(scaler.scale_, float)
    mean = np.zeros(scaler.n_features_in_) if scaler.mean_ is None else np.asarray(scaler.mean_, float)
    return 1 / scale, -mean / scale


def _min_max(scaler):
    if scaler.clip:
        raise ValueError("MinMaxScaler(clip=True) clips values, which is not a per-column affine map")
    return np.asarray(scaler.scale_, float), np.asarray(scaler.min_, float)


def _robust(scaler):
    n = scaler.n_features_in_
    scale = np.ones(n) if scaler.scale_ is None else np.asarray(scaler.scale_, float)
    center = np.zeros(n) if scaler.center_ is None else np.asarray(scaler.center_, float)
    return 1 / scale, -center / scale


#: Scaler class name -> fitted scaler -> (a, b) of its per-column map x * a + b.
SCALERS = {"StandardScaler": _standard, "MinMaxScaler": _min_max, "RobustScaler": _robust}


#: Steps mlpkit saves that are not a per-column affine map, and why (for the exports that need one).
NOT_AFFINE = {
    "Preparation": "mlpkit.Preparation encodes categories one-hot, fills gaps and turns dates into numbers, which is"
                   " not a per-column affine map; export_onnx takes it only as a Pipeline's first step, and FluCoMa"
                   " exports not at all: make it the first step, keep the native file (mlpkit.save), or train on a"
                   " table of plain numbers for a scaler and network only",
}


def affine(scaler) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with ``scaler.transform(X) == X * a + b`` for a fitted scaler of ``SCALERS``."""
    name = type(scaler).__name__
    if name in NOT_AFFINE:
        raise ValueError(NOT_AFFINE[name])
    if name not in SCALERS:
        raise ValueError(f"{name} is not one of the scalers mlpkit handles ({', '.join(SCALERS)})")
    return SCALERS[name](scaler)


def is_target_regressor(model) -> bool:
    return type(model).__name__ == "TransformedTargetRegressor"


def is_pipeline(model) -> bool:
    return type(model).__name__ == "Pipeline"


def is_wrapper(model) -> bool:
    return is_target_regressor(model) or is_pipeline(model)


def _inner(model, fitted: bool):
    if is_target_regressor(model):
        return model.regressor_ if fitted and hasattr(model, "regressor_") else model.regressor
    return model


def network_of(model, fitted: bool = True):
    """The mlpkit network inside ``model`` (itself if it is one): a Pipeline's last step, a
    TransformedTargetRegressor's regressor (the fitted one where there is one)."""
    inner = _inner(model, fitted)
    return inner.steps[-1][1] if is_pipeline(inner) else inner


def scalers_of(model, fitted: bool = True) -> list:
    """The steps before the network (a Pipeline's), in order; [] for anything else."""
    inner = _inner(model, fitted)
    return [step for _, step in inner.steps[:-1]] if is_pipeline(inner) else []


def target_scaler_of(model):
    """The fitted target transformer of a TransformedTargetRegressor, else None."""
    return getattr(model, "transformer_", None) if is_target_regressor(model) else None


def name_columns(model, names) -> None:
    """Give the fitted ``model`` the input columns' ``names`` (as fitting on a DataFrame would): the network,
    the first scaler (a Pipeline's ``feature_names_in_``) and a TransformedTargetRegressor all know them."""
    names = np.asarray(names, dtype=object)
    for part in (network_of(model), *scalers_of(model)[:1], *([model] if is_target_regressor(model) else [])):
        if not hasattr(part, "feature_names_in_"):
            part.feature_names_in_ = names


def fit_steps(model, X, y, fit_network) -> None:
    """Fit ``model`` one step at a time: each scaler on ``X``, the target transformer on ``y``, and the network
    by ``fit_network(network, X_scaled, y_scaled)``, leaving ``model`` fitted as its own ``fit`` would
    (for a TransformedTargetRegressor: ``transformer_``, ``regressor_`` and the target's dimension, as
    scikit-learn's ``TransformedTargetRegressor.fit`` sets them)."""
    if is_target_regressor(model):
        y = np.asarray(y, dtype=float)
        y_2d = y.reshape(len(y), -1)
        transformer = model.transformer.fit(y_2d)  # (the objects themselves, not clones: what was set on the
        y_scaled = transformer.transform(y_2d)  # network, such as a dashboard callback, is what trains)
        y_scaled = y_scaled.ravel() if y.ndim == 1 else y_scaled
        regressor = model.regressor
        fit_steps(regressor, X, y_scaled, fit_network)
        model.transformer_, model.regressor_, model._training_dim = transformer, regressor, y.ndim
        if hasattr(regressor, "feature_names_in_"):
            model.feature_names_in_ = regressor.feature_names_in_
        return
    if is_pipeline(model):
        for _, step in model.steps[:-1]:
            X = step.fit_transform(X)
        fit_network(model.steps[-1][1], X, y)
        return
    fit_network(model, X, y)
