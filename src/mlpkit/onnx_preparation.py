"""A fitted ``mlpkit.Preparation`` as ONNX nodes in front of the network (used by ``onnx_export``).

The graph takes the raw table: one input per column the preparation uses, named as the column, each 1-D
(N,) since a mixed table cannot be one tensor:

- a numeric column, and a category column of numbers (``numeric_levels``, e.g. codes named in
  ``categorical=``): float64, NaN for a gap;
- any other category column (text, yes/no, booleans as ``str`` writes them, 'True'/'False'): strings.

Each column's part (``ENCODERS``, by kind) makes the same columns as ``Preparation.transform``, in its order,
as float64 (N, 1) tensors; they are concatenated, the scaler is applied as one ``Mul`` and ``Add`` per
column (``_wrappers.affine``; the 0/1 columns are multiplied by 1 and shifted by 0), and the result is cast
to the network's dtype, as the network casts ``transform``'s float64 matrix: the tensor ``prepared``
(N, n_outputs) is ``Preparation.transform``'s matrix in that dtype, in the columns of
``get_feature_names_out()`` (named so unless a column is; the tests read it).

- numeric: ``IsNaN``, ``Where`` (gap -> the fill value), the indicator ``IsNaN`` cast to 0/1;
- category of numbers: ``Equal`` to each kept level;
- category of text: ``RegexFullMatch`` (opset 20) per kept level, the level between any whitespace, and
  one for the gaps ('', 'NA', 'n/a', 'null', ... in any case), because ``transform`` strips whitespace and
  reads those texts as gaps. (ONNX-ML's ``LabelEncoder`` compares exact strings, so a graph of it would
  predict differently for ' red' or 'NA'.)
- for both: a gap counts as the fill level; ``other`` is on when no kept level is (rare levels, levels
  never seen in training, and gaps whose fill level is rare); the indicator is the gap.
- date columns are refused (``REFUSED``): ONNX has no operators to read dates; identifier-like columns that
  the preparation leaves out get no input.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from . import _wrappers
from .prep.columns import MISSING_TEXT
from .prep.encoding import Column, _level_key

#: The opset that has RegexFullMatch, needed by text categories (onnx >= 1.15, onnxruntime >= 1.17).
TEXT_OPSET = 20

#: Graph outputs: a column of the same name cannot be an input.
OUTPUT_NAMES = ("variable", "label", "probabilities")

#: Column kind -> why the graph cannot hold it (a format string of the column), and what to do.
REFUSED = {
    "date": (
        "column {name!r} is a date (the preparation makes {parts} of it): ONNX has no operators to read dates or"
        " times, so the graph could not make those numbers. Leave it out when training (mlpkit fit ... --drop {name},"
        " or drop it from the DataFrame), or give it as numbers (such as days since 1970) in the table, or keep"
        " the native model file (mlpkit.save), which holds the date parts"
    ),
}


def check_exportable(preparation) -> None:
    """A ValueError naming every column the graph cannot hold, with why and what to do; None if it can."""
    reasons = [REFUSED[column.kind].format(name=column.name, parts=", ".join(column.parts))
               for column in preparation.columns_ if column.kind in REFUSED]  # fmt: skip
    used = [column.name for column in preparation.columns_ if column.kind != "left out"]
    clashes = [name for name in used if name in OUTPUT_NAMES or not name]
    reasons += [f"column {name!r} would be a graph input of the same name as a graph output (or unnamed);"
                f" rename the column (not {', '.join(OUTPUT_NAMES)}) and train again" for name in clashes]  # fmt: skip
    if reasons:
        raise ValueError(
            "export_onnx cannot export this model's first step, the data preparation (mlpkit.Preparation): "
            + "; ".join(reasons)
        )


def min_opset(preparation) -> int:
    """The lowest opset the preparation's nodes need: RegexFullMatch's for text categories, else opset 13's
    Reshape, IsNaN, Equal, Where and the rest."""
    return TEXT_OPSET if any(_is_text(column) for column in preparation.columns_) else 13


def prepared_inputs(g, preparation) -> tuple[list, str]:
    """The graph's inputs (name, element type, shape) and the name of the prepared (N, n_outputs) matrix in
    the network's dtype, for a fitted ``preparation`` that ``check_exportable`` accepts."""
    from onnx import TensorProto, helper

    check_exportable(preparation)
    columns = [column for column in preparation.columns_ if column.kind != "left out"]
    g._used.update(column.name for column in columns)  # the inputs keep the columns' own names
    inputs, blocks = [], []
    for column in columns:
        x = g.op("Reshape", [column.name, g.const([-1, 1], "column_shape", np.int64)], f"{column.name}_2d")
        blocks += ENCODERS[column.kind](g, column, x)
        inputs.append((column.name, TensorProto.STRING if _is_text(column) else TensorProto.DOUBLE, ["N"]))
    encoded = _scaled(g, preparation, g.op("Concat", blocks, "encoded", axis=1))
    return inputs, g.op("Cast", [encoded], "prepared", to=helper.np_dtype_to_tensor_dtype(g.dtype))


def _scaled(g, preparation, encoded) -> str:
    """The preparation's scaler on the columns it scales, as x * a + b over all columns (a = 1, b = 0 on the rest)."""
    if preparation.scaler_ is None:
        return encoded
    names = list(preparation.get_feature_names_out())
    a, b = np.ones(len(names)), np.zeros(len(names))
    scaled = [names.index(name) for name in preparation.scaling_.columns]
    a[scaled], b[scaled] = _wrappers.affine(preparation.scaler_)
    scale = g.const(a, "encoded_scale", np.float64)
    return g.op("Add", [g.op("Mul", [encoded, scale], "encoded_mul"), g.const(b, "encoded_shift", np.float64)],
                "encoded_scaled")  # fmt: skip


def _is_text(column: Column) -> bool:
    return column.kind == "category" and not column.numeric_levels


# ----------------------------------------------------------------------------- each kind
# Each takes the graph, the Column and its input reshaped to (N, 1); returns its output columns, (N, 1) float64.


def _as_double(g, flags, hint) -> str:
    from onnx import TensorProto

    return g.op("Cast", [flags], hint, to=TensorProto.DOUBLE)


def _numeric(g, column: Column, x) -> list[str]:
    gap = g.op("IsNaN", [x], f"{column.name}_gap")
    filled = g.op("Where", [gap, g.const(column.fill, f"{column.name}_fill", np.float64), x], f"{column.name}_filled")
    return [filled] + ([_as_double(g, gap, f"{column.name}_missing")] if column.indicator else [])


def _number_matches(g, column: Column, x) -> tuple[str, list[str]]:
    """A numeric-coded category: (gap, one Equal per kept level) on the float64 input."""
    matches = [g.op("Equal", [x, g.const(float(level), f"{column.name}_level", np.float64)], f"{column.name}_is")
               for level in column.levels]  # fmt: skip
    return g.op("IsNaN", [x], f"{column.name}_gap"), matches


def _text_matches(g, column: Column, x) -> tuple[str, list[str]]:
    """A text category: (gap, one RegexFullMatch per kept level) on the string input, as transform compares
    ``str(value).strip()`` with each level and reads the texts of ``MISSING_TEXT`` as gaps."""
    space = f"[{''.join(map(_escaped, _python_whitespace()))}]*"
    missing = "|".join(_literal(text) for text in sorted(MISSING_TEXT) if text)
    gap = g.op("RegexFullMatch", [x], f"{column.name}_gap", pattern=f"(?i){space}(?:{missing})?{space}")
    matches = [g.op("RegexFullMatch", [x], f"{column.name}_is", pattern=f"{space}{_literal(str(level))}{space}")
               for level in column.levels]  # fmt: skip
    return gap, matches


#: numeric_levels -> how a category column's gaps and kept levels are found.
MATCHERS = {True: _number_matches, False: _text_matches}


def _category(g, column: Column, x) -> list[str]:
    """One 0/1 column per kept level (a gap counts as the fill level), then 'other' (no kept level on), then
    the indicator, as ``encoding.encode_category``."""
    gap, matches = MATCHERS[column.numeric_levels](g, column, x)
    fill = _level_key(column.fill, column.numeric_levels)  # (levels compared as transform compares them)
    keys = [_level_key(level, column.numeric_levels) for level in column.levels]
    on = [g.op("Or", [match, gap], f"{column.name}_or_gap") if key == fill else match for key, match in zip(keys, matches)]
    outputs = [_as_double(g, flag, f"{column.name}_level") for flag in on]
    if column.other:
        outputs.append(_as_double(g, _none_of(g, column, x, on), f"{column.name}_other"))
    return outputs + ([_as_double(g, gap, f"{column.name}_missing")] if column.indicator else [])


def _none_of(g, column: Column, x, flags) -> str:
    """True where none of ``flags`` is; everywhere when there are none (every level of the column is rare)."""
    from onnx import TensorProto, helper

    if not flags:
        true = helper.make_tensor("true", TensorProto.BOOL, [1], [True])
        return g.op("ConstantOfShape", [g.op("Shape", [x], f"{column.name}_shape")], f"{column.name}_none", value=true)
    any_on = functools.reduce(lambda a, b: g.op("Or", [a, b], f"{column.name}_any"), flags)
    return g.op("Not", [any_on], f"{column.name}_none")


#: Column kind -> its part of the graph (dates never get here: ``REFUSED``).
ENCODERS = {"numeric": _numeric, "category": _category}


# ----------------------------------------------------------------------------- RE2 patterns
@functools.cache
def _python_whitespace() -> str:
    """The characters ``str.strip()`` removes (``str.isspace``), which RE2's ``\\s`` (ASCII only) does not all cover."""
    return "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def _escaped(character: str) -> str:
    """One character as RE2 reads it literally: letters and digits as they are, the rest as ``\\x{hex}``."""
    return character if character.isascii() and character.isalnum() else f"\\x{{{ord(character):x}}}"


def _literal(text: str) -> str:
    return "".join(map(_escaped, text))
