"""Scale: data-parallel training (1 vs 2 processes) and streaming throughput against the in-memory fit.

Workloads (select with ``--only``):

- ``parallel``: the MNIST-size workload of ``compare.py`` (60000 x 784 float32, hidden (100,),
  Adam, batch 200): seconds per epoch of ``MLPClassifier.fit`` in this process, and of
  ``mlpkit.distributed.fit_data_parallel`` with 1 and 2 local processes (the median of the
  epochs after the first, which compiles; the processes time their own epochs), with the whole
  call's time (starting the processes included). Beside them, what explains the difference: the
  in-process fit held to one core (what each of two processes has on a 2-core machine), and one
  all-reduce of the network's weights between two processes, timed alone.
- ``stream``: 200000 x 50 float32 rows, hidden (64,), Adam, 3 epochs: rows per second of the
  in-memory fit, of ``mlpkit.stream.fit_stream`` from a Parquet file and from a list of arrays,
  and of ``mlpkit fit --stream`` (the command, in this process).

Usage::

    python bench/scale.py                          # both (a few minutes on 2 cores)
    python bench/scale.py --only parallel --epochs 5
    python bench/scale.py --quick                  # small sizes: checks that the script works

The flatness of streaming's peak memory is a test, which prints its figures:
``python -m pytest -m slow tests/scale/test_stream.py -k peak -s``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from compare import environment_line, fmt, mnist_like_data, mnist_params, timed_fit
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

WORKLOADS = ("parallel", "stream")

SIZES = {
    False: {"mnist_rows": 60_000, "stream_rows": 200_000, "stream_epochs": 3},
    True: {"mnist_rows": 6_000, "stream_rows": 20_000, "stream_epochs": 2},
}

#: The in-process fit in a fresh process held to one core: what each of two processes has here.
_ONE_CORE = """
import os, sys, time, warnings
os.sched_setaffinity(0, {0})  # before JAX starts its threads, which inherit it
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import mlpkit
from compare import mnist_like_data, mnist_params
X, y = mnist_like_data(int(sys.argv[2]))
mlpkit.MLPClassifier(**mnist_params(1)).fit(X, y)
model = mlpkit.MLPClassifier(**mnist_params(int(sys.argv[3])))
started = time.perf_counter()
model.fit(X, y)
print((time.perf_counter() - started) / model.n_iter_)
"""


# ------------------------------------------------------------------------------------ parallel
def bench_parallel(mlpkit, sizes, epochs):
    """Seconds per epoch: in-process fit, then the launcher with 1 and 2 processes."""
    from mlpkit.distributed import fit_data_parallel

    X, y = mnist_like_data(sizes["mnist_rows"])
    params = mnist_params(epochs)
    compile_s = timed_fit(mlpkit.MLPClassifier(**mnist_params(1)), X, y)
    model = mlpkit.MLPClassifier(**params)
    in_process = timed_fit(model, X, y) / model.n_iter_
    rows = [{"how": "`MLPClassifier.fit`, this process", "per_epoch": in_process, "total": None, "first": compile_s,
                 "accuracy": model.score(X, y)}]  # fmt: skip
    if hasattr(os, "sched_setaffinity"):
        out = subprocess.run([sys.executable, "-c", _ONE_CORE, os.path.dirname(os.path.abspath(__file__)),
                              str(X.shape[0]), str(epochs)], capture_output=True, text=True, check=True)  # fmt: skip
        rows.append({"how": "`MLPClassifier.fit`, a fresh process held to one core", "total": None, "first": None,
                     "per_epoch": float(out.stdout.strip().splitlines()[-1]), "accuracy": None})  # fmt: skip
    for n_processes in (1, 2):
        started = time.perf_counter()
        model = fit_data_parallel(mlpkit.MLPClassifier(**params), X, y, n_processes=n_processes, timeout=3600)
        total = time.perf_counter() - started
        how = f"`fit_data_parallel`, {n_processes} process{'es' if n_processes > 1 else ''}"
        rows.append({"how": how, "per_epoch": statistics.median(model.epoch_seconds_[1:]), "total": total,
                         "first": model.epoch_seconds_[0], "accuracy": model.score(X, y)})  # fmt: skip
    n_weights = sum(W.size for W in model.coefs_ + model.intercepts_)
    steps = -(-X.shape[0] // 200)
    all_reduce = all_reduce_seconds(n_weights, steps)
    lines = [
        f"MNIST-size workload: {X.shape[0]}x{X.shape[1]} float32, hidden (100,), Adam, batch 200, {epochs} epochs",
        "",
        (f"The all-reduce alone (2 processes, gloo, {n_weights:,} float32 summed, {steps} times in a compiled loop as"
        f" in an epoch): {all_reduce * 1e3:.2f} ms each, {all_reduce * steps:.2f} s per epoch."),
        "",
        "| how it trains | s per epoch | vs this process | first epoch (compiles) | whole call | train accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        total, first = ("" if row[k] is None else f"{fmt(row[k])} s" for k in ("total", "first"))
        accuracy = "" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
        lines.append(f"| {row['how']} | {fmt(row['per_epoch'])} | {row['per_epoch'] / in_process:.2f}x |"
                     f" {first} | {total} | {accuracy} |")  # fmt: skip
    return "\n".join(lines)


#: Two processes summing a vector ``steps`` times in a compiled loop, as the data-parallel epoch does.
_ALL_REDUCE = """
import sys, time
import jax
rank, port, size, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=rank)
import numpy as np
from jax import shard_map
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
mesh = Mesh(np.array(jax.devices()), ("data",))
def loop(x):
    return jax.lax.scan(lambda c, _: (jax.lax.psum(c, "data") * 0.5, None), x, None, length=steps)[0]
run = jax.jit(shard_map(loop, mesh=mesh, in_specs=P("data"), out_specs=P("data"), check_vma=False))
x = jax.make_array_from_process_local_data(NamedSharding(mesh, P("data")), np.ones(size, np.float32))
run(x).block_until_ready()
started = time.perf_counter()
run(x).block_until_ready()
print((time.perf_counter() - started) / steps)
jax.distributed.shutdown()
"""


def all_reduce_seconds(size, steps):
    """Seconds of one all-reduce of ``size`` float32 between two local processes (gloo)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    processes = [
        subprocess.Popen([sys.executable, "-c", _ALL_REDUCE, str(rank), port, str(size), str(steps)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for rank in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    return float(outputs[0].strip().splitlines()[-1])


# -------------------------------------------------------------------------------------- stream
def bench_stream(mlpkit, sizes, epochs):
    """Rows per second: in-memory fit, fit_stream from Parquet and from arrays, mlpkit fit --stream."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlpkit.cli import main
    from mlpkit.stream import fit_stream

    X, y = make_classification(sizes["stream_rows"], 50, n_informative=20, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    settings = {"hidden_layer_sizes": (64,), "random_state": 0}
    rows_per_run = epochs * X.shape[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="mlpkit-bench-scale-") as folder:
        path = os.path.join(folder, "train.parquet")
        pq.write_table(pa.table({**{f"x{j}": X[:, j] for j in range(X.shape[1])}, "label": y}), path,
                       row_group_size=20_000)  # fmt: skip
        full = dict(settings, max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1)
        timed_fit(mlpkit.MLPClassifier(**dict(full, max_iter=1)), X, y)  # compiles
        seconds = timed_fit(mlpkit.MLPClassifier(**full), X, y)
        results.append(("in-memory `fit`", seconds))

        def streamed(source, chunk_rows, **kwargs):
            run = dict(target="label", classes=[0, 1, 2], chunk_rows=chunk_rows, random_state=0, **kwargs)
            fit_stream(mlpkit.MLPClassifier(**settings), source, epochs=1, **run)  # compiles this chunk size
            model = fit_stream(mlpkit.MLPClassifier(**settings), source, epochs=epochs, **run)
            return model.stream_history_["seconds"]

        for chunk_rows in (4096, 20_000):
            results.append((f"`fit_stream` from Parquet, chunks of {chunk_rows}", streamed(path, chunk_rows)))
        arrays = [(X[i : i + 4096], y[i : i + 4096]) for i in range(0, len(X), 4096)]
        results.append(("`fit_stream` from a list of arrays, chunks of 4096", streamed(arrays, 4096)))
        argv = ["fit", path, "--target", "label", "--stream", "--chunk-rows", "4096", "--epochs", str(epochs),
                "--hidden", "64", "--seed", "0", "--out", os.path.join(folder, "m.npz")]  # fmt: skip
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            started = time.perf_counter()
            assert main(argv) == 0
            cli = time.perf_counter() - started
        results.append(("`mlpkit fit --stream --chunk-rows 4096` (a first pass finds the labels; saving)", cli))
    in_memory = rows_per_run / results[0][1]
    lines = [
        f"{X.shape[0]}x{X.shape[1]} float32, 3 classes, hidden (64,), Adam, batch 200, {epochs} epochs",
        "",
        "| how it trains | rows/s | vs in-memory |",
        "|---|---|---|",
    ]
    for how, seconds in results:
        rate = rows_per_run / seconds
        lines.append(f"| {how} | {rate / 1000:.0f}k | {rate / in_memory:.2f}x |")
    return "\n".join(lines)


BENCHMARKS = {"parallel": bench_parallel, "stream": bench_stream}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated: " + ",".join(WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: 5 parallel, 3 stream)")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; choose from {','.join(WORKLOADS)}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    import mlpkit

    sizes = SIZES[args.quick]
    command = "python " + shlex.join(sys.argv if argv is None else ["bench/scale.py", *argv])
    sections = [f"Command: `{command}`", "", environment_line(mlpkit)]
    for name in WORKLOADS:
        if name in only:
            epochs = args.epochs or (5 if name == "parallel" else sizes["stream_epochs"])
            print(f"running {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            sections += ["", BENCHMARKS[name](mlpkit, sizes, epochs)]
            print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print("\n".join(sections))


if __name__ == "__main__":
    main()
