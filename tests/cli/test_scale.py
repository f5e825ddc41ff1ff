"""``mlpkit fit --stream`` (a file read a chunk at a time) and ``mlpkit fit --processes N`` (data parallel)."""

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, network, write_csv
from sklearn.datasets import make_classification, make_regression

import mlpkit
from mlpkit import engine
from mlpkit.stream import fit_stream

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CHUNK = 100
TRAIN = ["{d}/train.parquet", "--target", "kind"]
SMALL = ["--hidden", "8", "--seed", "0", "--set", "learning_rate_init=0.01"]


def write_parquet(path, columns, rows_per_group=300):
    pq.write_table(pa.table(columns), path, row_group_size=rows_per_group)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """train.parquet: 1200 rows, features f0..f3, text labels 'kind'; and files that are wrong in one way each."""
    d = tmp_path_factory.mktemp("stream")
    X, y = make_classification(
        1200, 4, n_informative=3, n_redundant=0, n_classes=3, class_sep=2.0, random_state=0
    )
    features = {f"f{j}": X[:, j].astype(np.float32) for j in range(4)}
    write_parquet(d / "train.parquet", {**features, "kind": np.array(["a", "b", "c"])[y]})
    (d / "broken.parquet").write_bytes(b"this is not parquet")
    label = y[:600].copy()
    label[3 * CHUNK : 3 * CHUNK + 5] = 9  # only in chunk 3, which --validation 0.5 holds out
    write_parquet(d / "unseen_label.parquet", {**{k: v[:600] for k, v in features.items()}, "label": label})
    write_parquet(d / "three_chunks.parquet", {**{k: v[:300] for k, v in features.items()}, "label": y[:300]})
    write_csv(d / "text_feature.csv", ["size", "colour", "y"], [[1.0, "red", 0], [2.0, "blue", 1]])
    # A CSV row with 3 cells where the header has 9, past pyarrow's first 1 MB block: a later chunk.
    rng = np.random.default_rng(0)
    lines = [",".join(f"x{j}" for j in range(8)) + ",y"]
    lines += [",".join(f"{v:.9f}" for v in row) + ",1" for row in rng.standard_normal((20_000, 8))]
    lines[19_000] = "1,2,3"
    (d / "ragged.csv").write_text("\n".join(lines) + "\n")
    np.savez(d / "arrays.npz", X=X, y=y)
    return d


def test_stream_trains_as_fit_stream_does_and_saves_the_model(mlpkit_cli, files, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cli(
        "fit",
        files / "train.parquet",
        "--target",
        "kind",
        "--stream",
        "--chunk-rows",
        CHUNK,
        "--epochs",
        3,
        "--validation",
        "0.25",
        "--shuffle-buffer",
        300,
        "--out",
        out,
        *SMALL,
    )
    assert result.code == 0, result.err
    assert "task classify for kind: the target holds 3 distinct labels in the first chunk" in result.err
    expected = fit_stream(
        mlpkit.MLPClassifier(hidden_layer_sizes=(8,), random_state=0, learning_rate_init=0.01),
        files / "train.parquet", target="kind", epochs=3, chunk_rows=CHUNK, validation=4, shuffle_buffer=300,
        random_state=0,
    )  # fmt: skip
    model = mlpkit.load(out)
    for saved, streamed in zip(model.coefs_ + model.intercepts_, expected.coefs_ + expected.intercepts_):
        np.testing.assert_allclose(saved, streamed, rtol=1e-6)
    assert list(model.classes_) == ["a", "b", "c"]
    assert list(model.feature_names_in_) == ["f0", "f1", "f2", "f3"]  # predict picks the columns by name
    history = expected.stream_history_
    for epoch, (loss, val_loss, score) in enumerate(
        zip(*(history[k] for k in ("train_loss", "val_loss", "val_score")))
    ):
        assert (
            f"epoch {epoch + 1}/3: training loss {loss:.4g}, validation loss {val_loss:.4g}, accuracy {score:.4g}"
            in result.err
        )
    best = history["best_epoch"]
    assert "Streamed training" in result.out and "2,700 (900 per epoch)" in result.out  # 3 of every 4 chunks
    assert f"{history['val_loss'][best]:.4g} (epoch {best + 1}" in result.out


def test_stream_a_csv_regressor(mlpkit_cli, tmp_path):
    X, y = make_regression(900, 5, noise=1.0, random_state=0)
    path = write_csv(tmp_path / "houses.csv", [f"x{j}" for j in range(5)] + ["price"],
                     np.column_stack([X, y / y.std()]).tolist())  # fmt: skip
    out = tmp_path / "m.npz"
    result = mlpkit_cli(
        "fit", path, "--target", "price", "--stream", "--chunk-rows", 200, "--epochs", 2, "--out", out, *SMALL
    )
    assert result.code == 0, result.err
    assert "task regress for price" in result.err and "epoch 2/2: training loss" in result.err
    assert "1,800 (900 per epoch)" in result.out
    assert "no held-out score" in result.err and "--validation 0.1" in result.err
    model = mlpkit.load(out)
    assert isinstance(model, mlpkit.MLPRegressor) and model.n_features_in_ == 5 and model.t_ == 1800


def test_ctrl_c_stops_the_stream_saves_the_model_and_exits_130(mlpkit_cli, files, tmp_path, monkeypatch, compiled_loop):
    run_epochs, calls = engine.run_epochs_compiled, []

    def press_ctrl_c_in_the_sixth_chunk(*args):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return run_epochs(*args)

    monkeypatch.setattr(engine, "run_epochs_compiled", press_ctrl_c_in_the_sixth_chunk)
    out = tmp_path / "m.npz"
    result = mlpkit_cli("fit", files / "train.parquet", "--target", "kind", "--stream", "--chunk-rows", CHUNK,
                        "--epochs", 3, "--out", out, *SMALL)  # fmt: skip
    assert result.code == 130, result.err
    assert (
        "interrupted (Ctrl-C)" in result.out
        and "0 of --epochs 3" in result.out
        and "Traceback" not in result.err
    )
    assert "training was interrupted; the model so far is saved in" in result.err
    assert mlpkit.load(out).t_ == 5 * CHUNK  # five chunks trained; the sixth was cut short
    assert len(calls) == 6  # and the stream did not go on


def test_processes_train_as_one_process_does(mlpkit_cli, data_dir, tmp_path):
    settings = ["--target", "species", "--hidden", "8", "--seed", "0", "--no-progress", "--set", "max_iter=5",
                "--set", "shuffle=False", "--set", "batch_size=32", "--set", "dtype=float64"]  # fmt: skip
    parallel = mlpkit_cli(
        "fit", data_dir / "iris.csv", "--processes", 2, "--out", tmp_path / "two.npz", *settings
    )
    assert parallel.code == 0, parallel.err
    assert "5 of max_iter=5" in parallel.out and "accuracy" in parallel.out
    assert mlpkit_cli("fit", data_dir / "iris.csv", "--out", tmp_path / "one.npz", *settings).code == 0
    two, one = mlpkit.load(tmp_path / "two.npz"), mlpkit.load(tmp_path / "one.npz")
    assert list(two.feature_names_in_) == list(one.feature_names_in_) and list(two.classes_) == list(
        one.classes_
    )
    two, one = network(two), network(one)  # (after the same scaler: --scale auto)
    for a, b in zip(two.coefs_ + two.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "argv, fragments",
    [
        # the file, read a chunk at a time
        (["{d}/broken.parquet", "--target", "y", "--stream"], ["cannot read '{d}/broken.parquet'"]),
        (["{d}/nowhere.parquet", "--target", "y", "--stream"], ["cannot read '{d}/nowhere.parquet'"]),
        (["{d}/ragged.csv", "--target", "y", "--stream", "--chunk-rows", "1000"],
         ["chunk 18 of '{d}/ragged.csv' (line 19001) cannot be read", "Expected 9 columns, got 3"]),
        (["{d}/unseen_label.parquet", "--target", "label", "--stream", "--chunk-rows", "100", "--validation", "0.5"],
         ["chunk 3 of the validation rows has labels [9] never seen in training"]),
        (["{d}/three_chunks.parquet", "--target", "label", "--stream", "--chunk-rows", "100", "--validation", "0.1"],
         ["validation=10 holds out chunks 9, 19, ...", "fewer than 10 chunks: nothing is held out"]),
        (["{d}/train.parquet", "--target", "label", "--stream"], ["has no column 'label'", "'f0', 'f1', 'f2', 'f3', 'kind'"]),
        (["{d}/text_feature.csv", "--target", "y", "--stream"], ["column 'colour'", "holds string, not numbers"]),
        (["{d}/arrays.npz", "--target", "y", "--stream"], ["--stream reads Parquet or CSV files", "drop --stream"]),
        (["{d}/train.parquet", "--stream"], ["name the label column with --target"]),
        # flags
        ([*TRAIN, "--chunk-rows", "100"], ["--chunk-rows goes with --stream"]),
        ([*TRAIN, "--epochs", "3"], ["--epochs goes with --stream", "--set max_iter=E"]),
        ([*TRAIN, "--stream", "--validation", "0.7"], ["--validation '0.7': give the share"]),
        ([*TRAIN, "--stream", "--chunk-rows", "0"], ["--chunk-rows '0': give a whole number of at least 1"]),
        ([*TRAIN, "--stream", "--patience", "2"], ["add --validation SHARE"]),
        ([*TRAIN, "--stream", "--test-size", "0.2"], ["--stream and --test-size do not go together", "--validation"]),
        ([*TRAIN, "--stream", "--processes", "2"], ["--stream and --processes do not go together"]),
        ([*TRAIN, "--stream", "--track", "{d}/runs"], ["--stream and --track do not go together"]),
        ([*TRAIN, "--stream", "--set", "max_iter=5"], ["use --epochs 5, not --set max_iter"]),
        ([*TRAIN, "--stream", "--set", "early_stopping=True"], ["--validation SHARE"]),
        ([*TRAIN, "--stream", "--set", "solver=lbfgs"], ["which solver='lbfgs' lacks"]),
        ([*TRAIN, "--timeout", "5"], ["--timeout limits the processes of --processes N"]),
        ([*TRAIN, "--processes", "0"], ["--processes '0': give a whole number of at least 1"]),
        ([*TRAIN, "--processes", "2", "--dashboard"], ["--processes 2 and --dashboard do not go together"]),
        ([*TRAIN, "--processes", "2", "--set", "solver=lbfgs"],
         ["--processes 2: fit_data_parallel trains with stochastic solvers; solver='lbfgs'", "without --processes"]),
        ([*TRAIN, "--processes", "2", "--timeout", "0.2"],
         ["--processes 2: process(es) [0, 1] of 2 did not finish within 0.2 s and were stopped", "--timeout"]),
    ],
)  # fmt: skip
def test_bad_input_gives_one_line_and_exit_code_2(mlpkit_cli, files, tmp_path, argv, fragments):
    argv = [a.format(d=files) for a in argv]
    result = mlpkit_cli("fit", *argv, "--out", tmp_path / "never.npz", "--hidden", "4")
    assert_one_line_error(result, *(f.format(d=files) for f in fragments))
    assert not (tmp_path / "never.npz").exists()
