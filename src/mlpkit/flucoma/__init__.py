"""FluCoMa interoperability: its DataSets, LabelSets, scalers, k-NN and MLP model files.

FluCoMa (the Fluid Corpus Manipulation toolkit for Max, Pure Data and SuperCollider) saves its
objects as JSON. Everything here reads that JSON and writes it back so that FluCoMa loads it
unchanged: identifier-keyed data (``DataSet``, ``LabelSet``), the scalers with FluCoMa's exact
numbers, k-nearest-neighbour models on DataSets, and MLP model files as plain lists of layers
with a forward pass between two taps.
"""

from .dataset import DataSet, LabelSet, pair_by_identifier
from .jsonio import FluCoMaFormatError, read_json, write_json
from .knn import KNNClassifier, KNNRegressor
from .mlp import MLPClassifier, MLPRegressor, to_flucoma_dict, write_model
from .model import (
    ACTIVATION_CODES,
    FLUCOMA_ACTIVATIONS,
    Layer,
    classifier_to_dict,
    predict_layers,
    read_classifier,
    read_regressor,
    regressor_to_dict,
    write_classifier,
    write_regressor,
)
from .scalers import Normalize, RobustScale, Standardize

__all__ = [
    "ACTIVATION_CODES",
    "FLUCOMA_ACTIVATIONS",
    "DataSet",
    "FluCoMaFormatError",
    "KNNClassifier",
    "KNNRegressor",
    "LabelSet",
    "Layer",
    "MLPClassifier",
    "MLPRegressor",
    "Normalize",
    "RobustScale",
    "Standardize",
    "classifier_to_dict",
    "pair_by_identifier",
    "predict_layers",
    "read_classifier",
    "read_json",
    "read_regressor",
    "regressor_to_dict",
    "write_classifier",
    "write_json",
    "write_regressor",
    "to_flucoma_dict",
    "write_model",
]
