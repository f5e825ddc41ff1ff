"""Model files of format version 1 written by an earlier mlpkit load as they did, and save again the same."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

import mlpkit
from mlpkit.io import HEADER_KEY

FILES = Path(__file__).parent / "data" / "model-files"
X = load_iris(return_X_y=True)[0]

#: Estimator parameters added since these files were written, with their defaults: a file without one
#: loads with the default, and saving it again writes that default.
ADDED_PARAMETERS = {"training_loop": "auto"}


def without_added_parameters(header):
    """``header`` less the ``ADDED_PARAMETERS`` at their defaults, wherever parameters are written."""
    if isinstance(header, dict):
        return {key: without_added_parameters(value) for key, value in header.items()
                if not (key in ADDED_PARAMETERS and value == ADDED_PARAMETERS[key])}  # fmt: skip
    if isinstance(header, list):
        return [without_added_parameters(value) for value in header]
    return header


def entries(path) -> tuple[list, dict, dict]:
    """The archive's entry names in order, its arrays, and its header."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return names, arrays, json.loads(arrays.pop(HEADER_KEY).tobytes())


@pytest.mark.parametrize("name", ["clf_es", "reg_prelu_bn", "pipe", "ttr", "ens_clf", "fluco_clf"])
def test_a_format_1_file_loads_predicts_as_before_and_saves_again_the_same(name, tmp_path):
    model = mlpkit.load(FILES / f"{name}.npz")
    with np.load(FILES / "predictions.npz") as predictions:
        before = predictions[name]
    if before.dtype.kind == "f":
        np.testing.assert_allclose(model.predict(X), before, rtol=1e-6)
    else:
        np.testing.assert_array_equal(model.predict(X), before)

    mlpkit.save(model, tmp_path / "again.npz")
    old_names, old_arrays, old_header = entries(FILES / f"{name}.npz")
    new_names, new_arrays, new_header = entries(tmp_path / "again.npz")
    assert new_names == old_names
    for key in old_arrays:
        assert new_arrays[key].dtype == old_arrays[key].dtype, key
        np.testing.assert_array_equal(new_arrays[key], old_arrays[key], err_msg=key)
    assert without_added_parameters({**new_header, "mlpkit_version": None}) == {**old_header, "mlpkit_version": None}
