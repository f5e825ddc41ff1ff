"""The codec table: every kind of part the format holds, one row each.

A row names the part as the header does (the "estimator" of a file or of a wrapped part, the "kind"
of a Pipeline's step), the class it is (imported only when such a part is saved or loaded), its
codec's write and read, and where it may stand (:data:`parts.PLACES`). Loading looks a part up by
its name, saving by its exact type.
"""

from __future__ import annotations

from . import ensemble, flucoma, network, preparation, scalers, wrappers
from .parts import Codec, Table

#: Where a part may stand (the places of parts.PLACES).
FILE = frozenset({"file"})
NETWORK = frozenset({"file", "network"})  # alone, or a Pipeline's last step
REGRESSOR = NETWORK | {"regressor"}  # ... or a TransformedTargetRegressor's regressor
WRAPPED = FILE | {"regressor"}  # a Pipeline: alone, or inside a TransformedTargetRegressor
STEP = frozenset({"step", "target"})  # a Pipeline's step before the network, or a target's transformer

TABLE = Table([
    Codec("mlpkit.MLPClassifier", "mlpkit.estimators:MLPClassifier", *network.CODEC, NETWORK),
    Codec("mlpkit.MLPRegressor", "mlpkit.estimators:MLPRegressor", *network.CODEC, REGRESSOR),
    Codec("mlpkit.flucoma.MLPRegressor", "mlpkit.flucoma:MLPRegressor", *flucoma.CODEC, FILE),
    Codec("mlpkit.flucoma.MLPClassifier", "mlpkit.flucoma:MLPClassifier", *flucoma.CODEC, FILE),
    Codec("mlpkit.EnsembleClassifier", "mlpkit.ensemble:EnsembleClassifier", *ensemble.CODEC, FILE),
    Codec("mlpkit.EnsembleRegressor", "mlpkit.ensemble:EnsembleRegressor", *ensemble.CODEC, FILE),
    Codec("sklearn.pipeline.Pipeline", "sklearn.pipeline:Pipeline", *wrappers.PIPELINE_CODEC, WRAPPED),
    Codec("sklearn.compose.TransformedTargetRegressor", "sklearn.compose:TransformedTargetRegressor",
          *wrappers.TARGET_REGRESSOR_CODEC, FILE),
    *(Codec(name, f"sklearn.preprocessing:{name}", *scalers.CODEC, STEP) for name in scalers.ARRAYS),
    Codec(preparation.KIND, "mlpkit.prep:Preparation", *preparation.CODEC, frozenset({"step"})),
])  # fmt: skip
