"""FluCoMa JSON text: every real file loads, writes back as FluCoMa wrote it, atomically."""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from mlpkit.flucoma import DataSet, FluCoMaFormatError, LabelSet, jsonio, read_regressor, regressor_to_dict
from mlpkit.flucoma.jsonio import dumps, read_json, write_json

#: Files written by FluCoMa itself (README.md there says what each is).
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "flucoma"

# Each example file and how to read it into mlpkit and back into a JSON object.
READERS = {
    "xys-dataset.json": lambda p: DataSet.read(p).to_dict(),
    "chords-dataset.json": lambda p: DataSet.read(p).to_dict(),
    "timbre-dataset.json": lambda p: DataSet.read(p).to_dict(),
    "timbre-labelset.json": lambda p: LabelSet.read(p).to_dict(),
    "xys-to-chords-regressor.json": lambda p: regressor_to_dict(read_regressor(p)),
    "trombone-autoencoder-regressor.json": lambda p: regressor_to_dict(read_regressor(p)),
}

# FluCoMa's text for these has numbers that Python writes differently (same doubles); see
# test_number_text_differences for exactly how.
NOT_BYTE_IDENTICAL = {"timbre-dataset.json", "trombone-autoencoder-regressor.json"}


def test_every_example_file_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(READERS)


@pytest.fixture(scope="module")
def round_tripped():
    """file name -> (FluCoMa's text, mlpkit's text after reading and writing it)."""
    out = {}
    for name, read in READERS.items():
        path = EXAMPLES / name
        out[name] = (path.read_text(encoding="utf-8"), dumps(read(path)))
    return out


@pytest.mark.parametrize("name", sorted(READERS))
def test_read_write_read_keeps_every_value(round_tripped, name):
    original, written = round_tripped[name]
    assert json.loads(written) == json.loads(original)  # same keys, same order of rows, same doubles


@pytest.mark.parametrize("name", sorted(set(READERS) - NOT_BYTE_IDENTICAL))
def test_read_write_is_byte_identical(round_tripped, name, tmp_path):
    original, written = round_tripped[name]
    assert written == original
    write_json(tmp_path / name, json.loads(original))
    assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(NOT_BYTE_IDENTICAL))
def test_number_text_differences(round_tripped, name):
    """Where the text differs, it is only a number, and both texts are the same double.

    FluCoMa prints doubles with nlohmann::json's Grisu2, Python with the shortest repr:
    either FluCoMa's digits are longer than needed (``-0.13654457676669501`` against
    ``-0.136544576766695``), or the double lies exactly half-way between two equally short
    texts and FluCoMa rounds the last digit up where Python rounds to even
    (``10.6021270751953125``: ``10.602127075195313`` against ``10.602127075195312``).
    """
    original, written = round_tripped[name]
    old_lines, new_lines = original.splitlines(), written.splitlines()
    assert len(old_lines) == len(new_lines)
    differing = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert differing
    for a, b in differing:
        theirs, ours = a.strip().rstrip(","), b.strip().rstrip(",")
        assert a.endswith(",") == b.endswith(",")
        assert float(theirs) == float(ours)
        assert len(ours) <= len(theirs)
        if len(ours) == len(theirs):  # a tie: the exact double ends in 5 right after our last digit
            exact = Decimal(float(ours))
            assert abs(exact - Decimal(ours)) == abs(exact - Decimal(theirs))


@pytest.mark.parametrize("name", sorted(READERS))
def test_write_read_write_is_byte_stable(round_tripped, name, tmp_path):
    _, written = round_tripped[name]
    path = tmp_path / name
    write_json(path, json.loads(written))
    assert path.read_text(encoding="utf-8") == written
    write_json(path, READERS[name](path))
    assert path.read_text(encoding="utf-8") == written


def test_text_format_is_flucomas():
    text = dumps({"data": {"café": [1e-05, 0.0001, 1.0, -0.0]}, "cols": 4})
    assert text == (
        '{\n  "cols": 4,\n  "data": {\n    "café": [\n      1e-05,\n      0.0001,\n'
        "      1.0,\n      -0.0\n    ]\n  }\n}\n"
    )


def test_floats_round_trip_exactly():
    values = [0.1, 1 / 3, 2**-1074, 1.7976931348623157e308, -2.5e-300, 123456789.123456789]
    assert json.loads(dumps({"v": values}))["v"] == values


def test_dumps_refuses_nan():
    with pytest.raises(ValueError):
        dumps({"v": [float("nan")]})


# -- atomic writing ------------------------------------------------------------------------------


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "ds.json"
    path.write_text("old")
    write_json(path, {"cols": 0, "data": {}})
    assert path.read_text() == '{\n  "cols": 0,\n  "data": {}\n}\n'
    assert _leftovers(tmp_path) == ["ds.json"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "ds.json"
    path.write_text("old contents")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, failing, boom)  # "fsync": after the text is written, before replace
    with pytest.raises(OSError, match="disk full"):
        DataSet.from_dict({"cols": 1, "data": {"a": [1.0]}}).write(path)
    assert path.read_text() == "old contents"
    assert _leftovers(tmp_path) == ["ds.json"]


def test_unwritable_object_touches_nothing(tmp_path):
    path = tmp_path / "ds.json"
    path.write_text("old contents")
    with pytest.raises(ValueError):
        write_json(path, {"v": float("inf")})
    assert path.read_text() == "old contents"
    assert _leftovers(tmp_path) == ["ds.json"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    write_json(tmp_path / "x.json", {})
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o666 & ~umask


# -- bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"cols": 2, "data": {"a": [1.0, ', "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "top level is a JSON array"),
        ('{"cols": 1, "data": {"a": [NaN]}}', "NaN"),
        ('{"cols": 1, "data": {"a": [Infinity]}}', "Infinity"),
        ('{"cols": 1, "data": {"a": [1], "a": [2]}}', "'a' twice"),
    ],
)
def test_bad_text_says_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FluCoMaFormatError, match=message) as err:
        read_json(path)
    assert str(path) in str(err.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"cols": 1, "data": {"\xff": [1]}}')
    with pytest.raises(FluCoMaFormatError, match="not UTF-8"):
        read_json(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_json(EXAMPLES / "no-such-file.json")


def test_huge_number_is_not_finite():
    with pytest.raises(FluCoMaFormatError, match="finite"):
        DataSet.from_dict(jsonio.loads('{"cols": 1, "data": {"a": [1e400]}}'))
