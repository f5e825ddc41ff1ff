"""mlpkit.stream.fit_stream: several epochs over chunks, files read in record batches, bad input.

Speed: every test trains the same small network (8 features, hidden (16,), 3 classes) on chunks
of CHUNK rows, so the suite shares a few compiled programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split

from mlpkit import MLPClassifier, MLPRegressor, engine
from mlpkit.stream import (
    StreamError,
    _recut,
    as_chunk_reader,
    evaluate,
    feature_names,
    fit_stream,
    shuffled_chunks,
)

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CHUNK = 500
N_FEATURES = 8
SMALL = dict(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        4000, N_FEATURES, n_informative=6, n_redundant=0, n_classes=3, class_sep=1.5, random_state=0
    )
    X = X.astype(np.float32)
    return train_test_split(X, y, test_size=1000, random_state=0)


def chunks_of(X, y, rows=CHUNK):
    return [(X[i : i + rows], y[i : i + rows]) for i in range(0, len(X), rows)]


def write_parquet(path, X, y, rows_per_group=CHUNK):
    table = pa.table({**{f"x{j}": X[:, j] for j in range(X.shape[1])}, "label": y})
    pq.write_table(table, path, row_group_size=rows_per_group)
    return path


# ------------------------------------------------------------------------------------- training
def test_stream_reaches_the_in_memory_accuracy(data):
    X_train, X_test, y_train, y_test = data
    in_memory = MLPClassifier(**SMALL, max_iter=8, batch_size=100).fit(X_train, y_train)
    streamed = fit_stream(
        MLPClassifier(**SMALL, batch_size=100),
        chunks_of(X_train, y_train),
        epochs=8,
        chunk_rows=CHUNK,
        random_state=0,
    )
    expected = in_memory.score(X_test, y_test)
    assert expected > 0.8
    assert streamed.score(X_test, y_test) >= expected - 0.03
    history = streamed.stream_history_
    assert len(history["train_loss"]) == 8 and history["rows_trained"] == 8 * len(X_train)
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_classes_found_in_a_first_pass_or_given(data):
    X_train, _, y_train, _ = data
    labels = np.array(["a", "b", "c"])[y_train]
    found = fit_stream(MLPClassifier(**SMALL), lambda: iter(chunks_of(X_train, labels)), chunk_rows=CHUNK)
    assert found.classes_.tolist() == ["a", "b", "c"]
    given = fit_stream(
        MLPClassifier(**SMALL), chunks_of(X_train, labels), classes=["c", "b", "a"], chunk_rows=CHUNK
    )
    assert given.classes_.tolist() == ["a", "b", "c"]


def test_regressor_with_a_separate_validation_source():
    X, y = make_regression(2500, N_FEATURES, noise=5.0, random_state=0)
    X, y = X.astype(np.float32), (y / y.std()).astype(np.float32)
    model = fit_stream(
        MLPRegressor(**SMALL),
        chunks_of(X[:2000], y[:2000]),
        validation=chunks_of(X[2000:], y[2000:]),
        epochs=6,
        chunk_rows=CHUNK,
        monitor="score",
    )
    history = model.stream_history_
    assert len(history["val_score"]) == 6
    assert max(history["val_score"]) > 0.8
    assert model.score(X[2000:], y[2000:]) == pytest.approx(max(history["val_score"]), abs=1e-3)


@pytest.mark.parametrize(
    "loss, per_row",
    [("squared_error", lambda r: 0.5 * r**2), ("absolute_error", np.abs)],  # as the estimator's loss_
)
def test_a_regressors_validation_loss_is_its_training_loss(loss, per_row):
    X, y = make_regression(1000, N_FEATURES, noise=5.0, random_state=0)
    X, y = X.astype(np.float32), (y / y.std()).astype(np.float32)
    model = fit_stream(MLPRegressor(**SMALL, loss=loss), chunks_of(X, y), chunk_rows=CHUNK, shuffle_buffer=0)
    loss_value, _ = evaluate(model, as_chunk_reader(chunks_of(X, y)))
    assert loss_value == pytest.approx(float(np.mean(per_row(model.predict(X) - y))), rel=1e-4)


def fit_with_held_out_chunks(data, epochs, **params):
    """A classifier streamed over ``data``'s training rows with every third chunk held out (patience 2)."""
    X_train, _, y_train, _ = data
    chunks = chunks_of(X_train, y_train)
    model = MLPClassifier(**{**SMALL, **params})
    fit_stream(model, chunks, validation=3, epochs=epochs, patience=2, chunk_rows=CHUNK, random_state=0)
    return model, chunks, model.stream_history_["val_loss"]


def held_out_loss(model, chunks):
    """The model's loss on the chunks ``fit_with_held_out_chunks`` held out."""
    return evaluate(model, as_chunk_reader([c for i, c in enumerate(chunks) if i % 3 == 2]), model.classes_)[0]


def test_early_stopping_keeps_the_best_epochs_weights(data):
    # a learning rate far too large: the validation loss soon stops improving
    model, chunks, losses = fit_with_held_out_chunks(data, epochs=12, learning_rate_init=0.5)
    history = model.stream_history_
    assert history["best_epoch"] == int(np.argmin(losses))
    assert len(losses) <= 12
    assert held_out_loss(model, chunks) == pytest.approx(min(losses), rel=1e-5)


def test_the_lowest_validation_loss_is_kept_even_when_it_improved_by_less_than_tol(data):
    # tol=10: no epoch after the first counts as an improvement, so by fit's rule training stops once
    # more than patience (2) epochs in a row did not improve: after 1 + 3 epochs; the weights kept
    # must still be those of the lowest validation loss, not of the first epoch
    model, chunks, losses = fit_with_held_out_chunks(data, epochs=10, tol=10.0)
    history = model.stream_history_
    assert len(losses) == 4 and int(np.argmin(losses)) != 0
    assert history["best_epoch"] == int(np.argmin(losses))
    assert held_out_loss(model, chunks) == pytest.approx(min(losses), rel=1e-5)


def test_ctrl_c_ends_the_stream_with_a_warning_and_the_best_epochs_weights(data, monkeypatch, compiled_loop):
    X_train, _, y_train, _ = data
    chunks = chunks_of(X_train, y_train)  # 6 chunks; validation=3 holds out 2, so 4 trained per epoch
    run_epochs, calls = engine.run_epochs_compiled, []

    def ctrl_c_in_the_second_chunk_of_epoch_3(*args):  # partial_fit runs one epoch: one call a chunk
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return run_epochs(*args)

    monkeypatch.setattr(engine, "run_epochs_compiled", ctrl_c_in_the_second_chunk_of_epoch_3)
    epochs_heard = []
    model = MLPClassifier(**SMALL)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        fit_stream(
            model, chunks, validation=3, epochs=5, chunk_rows=CHUNK, random_state=0,
            on_epoch=lambda epoch, history: epochs_heard.append((epoch, len(history["val_loss"]))),
        )  # fmt: skip
    history = model.stream_history_
    assert epochs_heard == [(1, 1), (2, 2)] and len(history["train_loss"]) == 2 and len(calls) == 10
    assert history["rows_trained"] == 9 * CHUNK
    held_out = as_chunk_reader([c for i, c in enumerate(chunks) if i % 3 == 2])
    loss, _ = evaluate(model, held_out, model.classes_)
    assert loss == pytest.approx(min(history["val_loss"]), rel=1e-5)  # not the weights of epoch 3's first chunk


def test_every_kth_chunk_is_held_out_and_never_trained_on(data):
    X_train, _, y_train, _ = data
    model = fit_stream(MLPClassifier(**SMALL), chunks_of(X_train, y_train), validation=2, chunk_rows=CHUNK)
    assert model.stream_history_["rows_trained"] == len(X_train) // 2


# ------------------------------------------------------------------------------------- shuffling
def test_shuffle_buffer_keeps_every_row_once_in_chunks_of_the_asked_size():
    X = np.arange(1030, dtype=float).reshape(-1, 1)
    source = [(X[i : i + 70], X[i : i + 70, 0]) for i in range(0, len(X), 70)]
    out = list(shuffled_chunks(source, 300, 100, np.random.default_rng(0)))
    rows = np.concatenate([c[0][:, 0] for c in out])
    assert sorted(rows.tolist()) == X[:, 0].tolist()
    assert not np.array_equal(rows, X[:, 0])
    assert rows[:100].max() >= 200  # the first chunk out is drawn from several chunks in, not one
    assert [len(c[0]) for c in out] == [100] * 9 + [130]  # the 30-row tail joins the last chunk
    assert all(np.array_equal(c[0][:, 0], c[1]) for c in out)  # rows keep their labels
    unshuffled = np.concatenate([c[0][:, 0] for c in shuffled_chunks(source, 0, 100, None)])
    assert np.array_equal(unshuffled, X[:, 0])


# ------------------------------------------------------------------------------------- files
def test_parquet_file(tmp_path, data):
    X_train, X_test, y_train, y_test = data
    path = write_parquet(tmp_path / "train.parquet", X_train, y_train)
    model = fit_stream(
        MLPClassifier(**SMALL), path, target="label", epochs=4, chunk_rows=CHUNK, random_state=0
    )
    assert model.n_features_in_ == N_FEATURES
    assert model.stream_history_["rows_trained"] == 4 * len(X_train)
    assert model.score(X_test, y_test) > 0.75


def test_csv_file(tmp_path, data):
    X_train, _, y_train, _ = data
    path = tmp_path / "train.csv"
    header = ",".join([f"x{j}" for j in range(N_FEATURES)] + ["label"])
    np.savetxt(
        path, np.column_stack([X_train, y_train]), delimiter=",", header=header, comments="", fmt="%.6g"
    )
    model = fit_stream(MLPClassifier(**SMALL), str(path), target="label", chunk_rows=CHUNK)
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.stream_history_["rows_trained"] == len(X_train)
    # read in chunks of chunk_rows rows, as a Parquet file is (pyarrow's CSV reader cuts by bytes)
    sizes = [len(y) for _, _, y in as_chunk_reader(path, target="label", chunk_rows=700)()]
    assert sizes == [700, 700, 700, 700, 200]
    assert feature_names(path, "label") == [f"x{j}" for j in range(N_FEATURES)]


def test_csv_whole_numbers_then_a_fraction_in_a_later_block(tmp_path):
    # pyarrow infers a column's type from the first block (about 1 MB): whole numbers there, then 0.5
    lines = ["count,size,label"] + [f"{i % 7},{i % 5}.25,{i % 2}" for i in range(300_000)]
    lines[250_000] = "0.5,1.25,1"  # data row 249_999: past the first block
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(lines) + "\n")
    chunks = list(as_chunk_reader(path, target="label", chunk_rows=10_000)())
    assert len(chunks) == 30 and chunks[24][1][9_999, 0] == 0.5
    assert chunks[0][2].dtype.kind == "i"  # the labels keep their type


def test_a_ragged_csv_row_names_its_own_chunk_and_line(tmp_path):
    lines = ["a,b,label"] + [f"{i}.5,{i % 9}.25,{i % 2}" for i in range(120_000)]
    lines[95_001] = "1,2"  # data row 95000: chunk 9 of 10_000 rows, line 95002 of the file
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        StreamError, match=r"chunk 9 of .* \(line 95002\) cannot be read: .*Expected 3 columns"
    ):
        list(as_chunk_reader(path, target="label", chunk_rows=10_000)())


def test_record_batches_are_cut_again_to_the_chunk_size():
    sizes = [3, 5, 2, 7]
    starts = np.cumsum([0] + sizes[:-1])
    batches = [pa.record_batch({"v": np.arange(s, s + n)}) for s, n in zip(starts, sizes)]
    cut = list(_recut(batches, 4))
    assert [b.num_rows for b in cut] == [4, 4, 4, 4, 1]
    assert np.concatenate([b.column("v").to_numpy() for b in cut]).tolist() == list(range(17))


def test_unreadable_file_gives_a_one_line_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(StreamError, match="cannot read") as caught:
        fit_stream(MLPClassifier(**SMALL), path, target="label")
    assert "\n" not in str(caught.value)
    with pytest.raises(StreamError, match="cannot read"):
        fit_stream(MLPClassifier(**SMALL), tmp_path / "missing.parquet", target="label")


def test_file_errors_name_the_column(tmp_path, data):
    X_train, _, y_train, _ = data
    path = write_parquet(tmp_path / "train.parquet", X_train[:100], y_train[:100])
    with pytest.raises(StreamError, match=r"no column 'target'.*'label'"):
        fit_stream(MLPClassifier(**SMALL), path, target="target")
    with pytest.raises(ValueError, match="needs target="):
        fit_stream(MLPClassifier(**SMALL), path)


def test_missing_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    for name in ("pyarrow", "pyarrow.parquet", "pyarrow.csv"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"mlpkit\[stream\]"):
        fit_stream(MLPClassifier(**SMALL), tmp_path / "train.parquet", target="label")


# ------------------------------------------------------------------------------------- bad input
def test_a_chunk_of_another_width_is_named(data):
    X_train, _, y_train, _ = data
    chunks = chunks_of(X_train, y_train)
    chunks[3] = (chunks[3][0][:, :5], chunks[3][1])
    with pytest.raises(StreamError, match="chunk 3 of the source has 5 features, the first chunk had 8"):
        fit_stream(MLPClassifier(**SMALL), chunks, chunk_rows=CHUNK)


def test_an_unseen_label_is_named(data):
    X_train, _, y_train, _ = data
    chunks = chunks_of(X_train, y_train)
    chunks[2] = (chunks[2][0], np.where(chunks[2][1] == 0, 7, chunks[2][1]))
    with pytest.raises(
        StreamError, match=r"chunk 2 of the source has labels \[7\] not in classes \[0, 1, 2\]"
    ):
        fit_stream(MLPClassifier(**SMALL), chunks, classes=[0, 1, 2], chunk_rows=CHUNK)


def test_rows_and_labels_must_match(data):
    X_train, _, y_train, _ = data
    chunks = chunks_of(X_train, y_train)
    chunks[1] = (chunks[1][0], chunks[1][1][:-1])
    with pytest.raises(StreamError, match="chunk 1 of the source has 500 rows of X but 499 labels"):
        fit_stream(MLPClassifier(**SMALL), chunks, classes=[0, 1, 2])


def test_a_one_pass_iterator_is_refused_with_the_fix(data):
    X_train, _, y_train, _ = data
    with pytest.raises(TypeError, match="function returning a fresh iterator"):
        fit_stream(MLPClassifier(**SMALL), iter(chunks_of(X_train, y_train)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit_stream(MLPClassifier(**SMALL), [], epochs=0)
    with pytest.raises(ValueError, match="validation=k .* k >= 2"):
        fit_stream(MLPClassifier(**SMALL), [], validation=1)
    with pytest.raises(ValueError, match="early_stopping"):
        fit_stream(MLPClassifier(**SMALL, early_stopping=True), [])
    with pytest.raises(TypeError, match="solver='lbfgs'"):
        fit_stream(MLPClassifier(**SMALL, solver="lbfgs"), [])


def test_a_failed_stream_leaves_the_estimator_usable(data):
    X_train, X_test, y_train, _ = data
    model = fit_stream(MLPClassifier(**SMALL), chunks_of(X_train, y_train), chunk_rows=CHUNK)
    before = model.predict(X_test)
    bad = chunks_of(X_train, y_train)[:1] + [(X_train[:10, :3], y_train[:10])]
    with pytest.raises(StreamError):
        fit_stream(model, bad, chunk_rows=CHUNK)
    assert model.predict(X_test).shape == before.shape


# ------------------------------------------------------------------------------------- memory
#: One streamed epoch in a fresh process, through the Python API (``python``) or the command (``cli``).
PEAK_RSS_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from mlpkit import MLPClassifier, load
    from mlpkit.cli import main
    from mlpkit.stream import fit_stream
    path, chunk, via = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    started = time.perf_counter()
    if via == "cli":  # the labels come from a first pass over the file
        out = path + ".model.npz"
        argv = ["fit", path, "--target", "label", "--stream", "--chunk-rows", str(chunk), "--shuffle-buffer",
                str(4 * chunk), "--hidden", "16", "--seed", "0", "--task", "classify", "--out", out]
        assert main(argv) == 0
        rows = load(out).t_
    else:
        model = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
        fit_stream(model, path, target="label", classes=[0, 1, 2], chunk_rows=chunk, shuffle_buffer=4 * chunk,
                   random_state=0)
        rows = model.stream_history_["rows_trained"]
    seconds = time.perf_counter() - started
    print(json.dumps({"peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rows": rows,
                      "seconds": seconds}))
    """
)


def write_large_parquet(path, n_rows, n_features, chunk):
    """A Parquet file written one row group at a time (never all in memory)."""
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"x{j}", pa.float32()) for j in range(n_features)] + [("label", pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:
        for _ in range(n_rows // chunk):
            X = rng.standard_normal((chunk, n_features), dtype=np.float32)
            y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 1)
            writer.write_table(
                pa.table({**{f"x{j}": X[:, j] for j in range(n_features)}, "label": y}, schema=schema)
            )


def peak_rss(path, chunk, via="python"):
    """Peak RSS (KiB), rows trained and seconds of one streamed epoch over ``path`` in a fresh process."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, str(path), str(chunk), via],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("via", ["python", "cli"])  # fit_stream, and mlpkit fit --stream
def test_peak_memory_stays_flat_as_the_file_grows(tmp_path, via):
    chunk, n_features = 20_000, 50
    small, large = tmp_path / "x10.parquet", tmp_path / "x50.parquet"
    write_large_parquet(small, 10 * chunk, n_features, chunk)
    write_large_parquet(large, 50 * chunk, n_features, chunk)
    peak_rss(small, chunk, via)  # fills JAX's persistent compilation cache: compiling's peak is not the data's
    at_10, at_50 = peak_rss(small, chunk, via), peak_rss(large, chunk, via)
    print(
        f"\npeak RSS via {via} 10x: {at_10}, 50x: {at_50}, file sizes {small.stat().st_size},"
        f" {large.stat().st_size} bytes"
    )
    assert at_50["rows"] == 5 * at_10["rows"]
    assert abs(at_50["peak_rss_kib"] - at_10["peak_rss_kib"]) <= 0.10 * at_10["peak_rss_kib"]
