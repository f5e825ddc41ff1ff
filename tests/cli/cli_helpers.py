"""Helpers of the ``mlpkit`` command's tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

import csv
from pathlib import Path

#: Small and quick: the tests check the command, not the learning.
QUICK = ["--hidden", "8", "--set", "max_iter=20", "--seed", "0", "--no-progress"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def network(model):
    """The network of a saved model: ``mlpkit fit`` saves it after its scalers (a Pipeline, perhaps in a
    TransformedTargetRegressor) unless --scale none."""
    from mlpkit._wrappers import network_of

    return network_of(model)


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def assert_one_line_error(result, *fragments):
    """Exit code 2; the error is one line, the last one on stderr (after what fit reports before training)."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert result.error_lines == lines[-1:], result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])


def assert_png(path: Path, min_width=400, min_height=300):
    """A real PNG of a sensible size."""
    import matplotlib.image

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert min_width <= width <= 3000 and min_height <= height <= 3000, (width, height)
