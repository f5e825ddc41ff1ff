"""A fitted preparation's choices in words: which column got what, why, and what changes it.

``choices(prep, interface)`` gives one line per kind of choice, each saying the columns, the reason and the
flag (``interface='cli'``) or parameter (``'python'``) that changes it, as ``mlpkit fit`` prints its choices.
"""

from __future__ import annotations

import shlex

#: Interface -> how each choice is changed there ({name}: a column of the table, quoted as the interface
#: needs it: a Python string, or a shell word, so that an unnamed column reads --keep '').
WORDS = {
    "python": {
        "categorical": "categorical=[{name!r}]",
        "keep": "keep=[{name!r}]",
        "scale": "scale='standard'|'minmax'|'robust'|'none'",
        "rare": "min_frequency=",
    },
    "cli": {
        "categorical": "--categorical {shell}",
        "keep": "--keep {shell}",
        "scale": "--scale standard|minmax|robust|none",
        "rare": "",
    },
}

#: Columns listed by name up to this many per line.
MAX_LISTED = 8


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def _value(column) -> str:
    """A fill value as a person reads it: a number to 4 digits, a date as a date, a level as itself."""
    if column.kind == "date":
        import pandas as pd

        return str((pd.Timestamp("1970-01-01") + pd.to_timedelta(column.fill, unit="D")).date())
    return f"{column.fill:.4g}" if isinstance(column.fill, float) else repr(column.fill)


def _category(column) -> str:
    levels = f"{len(column.levels)} level{'s' if len(column.levels) != 1 else ''}"
    if column.other:
        levels += f" + 'other' for {len(column.rare)} rare"
    return f"{column.name} ({column.why}; {levels})"


def choices(prep, interface: str = "python") -> dict[str, str]:
    """Label -> line, for the kinds of choice this preparation made (kinds it did not use are left out)."""
    words = WORDS[interface]
    columns = prep.columns_
    lines = {}
    left_out = [c for c in columns if c.kind == "left out"]
    if left_out:
        example = left_out[0].name
        lines["left out"] = (_listed([f"{c.name!r} ({c.why})" for c in left_out])
                             + f"; to keep one: {words['keep'].format(name=example, shell=shlex.quote(example))}")  # fmt: skip
    categories = [c for c in columns if c.kind == "category"]
    numeric = [c for c in columns if c.kind == "numeric"]
    if categories:
        # (no column is named: which numbers are codes is for the person who knows the table to say)
        hint = f"; a column of number codes is one too with {words['categorical'].format(name='COL', shell='COL')}" if numeric else ""
        lines["categories"] = f"one 0/1 column per level: {_listed([_category(c) for c in categories])}{hint}"
    dates = [c for c in columns if c.kind == "date"]
    if dates:
        lines["dates"] = _listed([f"{c.name} -> {', '.join(c.parts)}" for c in dates]) + " (one number each, not a category per day)"
    if numeric:
        lines["numeric"] = _listed([c.name for c in numeric])
    gaps = [c for c in columns if c.indicator]
    if gaps:
        lines["gaps filled"] = (_listed([f"{c.name} (with {_value(c)})" for c in gaps]) + ": the median, commonest level"
                                " or median date of the training rows, and a 0/1 column that says where")  # fmt: skip
    scaling = prep.scaling_
    what = f"{scaling.scaler} of the numeric columns and date parts" if scaling.scaler else "none"
    lines["input scaling"] = f"{what} ({scaling.why}; {words['scale']} to choose; 0/1 columns are not scaled)"
    return lines
