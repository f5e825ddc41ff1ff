"""Tables for the data preparation's tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_table(n=60, seed=0) -> pd.DataFrame:
    """Every kind of column: row names, an id text, yes/no, a date, numbers with gaps, text with rare levels and a
    gap, booleans, an integer code."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    x[rng.random(n) < 0.1] = np.nan
    colour = rng.choice(["red", "green"], n).astype(object)
    colour[[5, 9]], colour[[7, 11, 13]] = "blue", "mauve"  # rare: fewer than 5 rows each
    colour[3] = None
    return pd.DataFrame({
        "rownames": np.arange(1, n + 1),
        "name": [f"person {i}" for i in range(n)],
        "owner": rng.choice(["yes", "no"], n),
        "when": pd.date_range("2020-01-01", periods=n, freq="9D").strftime("%Y-%m-%d"),
        "x": x,
        "colour": colour,
        "flag": rng.random(n) < 0.5,
        "grade": rng.integers(1, 4, n),
    })
