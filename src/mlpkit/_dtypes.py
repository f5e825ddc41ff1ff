"""The precision a network trains and predicts in: the ``dtype`` parameter.

``dtype=None`` (the default) is scikit-learn's rule: a first fit trains in the
precision of its input, so float64 data give float64 ``coefs_``,
``predict_proba`` and ``predict``, and float32 data stay float32 (anything
else, such as integers, is converted to float64 first, as scikit-learn's
checks do). ``warm_start`` and ``partial_fit`` go on in the precision the
network has. ``dtype="float32"`` or ``"float64"`` fixes it whatever the input:
float32 halves the memory and is about 1.3-2x faster on CPUs (more on GPUs), at
the cost of about 7 significant digits instead of 16 and a range that ends at
about 3.4e38.
"""

from __future__ import annotations

import numpy as np

#: The values of the ``dtype`` parameter besides None, and their numpy types.
DTYPES = {"float32": np.float32, "float64": np.float64}


def training_dtype(setting: str | None, like) -> np.dtype:
    """The dtype to train in: the ``dtype`` parameter ``setting``, or for None the float dtype of ``like``
    (the input of a first fit, or the fitted weights of a network that trains on); float64 for any other."""
    if setting is not None:
        return np.dtype(DTYPES[setting])
    kind = np.dtype(getattr(like, "dtype", np.float64))
    return kind if kind in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)


def x64(dtype):
    """Context in which JAX computes in ``dtype``: float64 needs x64 switched on, locally (imports JAX)."""
    import jax

    return jax.enable_x64(np.dtype(dtype) == np.float64)
