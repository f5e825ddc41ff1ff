"""The one preparation through the command line and Python: fit/predict/evaluate on a real-looking CSV, the save
and load round trip, a sweep that prepares inside every fold, and one task rule for advise."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
from prep_helpers import mixed_table
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, Preparation
from mlpkit.prep import UnseenCategoryWarning

QUICK = ["--set", "max_iter=15", "--hidden", "8", "--seed", "0"]


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory):
    """A CSV with row names, an id text, yes/no, a date, gaps, rare text levels, booleans; a label that depends
    on x and owner; two rows without a label."""
    frame = mixed_table(120)
    signal = np.nan_to_num(frame["x"].to_numpy(), nan=50) + 15 * (frame["owner"] == "yes")
    frame["label"] = np.where(signal > np.median(signal), "high", "low")
    frame.loc[[4, 8], "label"] = ""
    path = tmp_path_factory.mktemp("prep") / "people.csv"
    frame.to_csv(path, index=False)
    return path


def test_fit_predict_evaluate_a_csv_with_text_gaps_ids_and_dates(run_cli, mixed_csv, tmp_path):
    model = tmp_path / "people.mlpkit"
    code, _, err = run_cli("fit", mixed_csv, "--target", "label", "--out", model, *QUICK)
    assert code == 0, err
    assert "2 row(s) of" in err and "no target value and were left out" in err
    assert "left out: 'rownames'" in err and "'name' (a distinct text in every row" in err and "--keep rownames" in err
    assert "owner (no/yes values" in err and "when -> days, month, weekday" in err and "gaps filled: x" in err
    assert err.count("input scaling: StandardScaler") == 1  # each choice printed once

    fitted = mlpkit.load(model)
    assert isinstance(fitted, Pipeline) and isinstance(fitted.steps[0][1], Preparation)

    new = tmp_path / "new.csv"
    rows = list(csv.reader(open(mixed_csv)))
    header, body = rows[0], rows[1:6]
    body[0][header.index("colour")] = "purple"  # never seen in training
    with open(new, "w", newline="") as file:
        csv.writer(file).writerows([[c for c in header if c != "label"]] + [r[:-1] for r in body])
    code, out, err = run_cli("predict", model, new)
    assert code == 0, err
    assert out.splitlines()[0] == "prediction" and len(out.splitlines()) == 6
    assert "'colour' holds 1 level(s) not seen in training ('purple')" in err and "Traceback" not in err

    code, out, err = run_cli("evaluate", model, mixed_csv, "--target", "label")
    assert code == 0, err
    assert "accuracy" in out and "118" in out

    code, out, err = run_cli("inspect", model)
    assert code == 0, err
    assert "preparation: left out" in out and "input columns" in out and "rownames" in out


def test_lr_find_prepares_as_fit_does(run_cli, mixed_csv):
    code, out, err = run_cli("lr-find", mixed_csv, "--target", "label", "--hidden", "8", "--steps", "30",
                             "--categorical", "grade")  # fmt: skip
    assert code == 0, err
    assert "categories: one 0/1 column per level" in err and "grade (named as categorical" in err


def test_predict_without_a_training_column_names_it(run_cli, mixed_csv, tmp_path):
    model = tmp_path / "m.mlpkit"
    assert run_cli("fit", mixed_csv, "--target", "label", "--out", model, *QUICK)[0] == 0
    rows = list(csv.reader(open(mixed_csv)))
    keep = [i for i, name in enumerate(rows[0]) if name != "owner"]
    less = tmp_path / "less.csv"
    with open(less, "w", newline="") as file:
        csv.writer(file).writerows([[row[i] for i in keep] for row in rows[:5]])
    code, _, err = run_cli("predict", model, less)
    assert code == 2 and "lacks the column(s) 'owner'" in err


def test_categorical_and_keep_flags_reach_the_preparation(run_cli, mixed_csv, tmp_path):
    model = tmp_path / "m.mlpkit"
    code, _, err = run_cli("fit", mixed_csv, "--target", "label", "--out", model, "--categorical", "grade",
                           "--keep", "rownames", "--scale", "minmax", *QUICK)  # fmt: skip
    assert code == 0, err
    preparation = mlpkit.load(model).steps[0][1]
    kinds = {column.name: column.kind for column in preparation.columns_}
    assert kinds["grade"] == "category" and kinds["rownames"] == "numeric"
    assert preparation.scaling_.scaler == "MinMaxScaler"


def test_convert_refuses_a_prepared_model_saying_why(run_cli, mixed_csv, tmp_path):
    model = tmp_path / "m.mlpkit"
    assert run_cli("fit", mixed_csv, "--target", "label", "--out", model, *QUICK)[0] == 0
    code, _, err = run_cli("convert", model, "--to", "flucoma", "--out", tmp_path / "m.json")
    assert code == 2 and "data preparation (mlpkit.Preparation), encodes categories (owner" in err
    assert "FluCoMa's MLP and scaler files take numbers only" in err
    code, _, err = run_cli("convert", model, "--to", "onnx", "--out", tmp_path / "m.onnx")  # (the rest it holds)
    assert code == 2 and "data preparation (mlpkit.Preparation): column 'when' is a date" in err and "--drop when" in err


def test_a_prepared_regressor_round_trips_through_save_and_load(tmp_path):
    frame = mixed_table()
    y = 3 * np.nan_to_num(frame["x"].to_numpy(), nan=50) + 100
    model = TransformedTargetRegressor(
        Pipeline([("prepare", Preparation(categorical=["grade"])),
                  ("mlp", MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0))]),
        transformer=StandardScaler(),
    ).fit(frame, y)  # fmt: skip
    mlpkit.save(model, tmp_path / "m.mlpkit")
    loaded = mlpkit.load(tmp_path / "m.mlpkit")
    new = mixed_table(25, seed=1)
    new.loc[0, "colour"], new.loc[1, "owner"], new.loc[2, "x"] = "purple", None, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        np.testing.assert_allclose(loaded.predict(new), model.predict(new), rtol=0, atol=1e-12)
    assert loaded.regressor_.steps[0][1].fitted_state() == model.regressor_.steps[0][1].fitted_state()


def test_a_damaged_preparation_in_a_model_file_is_refused(tmp_path):
    import io
    import json
    import zipfile

    frame, y = mixed_table(), np.array(["a", "b"] * 30)
    model = Pipeline([("prepare", Preparation()), ("mlp", MLPClassifier(hidden_layer_sizes=(3,), max_iter=2))]).fit(frame, y)
    mlpkit.save(model, tmp_path / "m.mlpkit")
    archive = np.load(tmp_path / "m.mlpkit")
    arrays = {name: archive[name] for name in archive.files}
    header = json.loads(bytes(arrays["__header__"]).decode())
    header["model"]["steps"][0][1]["fitted"]["columns"][2]["kind"] = "image"
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (tmp_path / "bad.mlpkit").write_bytes(buffer.getvalue())
    assert zipfile.is_zipfile(tmp_path / "bad.mlpkit")
    with pytest.raises(mlpkit.io.ModelFileError, match=r"\['kind'\].*'image'"):
        mlpkit.load(tmp_path / "bad.mlpkit")


def test_sweep_prepares_inside_every_fold(run_cli, mixed_csv, tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    seen = []
    fit = Preparation.fit

    def recording_fit(self, X, y=None):
        seen.append(len(X))
        return fit(self, X, y)

    monkeypatch.setattr(Preparation, "fit", recording_fit)
    code, _, err = run_cli("sweep", mixed_csv, "--target", "label", "--space", "alpha=choice:0.0001/0.01",
                           "--trials", "2", "--cv", "3", "--runs", tmp_path / "runs", "--out", tmp_path / "best.mlpkit",
                           "--set", "max_iter=5", "--hidden", "4", "--seed", "0")  # fmt: skip
    assert code == 0, err
    rows = 118
    assert any(n < rows for n in seen)  # the folds' training parts: fitted there, not on every row
    assert all(n <= rows for n in seen)
    assert "fitted on the training part of every fold" in err
    best = mlpkit.load(tmp_path / "best.mlpkit")
    assert isinstance(best.steps[0][1], Preparation)


def test_no_fold_sees_a_level_that_only_its_held_out_rows_have():
    from sklearn.model_selection import KFold, cross_validate

    frame = mixed_table(60)
    frame["city"] = ["Oslo"] * 20 + ["Rome"] * 20 + ["Lima"] * 20  # each city in one fold only
    y = np.array(["a", "b"] * 30)
    model = Pipeline([("prepare", Preparation(min_frequency=1)), ("mlp", MLPClassifier(hidden_layer_sizes=(3,), max_iter=2))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        result = cross_validate(model, frame, y, cv=KFold(3), return_estimator=True)
    for held_out_city, fitted in zip(["Oslo", "Rome", "Lima"], result["estimator"]):
        city = next(column for column in fitted.steps[0][1].columns_ if column.name == "city")
        assert held_out_city not in city.levels and len(city.levels) == 2


def test_advise_reads_a_whole_number_quantity_alike_in_python_and_on_the_command_line(run_cli, tmp_path):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:331], y[:331]  # (the 331 training rows: some 185 distinct whole numbers)
    assert len(np.unique(y)) > 150 and np.all(y == np.round(y))
    assert mlpkit.advise(X, y, evidence_trials=False).task == "regress"
    path = tmp_path / "diabetes.csv"
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([[f"x{k}" for k in range(10)] + ["progression"]] + [[*row, int(t)] for row, t in zip(X, y)])
    code, out, err = run_cli("advise", path, "--target", "progression", "--no-trials")
    assert code == 0, err
    assert out.startswith("mlpkit advice: regression")


def test_advise_on_a_dataframe_builds_a_pipeline_with_the_preparation():
    frame = mixed_table(80)
    y = np.where(np.nan_to_num(frame["x"].to_numpy(), nan=50) > 50, "hi", "lo").astype(object)
    y[3] = None  # a missing target: left out, with a note
    advice = mlpkit.advise(frame, y, evidence_trials=False)
    assert advice.task == "classify" and any("1 row(s) with a missing target" in note for note in advice.notes)
    assert "left out: 'rownames'" in str(advice)
    model = advice.estimator()
    assert isinstance(model.steps[0][1], Preparation)
    keep = np.array([v is not None for v in y])
    model.set_params(mlp__max_iter=3).fit(frame[keep], y[keep].astype(str))


def test_an_unnamed_row_name_column_is_named_in_the_note_as_the_shell_needs_and_kept_when_asked(run_cli, tmp_path):
    frame = mixed_table(60).rename(columns={"rownames": ""})  # (R's write.csv: an empty header over the row names)
    frame["label"] = np.where(frame["owner"] == "yes", "a", "b")
    data, model = tmp_path / "rows.csv", tmp_path / "m.mlpkit"
    frame.to_csv(data, index=False)
    code, _, err = run_cli("fit", data, "--target", "label", "--out", model, *QUICK)
    assert code == 0, err
    assert "to keep one: --keep ''" in err  # (an unquoted --keep with nothing after it would name no column)
    assert "" not in [c.name for c in mlpkit.load(model).steps[0][1].columns_ if c.kind != "left out"]
    code, _, err = run_cli("fit", data, "--target", "label", "--out", model, "--keep", "", *QUICK)
    assert code == 0, err
    assert "" in [c.name for c in mlpkit.load(model).steps[0][1].columns_ if c.kind != "left out"]
