"""Small helpers shared by the guide's reports: plain-text layout and JSON-friendly values."""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np

#: Width of a report's label column and of its lines.
LABEL_WIDTH, LINE_WIDTH = 14, 100


def section(label: str, lines) -> str:
    """``label`` then each line wrapped and indented under the label column."""
    out = []
    for n, line in enumerate(lines):
        head = (label if n == 0 else "").ljust(LABEL_WIDTH)
        wrapped = textwrap.wrap(line, LINE_WIDTH - LABEL_WIDTH) or [""]
        out.append(head + wrapped[0])
        out.extend(" " * (LABEL_WIDTH + 2) + rest for rest in wrapped[1:])
    return "\n".join(out)


def plain(value):
    """``value`` with numpy scalars and arrays, tuples and dataclasses turned into JSON-friendly Python."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {plain_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def plain_key(key):
    key = key.item() if isinstance(key, np.generic) else key
    return key if isinstance(key, (str, int, float, bool)) or key is None else str(key)
