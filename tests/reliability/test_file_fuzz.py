"""Every file reader, fuzzed: only its documented exception, never a half-read object.

Readers and what each documents:

- ``flucoma.DataSet.read`` / ``LabelSet.read``, ``flucoma.read_regressor`` /
  ``read_classifier``, the scalers' ``read``: ``FluCoMaFormatError``;
- ``flucoma.MLPRegressor().read`` / ``MLPClassifier().read``: ``FluCoMaFormatError``
  or, for a model FluCoMa's MLP cannot be, ``ValueError``; the object read into
  stays as it was;
- ``mlpkit.load``: ``ModelFileError`` (an ``OSError`` only for a file that cannot
  be opened, which never happens here);
- ``mlpkit.data_files.read_data`` (the CLI's tabular readers): ``DataFileError``.

Inputs: byte-level damage to valid files (bit flips, replaced, deleted, inserted
and duplicated bytes, truncation), structural edits of valid JSON (a node
replaced by any JSON value, a key removed or added), any JSON document, and CSV
files of random cells in random encodings. What a reader accepts must be a
complete object: a set that writes back and reads the same, a model that
predicts (and, for the checksummed ``.npz`` format, predicts exactly as the
undamaged file's model).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from reliability_helpers import TARGETS, X, make, quiet

import mlpkit
from mlpkit import flucoma
from mlpkit.data_files import DataFileError, read_data
from mlpkit.flucoma import FluCoMaFormatError
from mlpkit.io import ModelFileError

DATA = Path(__file__).resolve().parent.parent / "data" / "flucoma"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])

# ------------------------------------------------------------------ strategies
JSON_LEAVES = (
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=16,
)


@st.composite
def damaged(draw, base: bytes):
    """``base`` with one to four kinds of byte damage."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "byte", "delete", "insert", "truncate", "duplicate"]))
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 32))]
    return bytes(data)


def _paths(node, path=()):
    """Every path into a parsed JSON document."""
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _paths(child, (*path, i))


@st.composite
def edited(draw, document):
    """``document`` (parsed JSON) with one to three structural edits."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if op == "replace":
                doc = draw(JSON_VALUES)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if op == "replace":
            parent[key] = draw(JSON_VALUES)
        elif op == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(JSON_VALUES)
        else:
            parent.insert(key, draw(JSON_VALUES))
    return doc


def json_inputs(base_text: str):
    """Damaged bytes of a valid file, structural edits of it, or any JSON document at all."""
    document = json.loads(base_text)
    return st.one_of(
        damaged(base_text.encode()),
        edited(document).map(lambda d: json.dumps(d).encode()),
        JSON_VALUES.map(lambda d: json.dumps(d).encode()),
    )


# ------------------------------------------------------------------ valid files
def _classifier_model():
    rng = np.random.RandomState(0)
    return {
        "labels": {"labels": ["kick", "snare"], "rows": 2},
        "mlp": {"layers": [
            {"activation": 2, "biases": rng.randn(3).tolist(), "cols": 3, "rows": 2,
             "weights": rng.randn(2, 3).tolist()},
            {"activation": 1, "biases": rng.randn(2).tolist(), "cols": 2, "rows": 3,
             "weights": rng.randn(3, 2).tolist()},
        ]},
    }


def _dataset():
    return flucoma.DataSet.from_numpy([f"p-{i}" for i in range(4)], X[:4])


def _labelset():
    return flucoma.LabelSet.from_numpy([f"p-{i}" for i in range(4)], ["kick", "snare", "hat", "kick"])


def _scaler_text(cls):
    with quiet():
        return flucoma.jsonio.dumps(cls().fit(_dataset()).to_dict())


BASE_TEXTS = {
    "DataSet": flucoma.jsonio.dumps(_dataset().to_dict()),
    "LabelSet": flucoma.jsonio.dumps(_labelset().to_dict()),
    "regressor model": (DATA / "xys-to-chords-regressor.json").read_text(),
    "classifier model": flucoma.jsonio.dumps(_classifier_model()),
    "Normalize": _scaler_text(flucoma.Normalize),
    "Standardize": _scaler_text(flucoma.Standardize),
    "RobustScale": _scaler_text(flucoma.RobustScale),
}


def _set_round_trips(obj, tmp_path):
    obj.write(tmp_path / "again.json")
    assert type(obj).read(tmp_path / "again.json").to_dict() == obj.to_dict()


def _model_predicts(layers):
    h = np.zeros((2, layers[0].weights.shape[0]))
    with np.errstate(all="ignore"):
        out = flucoma.predict_layers(layers, h)
    assert out.shape == (2, layers[-1].weights.shape[1])


# reader name -> (base text, read(path), what a successful read must satisfy(result, tmp_path))
JSON_READERS = {
    "DataSet.read": ("DataSet", flucoma.DataSet.read, _set_round_trips),
    "LabelSet.read": ("LabelSet", flucoma.LabelSet.read, _set_round_trips),
    "read_regressor": ("regressor model", flucoma.read_regressor, lambda layers, _: _model_predicts(layers)),
    "read_classifier": ("classifier model", flucoma.read_classifier, lambda result, _: _model_predicts(result[0])),
    "Normalize.read": ("Normalize", flucoma.Normalize.read, lambda s, p: _scaler_round_trips(s, p)),
    "Standardize.read": ("Standardize", flucoma.Standardize.read, lambda s, p: _scaler_round_trips(s, p)),
    "RobustScale.read": ("RobustScale", flucoma.RobustScale.read, lambda s, p: _scaler_round_trips(s, p)),
}


def _scaler_round_trips(scaler, tmp_path):
    scaler.write(tmp_path / "again.json")
    again = type(scaler).read(tmp_path / "again.json")
    assert again.to_dict() == scaler.to_dict()
    with np.errstate(all="ignore"):
        assert scaler.transform(np.zeros((1, scaler.n_features_in_))).shape == (1, scaler.n_features_in_)


@pytest.mark.parametrize("reader", list(JSON_READERS))
def test_the_valid_base_files_read(reader, tmp_path):
    base, read, check = JSON_READERS[reader]
    path = tmp_path / "base.json"
    path.write_text(BASE_TEXTS[base])
    check(read(path), tmp_path)


@pytest.mark.parametrize("reader", list(JSON_READERS))
@SETTINGS
@given(data=st.data())
def test_flucoma_json_readers_raise_only_flucoma_format_errors(reader, tmp_path, data):
    base, read, check = JSON_READERS[reader]
    raw = data.draw(json_inputs(BASE_TEXTS[base]), label="file")
    path = tmp_path / "fuzz.json"
    path.write_bytes(raw)
    try:
        result = read(path)
    except FluCoMaFormatError:
        return
    check(result, tmp_path)


# ------------------------------------------------- reading into an existing object
FLUCOMA_MODELS = {
    "MLPRegressor.read": (flucoma.MLPRegressor, "regressor model"),
    "MLPClassifier.read": (flucoma.MLPClassifier, "classifier model"),
}


def _state(model):
    return json.dumps(model.to_dict(), sort_keys=True), repr(model.get_params()), sorted(vars(model))


@pytest.mark.parametrize("reader", list(FLUCOMA_MODELS))
@SETTINGS
@given(data=st.data())
def test_flucoma_models_read_all_or_nothing(reader, tmp_path, data):
    cls, base = FLUCOMA_MODELS[reader]
    model = cls(random_state=0).read(json.loads(BASE_TEXTS[base]))  # holds a network already
    before = _state(model)
    raw = data.draw(json_inputs(BASE_TEXTS[base]), label="file")
    path = tmp_path / "fuzz.json"
    path.write_bytes(raw)
    try:
        model.read(path)
    except ValueError:  # FluCoMaFormatError, or a model FluCoMa's MLP cannot be
        assert _state(model) == before, "a failed read changed the model"
        return
    with np.errstate(all="ignore"):
        out = model.predict(np.zeros((2, model.layers[0].weights.shape[0])))
    assert len(out) == 2


# ------------------------------------------------------------------ mlpkit.load
def _saved_models():
    with quiet():
        classifier = make("classifier", early_stopping=True, validation_fraction=0.25).fit(X, TARGETS["classifier"])
        regressor = make("regressor", solver="sgd", activation="tanh").fit(X, TARGETS["regressor"])
    fluco = flucoma.MLPRegressor(random_state=0).read(json.loads(BASE_TEXTS["regressor model"]))
    return {"classifier npz": (classifier, "mlpkit"), "regressor npz": (regressor, "mlpkit"),
            "flucoma-style npz": (fluco, "mlpkit"), "regressor as FluCoMa JSON": (regressor, "flucoma")}


SAVED = {}


def saved(name, tmp_path_factory):
    if name not in SAVED:
        model, fmt = _saved_models()[name]
        path = tmp_path_factory.mktemp("saved") / ("model.json" if fmt == "flucoma" else "model.npz")
        mlpkit.save(model, path, format=fmt)
        reference = mlpkit.load(path)
        SAVED[name] = (path.read_bytes(), reference, fmt)
    return SAVED[name]


def _predictions(model, n_features):
    inputs = np.linspace(-1, 1, 2 * n_features).reshape(2, n_features)
    with np.errstate(all="ignore"):
        if hasattr(model, "predict_proba") and not isinstance(model, flucoma.MLPClassifier):
            return model.predict_proba(inputs)
        return np.asarray(model.predict(inputs), dtype=float)


def _n_features(model):
    return model.layers[0].weights.shape[0] if hasattr(model, "layers") else model.n_features_in_


@pytest.mark.parametrize("name", ["classifier npz", "regressor npz", "flucoma-style npz", "regressor as FluCoMa JSON"])
@SETTINGS
@given(data=st.data())
def test_load_of_a_damaged_file_raises_model_file_error_or_gives_the_same_model(name, tmp_path_factory, data):
    raw, reference, fmt = saved(name, tmp_path_factory)
    if fmt == "flucoma":
        damage = data.draw(json_inputs(raw.decode()), label="file")
    else:
        damage = data.draw(damaged(raw), label="file")
    path = tmp_path_factory.mktemp("fuzz") / ("model.json" if fmt == "flucoma" else "model.npz")
    path.write_bytes(damage)
    try:
        model = mlpkit.load(path)
    except ModelFileError as error:
        assert str(error).startswith(str(path))
        return
    n = _n_features(model)
    out = _predictions(model, n)
    if fmt == "mlpkit":  # checksummed: what loads is the saved model, bit for bit
        assert type(model) is type(reference)
        assert n == _n_features(reference)
        assert np.array_equal(out, _predictions(reference, n))
    else:  # JSON has no checksum: another valid model may come out, but a complete one
        assert out.shape[0] == 2


# ------------------------------------------------------------------ data files (CLI)
WHOLE = st.integers(-(10**30), 10**30).map(str)  # beyond int64 too
CELLS = st.one_of(
    WHOLE,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e6, 1e6).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["", " ", "nan", "NA", "null", "None", "inf", "-inf", "1e400", "True", "0x1F", "1,5", "\"",
                     "a\nb", "é", "ß", "\x00", "\ufeff", "1_000", " 7 "]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=5),
)
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]


@st.composite
def csv_files(draw):
    n_cols = draw(st.integers(1, 4))
    header = draw(st.lists(st.sampled_from(["a", "b", "y", "label", "", "é", "a"]) | st.text(max_size=3),
                           min_size=n_cols, max_size=n_cols))
    rows = draw(st.lists(st.lists(CELLS, min_size=n_cols, max_size=n_cols), max_size=6))
    if draw(st.booleans()):  # a ragged row
        rows.append(draw(st.lists(CELLS, max_size=n_cols + 2)))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONNUMERIC, csv.QUOTE_ALL])))
    for row in [header, *rows]:
        writer.writerow(row)
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n")
    raw = text.encode(draw(st.sampled_from(ENCODINGS)), errors="ignore")
    if draw(st.booleans()):
        raw = draw(damaged(raw)) if raw else raw
    target = draw(st.none() | st.sampled_from(header) | st.just("a,b") | st.just("missing"))
    suffix = draw(st.sampled_from([".csv", ".tsv", ".txt"]))
    return raw, target, suffix


def _check_data(data):
    assert data.X.ndim == 2 and data.X.shape[0] >= 1 and data.X.shape[1] >= 1
    if hasattr(data.X, "columns"):  # text, gaps, dates: handed on for the data preparation (issue 28)
        numbers = data.X.select_dtypes("number").to_numpy()
        assert not np.isinf(numbers).any()  # gaps (NaN) are allowed; infinities are still refused
    else:
        assert data.X.dtype == np.float64 and np.isfinite(data.X).all()
    if data.feature_names is not None:
        assert len(data.feature_names) == data.X.shape[1]
    if data.y is not None:
        assert len(data.y) == data.X.shape[0]
        if data.y.dtype.kind == "f":
            assert np.isfinite(data.y).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(case=csv_files())
def test_csv_reader_raises_only_data_file_errors(tmp_path, case):
    raw, target, suffix = case
    path = tmp_path / f"data{suffix}"
    path.write_bytes(raw)
    try:
        data = read_data(path, target=target)
    except DataFileError as error:
        assert str(path) in str(error) or "column" in str(error)
        return
    _check_data(data)


def _numpy_bases():
    npy = io.BytesIO()
    np.save(npy, np.column_stack([X, TARGETS["regressor"]]))
    npz = io.BytesIO()
    np.savez(npz, X=X, y=TARGETS["classifier"])
    return {".npy": (npy.getvalue(), "-1"), ".npz": (npz.getvalue(), "y")}


NUMPY_BASES = _numpy_bases()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
@settings(SETTINGS, phases=[Phase.generate])  # no shrinking: the .npz case fails, and quickly
@given(data=st.data())
def test_numpy_readers_raise_only_data_file_errors(suffix, tmp_path, data):
    base, target = NUMPY_BASES[suffix]
    raw = data.draw(damaged(base), label="file")
    path = tmp_path / f"data{suffix}"
    path.write_bytes(raw)
    try:
        result = read_data(path, target=data.draw(st.sampled_from([target, None, "0", "zz"]), label="target"))
    except DataFileError:
        return
    _check_data(result)


def _parquet_base():
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "label": np.array(["u", "v"])[TARGETS["classifier"]]})
    pq.write_table(table, buffer)
    return buffer.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_parquet_reader_raises_only_data_file_errors(tmp_path, data):
    raw = data.draw(damaged(_parquet_base()), label="file")
    path = tmp_path / "data.parquet"
    path.write_bytes(raw)
    try:
        result = read_data(path, target="label")
    except DataFileError:
        return
    _check_data(result)


@SETTINGS
@given(data=st.data(), which=st.sampled_from(["data", "target"]))
def test_flucoma_json_data_files_raise_only_data_file_errors(tmp_path, data, which):
    features, labels = BASE_TEXTS["DataSet"], BASE_TEXTS["LabelSet"]
    if which == "data":
        features = data.draw(json_inputs(features), label="data file")
    else:
        labels = data.draw(json_inputs(labels), label="target file")
    features_path, labels_path = tmp_path / "features.json", tmp_path / "labels.json"
    features_path.write_bytes(features if isinstance(features, bytes) else features.encode())
    labels_path.write_bytes(labels if isinstance(labels, bytes) else labels.encode())
    assume(not _data_is_not_an_object(features) and not _data_is_not_an_object(labels))  # known: see below
    try:
        result = read_data(features_path, target=str(labels_path))
    except DataFileError:
        return
    _check_data(result)


# ------------------------------------------------------------------ known gaps
def _data_is_not_an_object(raw):
    """A document {"cols": ..., "data": <not an object>}."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(document, dict) and set(document) == {"cols", "data"} and not isinstance(document["data"], dict)


@pytest.mark.parametrize("data", ["null", "[]", "3", '"x"'])
def test_a_flucoma_data_file_whose_data_is_not_an_object_is_a_data_file_error(data, tmp_path):
    path = tmp_path / "features.json"
    path.write_text(f'{{"cols": 3, "data": {data}}}')
    with pytest.raises(DataFileError):
        read_data(path)



def _npz_damaged(kind):
    raw = bytearray(NUMPY_BASES[".npz"][0])
    if kind == "a flipped data byte (bad CRC-32)":
        raw[200] ^= 1
    elif kind == "an unknown compression method":
        raw[raw.index(b"PK\x01\x02") + 10] = 99  # the first central directory entry's compression method
    else:  # the first member's name changed in its local header only
        raw[30] = ord("Z")
    return bytes(raw)


@pytest.mark.parametrize("kind", ["a flipped data byte (bad CRC-32)", "an unknown compression method",
                                  "a renamed local header"])
def test_a_damaged_npz_data_file_is_a_data_file_error(kind, tmp_path):
    path = tmp_path / "data.npz"
    path.write_bytes(_npz_damaged(kind))
    try:
        data = read_data(path, target="y")
    except DataFileError:
        return
    _check_data(data)



DEEP = '{"cols": 1, "data": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
ALL_JSON_READERS = {
    **{name: read for name, (_, read, _) in JSON_READERS.items()},
    "MLPRegressor().read": lambda path: flucoma.MLPRegressor().read(path),
    "MLPClassifier().read": lambda path: flucoma.MLPClassifier().read(path),
}


@pytest.mark.parametrize("reader", list(ALL_JSON_READERS))
def test_deeply_nested_json_is_a_format_error(reader, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    with pytest.raises(FluCoMaFormatError):
        ALL_JSON_READERS[reader](path)


def test_deeply_nested_json_data_file_is_a_data_file_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    with pytest.raises(DataFileError):
        read_data(path)


def test_deeply_nested_model_file_is_a_model_file_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    with pytest.raises(ModelFileError):
        mlpkit.load(path)


@pytest.mark.parametrize("cls, text", [
    (flucoma.DataSet, '{"cols": 1, "data": {"\\ud800": [1.0]}}'),
    (flucoma.LabelSet, '{"cols": 1, "data": {"a": ["\\udc00"]}}'),
], ids=["DataSet identifier", "LabelSet label"])
def test_a_lone_surrogate_is_refused_or_round_trips(cls, text, tmp_path):
    path = tmp_path / "surrogate.json"
    path.write_text(text)
    try:
        obj = cls.read(path)
    except FluCoMaFormatError:
        return
    _set_round_trips(obj, tmp_path)


@pytest.mark.parametrize("column", ["feature", "target"])
def test_a_whole_number_beyond_int64_in_a_csv_is_read_or_a_data_file_error(column, tmp_path):
    path = tmp_path / "big.csv"
    big = "9" * 30
    path.write_text(f"a,y\n{big},1\n2,3\n" if column == "feature" else f"a,y\n1,{big}\n2,3\n")
    try:
        data = read_data(path, target="y")
    except DataFileError:
        return
    _check_data(data)
