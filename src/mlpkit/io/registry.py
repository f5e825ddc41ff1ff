"""The codec table: every kind of part the format holds, one row each.

A row names the part as the header does (the "estimator" of a file or of a wrapped part, the "kind"
of a Pipeline's step), the class it is (imported only when such a part is saved or loaded), its
codec's write and read, and where it may stand (:data:`parts.PLACES`). Loading looks a part up by
its name, saving by its exact type.
"""

from __future__ import annotations

from . import ensemble, flucoma, network, scalers, wrappers
from .parts import Codec, Table

_EVERYWHERE = frozenset({"file", "network", "regressor"})  # a core network stands alone or wrapped

TABLE = Table([
    Codec("mlpkit.MLPClassifier", "mlpkit.estimators:MLPClassifier", network.write, network.read, _EVERYWHERE - {"regressor"}),
    Codec("mlpkit.MLPRegressor", "mlpkit.estimators:MLPRegressor", network.write, network.read, _EVERYWHERE),
    Codec("mlpkit.flucoma.MLPRegressor", "mlpkit.flucoma:MLPRegressor", flucoma.write, flucoma.read, frozenset({"file"})),
    Codec("mlpkit.flucoma.MLPClassifier", "mlpkit.flucoma:MLPClassifier", flucoma.write, flucoma.read, frozenset({"file"})),
    Codec("mlpkit.EnsembleClassifier", "mlpkit.ensemble:EnsembleClassifier", ensemble.write, ensemble.read, frozenset({"file"})),
    Codec("mlpkit.EnsembleRegressor", "mlpkit.ensemble:EnsembleRegressor", ensemble.write, ensemble.read, frozenset({"file"})),
    Codec("sklearn.pipeline.Pipeline", "sklearn.pipeline:Pipeline", wrappers.write_pipeline, wrappers.read_pipeline,
          frozenset({"file", "regressor"})),
    Codec("sklearn.compose.TransformedTargetRegressor", "sklearn.compose:TransformedTargetRegressor",
          wrappers.write_target_regressor, wrappers.read_target_regressor, frozenset({"file"})),
    *(Codec(name, f"sklearn.preprocessing:{name}", scalers.write, scalers.read, frozenset({"step", "target"}))
      for name in scalers.ARRAYS),
])  # fmt: skip
