"""Data-parallel training over N local processes with ``jax.distributed`` (a first, small version).

``fit_data_parallel(estimator, X, y, n_processes=2)`` starts N Python processes on this machine,
with JAX's coordinator on 127.0.0.1. Each process holds its own shard of the rows; every step, each
computes the gradient on its part of the global mini-batch and the gradients are summed across
processes (gloo collectives on the CPU), so every process takes the same step on the same weights.
The global mini-batch is ``batch_size`` rows, as in one process: process k holds rows
``k*b .. (k+1)*b - 1`` of every batch, ``b = ceil(batch_size / N)``. With ``shuffle=False`` the
steps are those of ``estimator.fit`` in one process (to float rounding); with ``shuffle=True`` each
process shuffles its own rows each epoch, and every global batch keeps its size.

On a cluster: ``prepare_job(estimator, X, y, folder, n_processes=N)`` writes the shards into a folder
that every node sees, ``python -m mlpkit.distributed FOLDER`` runs on each node (under ``srun`` or
``mpirun`` JAX finds the coordinator, the process count and each process's id; elsewhere give
``--coordinator HOST:PORT --num-processes N --process-id K``), and ``read_result(estimator, folder)``
takes the weights that process 0 wrote. Each process uses one device (its first).

The launcher waits at most ``timeout`` seconds: a process that exits with an error, or processes
that hang (a dead peer leaves the others waiting in a collective), make it stop all of them and
raise ``DistributedError`` naming the process and its last line of output.

What this version supports: ``MLPClassifier`` (one label per row) and ``MLPRegressor``, the
stochastic solvers, ``learning_rate='constant'``, alpha, l1, weight decay, gradient clipping. It
runs ``max_iter`` epochs (no stopping rule, no early stopping) and does not support dropout,
batch_norm, 'prelu'/'rrelu', sample weights or ``init`` other than scikit-learn's. Each process
builds its own compiled step here, beside ``engine.run_epochs``; the hooks that would let the
engine's own loop run data-parallel are in the module's notes at the end.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from functools import partial

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state

from ._dtypes import training_dtype

#: Seconds between two looks at the worker processes.
POLL_SECONDS = 0.05

#: The line of a traceback that names the exception: ``jax.errors.SomeError: ...``.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)")


class DistributedError(RuntimeError):
    """A worker process failed or hung; all of them were stopped."""


# ----------------------------------------------------------------------------------- entry point
def fit_data_parallel(estimator, X, y, *, n_processes=2, timeout=600.0):
    """Fit ``estimator`` on ``(X, y)`` with ``n_processes`` local processes; returns it, fitted.

    The rows are split into one shard per process (each worker loads only its own); after
    ``max_iter`` epochs the weights (identical in every process) come back into ``estimator``,
    with ``loss_curve_`` and ``epoch_seconds_``: the wall time of each epoch in process 0 (the
    first includes compiling).
    """
    with tempfile.TemporaryDirectory(prefix="mlpkit-dp-") as folder:
        prepare_job(estimator, X, y, folder, n_processes=n_processes)
        launch(n_processes, folder, timeout=timeout)
        return read_result(estimator, folder)


def prepare_job(estimator, X, y, folder, *, n_processes):
    """Write a data-parallel job into ``folder``: one shard of rows per process and the estimator.

    For a cluster: ``folder`` on storage that every node sees, then on each node
    ``python -m mlpkit.distributed FOLDER`` (see ``main``), then :func:`read_result`.
    """
    _check_supported(estimator, n_processes)
    X = np.asarray(X)
    X = X.astype(training_dtype(estimator.dtype, X), copy=False)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X must be 2-D with one row per label; got X {X.shape} and y {y.shape}.")
    batch_rows = _batch_rows(estimator, X.shape[0])
    with contextlib.suppress(FileNotFoundError):  # an earlier job's: read_result must not take it
        os.remove(os.path.join(folder, "result.pkl"))
    for rank, (X_k, y_k) in enumerate(shard_rows(X, y, n_processes, batch_rows)):
        np.savez(os.path.join(folder, f"shard{rank}.npz"), X=X_k, y=y_k)
    job_estimator = clone(estimator)
    if job_estimator.random_state is None:  # one seed for all: every process starts from the same weights
        job_estimator.random_state = int(np.random.randint(np.iinfo(np.int32).max))
    job = {"estimator": job_estimator, "n_rows": X.shape[0], "classes": _classes(estimator, y),
           "n_processes": n_processes}  # fmt: skip
    with open(os.path.join(folder, "job.pkl"), "wb") as f:
        pickle.dump(job, f)


def read_result(estimator, folder):
    """Put the weights that process 0 wrote into ``folder`` into ``estimator``; returns it, fitted."""
    path = os.path.join(folder, "result.pkl")
    if not os.path.exists(path):
        raise DistributedError(
            f"{path} does not exist: the job in {folder} has not finished (process 0 writes it at the end)."
        )
    with open(path, "rb") as f:
        result = pickle.load(f)
    _adopt_result(estimator, result, result["coefs"][0].shape[0])
    return estimator


def _check_supported(estimator, n_processes):
    """What this first version cannot do, said before any process starts."""
    if not isinstance(n_processes, int) or n_processes < 1:
        raise ValueError(f"n_processes must be a positive integer; got {n_processes!r}.")
    unsupported = {
        "solver": estimator.solver == "lbfgs",
        "learning_rate": estimator.learning_rate != "constant",
        "dropout": np.any(np.asarray(estimator.dropout) > 0),
        "batch_norm": estimator.batch_norm,
        "activation": estimator.activation in ("prelu", "rrelu"),
        "early_stopping": estimator.early_stopping,
        "init": estimator.init is not None,
    }
    named = [name for name, bad in unsupported.items() if bad]
    if named:
        raise NotImplementedError(
            f"fit_data_parallel does not support {', '.join(f'{n}={getattr(estimator, n)!r}' for n in named)} yet;"
            " it trains stochastic solvers with a constant learning rate, without dropout, batch_norm,"
            " prelu/rrelu or early stopping. Train in one process for those (estimator.fit; mlpkit fit"
            " without --processes)."
        )


def _batch_rows(estimator, n_rows):
    return min(200 if estimator.batch_size == "auto" else estimator.batch_size, n_rows)


def _classes(estimator, y):
    if not is_classifier(estimator):
        return None
    if y.ndim != 1:
        raise NotImplementedError(
            "fit_data_parallel trains classifiers on one label per row (no multi-label yet)."
        )
    return np.unique(y)


def _adopt_result(estimator, result, n_features):
    """Put the trained network and its history into ``estimator``."""
    if result["classes"] is not None:
        binarizer = LabelBinarizer().fit(result["classes"])
        estimator._label_binarizer, estimator.classes_ = binarizer, binarizer.classes_
    estimator._adopt_network(result["coefs"], result["intercepts"])
    estimator.n_iter_ = len(result["loss_curve"])
    estimator.loss_curve_ = list(result["loss_curve"])
    estimator.loss_ = estimator.loss_curve_[-1]
    estimator.t_ = result["n_rows"] * estimator.n_iter_
    estimator.epoch_seconds_ = list(result["epoch_seconds"])
    assert estimator.n_features_in_ == n_features


# ------------------------------------------------------------------------------------- sharding
def shard_rows(X, y, n_processes, batch_rows):
    """One ``(X_k, y_k)`` per process: process k gets rows ``k*b .. (k+1)*b - 1`` of every batch.

    ``b = ceil(batch_rows / n_processes)``; the union of the processes' j-th local batches is the
    j-th global batch of one process (the last ones may be short, or empty in some processes).
    """
    shards = []
    for k in range(n_processes):
        ranges = local_ranges(X.shape[0], batch_rows, n_processes, k)
        rows = np.concatenate([np.arange(r.start, r.stop) for r in ranges])
        shards.append((X[rows], y[rows]))
    return shards


def local_ranges(n_rows, batch_rows, n_processes, k):
    """The rows of each global batch that process k holds: one ``range`` per batch (some may be empty)."""
    b = -(-batch_rows // n_processes)
    starts = range(0, n_rows, batch_rows)
    return [range(s + k * b, min(s + (k + 1) * b, s + batch_rows, n_rows)) for s in starts]


# -------------------------------------------------------------------------------------- launcher
def launch(n_processes, folder, *, timeout):
    """Run one worker per process on ``folder``; raise ``DistributedError`` if one fails or they hang.

    Each worker's output goes to ``folder/log<rank>.txt``; errors quote its last line.
    """
    port = _free_port()
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    with contextlib.ExitStack() as stack:
        logs = [
            stack.enter_context(open(os.path.join(folder, f"log{rank}.txt"), "w+"))
            for rank in range(n_processes)
        ]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER_BOOT, folder, f"127.0.0.1:{port}", str(n_processes), str(rank)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
            for rank, log in enumerate(logs)
        ]
        try:
            supervise(processes, logs, timeout)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def supervise(processes, logs, timeout):
    """Wait for every process to exit with 0; on the first failure, or at the timeout, raise
    ``DistributedError`` naming the process and quoting its log's last line (the caller stops the rest)."""
    deadline = time.monotonic() + timeout
    while True:
        codes = [p.poll() for p in processes]
        for rank, code in enumerate(codes):
            if code not in (None, 0):
                raise DistributedError(
                    f"process {rank} of {len(processes)} exited with code {code}: {_last_line(logs[rank])}"
                    " (all processes were stopped)."
                )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            hung = [rank for rank, code in enumerate(codes) if code is None]
            raise DistributedError(
                f"process(es) {hung} of {len(processes)} did not finish within {timeout:g} s and were stopped;"
                f" last line of process {hung[0]}: {_last_line(logs[hung[0]])}. A process that died or hangs"
                " leaves the others waiting in a collective; for a longer fit raise timeout="
                " (mlpkit fit: --timeout)."
            )
        time.sleep(POLL_SECONDS)


def _last_line(log):
    """The log's last exception line (``SomeError: message``; JAX adds notes after it), else its last line."""
    log.flush()
    log.seek(0)
    lines = [line.strip() for line in log.read().splitlines() if line.strip()]
    errors = [line for line in lines if EXCEPTION_LINE.match(line)]
    return errors[-1] if errors else lines[-1] if lines else "(no output)"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------- worker
#: A worker's program: ``python -c WORKER_BOOT FOLDER COORDINATOR N_PROCESSES PROCESS_ID``, the last
#: three empty to let ``jax.distributed.initialize`` find them in the cluster's environment (SLURM,
#: Open MPI, Kubernetes). It joins the coordinator before importing mlpkit:
#: jax.distributed.initialize must come before anything starts JAX's backend, and importing mlpkit
#: does (it asks for the default backend).
WORKER_BOOT = """
import sys
import jax
folder, coordinator, n_processes, process_id = sys.argv[1:5]
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(
    coordinator_address=coordinator or None,
    num_processes=int(n_processes) if n_processes else None,
    process_id=int(process_id) if process_id else None,
    initialization_timeout=60,
)
from mlpkit.distributed import worker
worker(folder, jax.process_index(), jax.process_count())
"""


def main(argv=None):
    """``python -m mlpkit.distributed FOLDER [--coordinator HOST:PORT --num-processes N --process-id K]``.

    Runs one worker of a job that :func:`prepare_job` wrote into ``FOLDER``: on each node of a
    cluster, or under ``srun`` (SLURM) or ``mpirun`` (Open MPI), which tell JAX the coordinator,
    the process count and this process's id when the options are left out. Process 0 writes the
    result; :func:`read_result` reads it. The worker replaces this process (``exec``) with a fresh
    interpreter that joins the others before JAX starts.
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m mlpkit.distributed", description=main.__doc__.split("\n\n")[1]
    )
    parser.add_argument("folder", help="the job's folder (prepare_job), on storage every process sees")
    parser.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address, seen by all")
    parser.add_argument("--num-processes", metavar="N", type=int, help="processes in the job")
    parser.add_argument("--process-id", metavar="K", type=int, help="this process's id, 0 .. N-1")
    args = parser.parse_args(argv)
    given = [args.coordinator, args.num_processes, args.process_id]
    if any(v is not None for v in given) and any(v is None for v in given):
        parser.error("give --coordinator, --num-processes and --process-id together, or none (SLURM, MPI)")
    if not os.path.exists(os.path.join(args.folder, "job.pkl")):
        parser.error(f"{args.folder} holds no job.pkl; write one with mlpkit.distributed.prepare_job first")
    boot = [args.folder, *("" if v is None else str(v) for v in given)]
    os.execv(sys.executable, [sys.executable, "-c", WORKER_BOOT, *boot])


def worker(folder, rank, n_processes):
    """One process, already joined to the others: train on this shard; process 0 writes the result."""
    import jax

    try:
        with open(os.path.join(folder, "job.pkl"), "rb") as f:
            job = pickle.load(f)
        if job.get("n_processes", n_processes) != n_processes:
            raise DistributedError(
                f"the job in {folder} is cut into {job['n_processes']} shards, but {n_processes} processes"
                " joined; start as many processes as prepare_job(n_processes=) was given."
            )
        shard = np.load(os.path.join(folder, f"shard{rank}.npz"), allow_pickle=True)
        result = _train(
            job["estimator"], shard["X"], shard["y"], job["classes"], job["n_rows"], rank, n_processes
        )
        if rank == 0:
            result.update(classes=job["classes"], n_rows=job["n_rows"])
            path = os.path.join(folder, "result.pkl")
            with open(path + ".partial", "wb") as f:
                pickle.dump(result, f)
            os.replace(path + ".partial", path)  # read_result never sees half a file
    except BaseException:  # noqa: BLE001 (any failure: report it and exit)
        # Exit at once: jax.distributed.shutdown() would wait at a barrier for the other processes,
        # which wait for this one in a collective. The launcher sees the exit and stops them.
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    jax.distributed.shutdown()


def _train(estimator, X, y, classes, n_rows, rank, n_processes):
    """``max_iter`` epochs of data-parallel steps; returns the weights and the loss per epoch."""
    import jax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from . import engine
    from ._base import _x64
    from .network import glorot_uniform_sklearn
    from .optim import decays_weights, make_optimizer, optimizer_params, solver_spec

    dtype = training_dtype(estimator.dtype, X)  # (the shards hold X in the training dtype)
    Y = _targets(estimator, y, classes).astype(dtype)
    hidden = list(np.atleast_1d(estimator.hidden_layer_sizes))
    layer_units = [X.shape[1], *hidden, Y.shape[1]]
    architecture = estimator._architecture(Y.shape[1], len(hidden))
    spec = solver_spec(estimator.solver, vars(estimator))
    program = engine.loss_program(
        architecture,
        estimator._loss_name(),
        solver=spec,
        l1=estimator.l1 > 0,
        weight_decay=estimator.weight_decay > 0 and not decays_weights(spec),
        clip_norm=estimator.clip_norm is not None,
        clip_value=estimator.clip_value is not None,
    )
    batch_rows = _batch_rows(estimator, n_rows)
    local_rows = -(-batch_rows // n_processes)
    n_batches = -(-n_rows // batch_rows)
    # One device per process (its first): a process's shard is one place on the "data" axis, also
    # on a node whose process sees several GPUs.
    firsts = {}
    for device in sorted(jax.devices(), key=lambda d: d.id):
        firsts.setdefault(device.process_index, device)
    mesh = Mesh(np.array([firsts[p] for p in sorted(firsts)]), ("data",))
    random_state = check_random_state(estimator.random_state)
    coefs, intercepts = glorot_uniform_sklearn(layer_units, estimator.activation, random_state, dtype)
    with _x64(dtype):
        estimator.t_ = 0
        hyper = estimator._hyper(dtype, len(hidden))
        params = {
            "coefs": tuple(coefs),
            "intercepts": tuple(intercepts),
            "slopes": (),
            "bn_scale": (),
            "bn_shift": (),
        }
        values = {k: np.asarray(v, dtype) for k, v in optimizer_params(spec, vars(estimator)).items()}
        opt_state = make_optimizer(spec, values).init(params)
        ranges = local_ranges(n_rows, batch_rows, n_processes, rank)
        X_pad, Y_pad, w_pad = _local_batches(X, Y, ranges, local_rows)
        as_global = partial(jax.make_array_from_process_local_data, NamedSharding(mesh, P("data")))
        data = tuple(as_global(a) for a in (X_pad, Y_pad, w_pad))
        # rows of each global batch (every row weighs 1): each process's share of a batch without a collective
        batch_weight = np.minimum(batch_rows, n_rows - batch_rows * np.arange(n_batches)).astype(dtype)
        epoch = _compiled_epoch(program, mesh, batch_weight, local_rows, bool(estimator.shuffle))
        key = jax.random.PRNGKey(random_state.randint(np.iinfo(np.int32).max))
        losses, seconds = [], []
        for _ in range(estimator.max_iter):
            started = time.perf_counter()
            key, epoch_key = jax.random.split(key)
            params, opt_state, loss = epoch(params, opt_state, *data, hyper, epoch_key)
            losses.append(float(loss.addressable_data(0)))  # waits for the epoch
            seconds.append(time.perf_counter() - started)
        params = jax.tree.map(lambda a: np.asarray(a.addressable_data(0)), params)
    return {"coefs": list(params["coefs"]), "intercepts": list(params["intercepts"]), "loss_curve": losses,
            "epoch_seconds": seconds}  # fmt: skip


def _targets(estimator, y, classes):
    if classes is None:
        return np.asarray(y, dtype=float).reshape(len(y), -1)
    binarizer = LabelBinarizer().fit(classes)
    estimator._label_binarizer = binarizer  # the architecture's output activation reads it
    return binarizer.transform(y)


def _local_batches(X, Y, ranges, local_rows):
    """This shard laid out as one slot of ``local_rows`` rows per global batch, weight 0 on padding.

    Local batch j holds exactly this process's rows of global batch j (``ranges[j]``), padded at
    its end: where ``batch_rows`` is not a multiple of the process count some processes hold one
    row fewer of each batch, and a batch must not borrow rows of the next one.
    """
    slots = np.concatenate([j * local_rows + np.arange(len(r)) for j, r in enumerate(ranges)]).astype(np.intp)
    size = len(ranges) * local_rows
    weight = np.zeros(size, X.dtype)
    weight[slots] = 1
    return _placed(X, slots, size), _placed(Y, slots, size), weight


def _placed(a, slots, rows):
    out = np.zeros((rows,) + a.shape[1:], a.dtype)
    out[slots] = a
    return out


def epoch_order(weight, key):
    """The slots' rows for a shuffled epoch: the real rows (weight > 0) in a random order, in the slots of
    real rows, and each padding slot its own row, so every local batch keeps its count of real rows."""
    import jax
    import jax.numpy as jnp

    real = weight > 0
    priority = jnp.where(real, jax.random.uniform(key, weight.shape), 2.0)
    real_rows = jnp.argsort(priority)  # the real rows first, shuffled
    nth_real = jnp.cumsum(real) - 1  # at a real row's slot: how many real rows come before it
    return jnp.where(real, real_rows[nth_real], jnp.arange(weight.shape[0]))


def _compiled_epoch(program, mesh, batch_weight, local_rows, shuffle):
    """One epoch as a compiled program over the process mesh: each step's gradient summed across processes.

    Process k's contribution to a step is its batch objective (``engine.batch_objective``) times
    ``share_k = W_k / W``, its share of the global batch's weight (``W``: ``batch_weight``), with the
    penalties times ``share_k`` too: ``D_k / W + share_k * P / W``. Summed over processes this is
    exactly the one-process objective of the global batch, ``D / W + P / W``, even where shares are
    unequal. A step makes one all-reduce (the gradient and the loss in one vector): every collective
    is a point where each process waits for the slowest.
    """
    import jax
    import jax.numpy as jnp
    from jax import shard_map
    from jax.flatten_util import ravel_pytree
    from jax.sharding import PartitionSpec as P

    from . import engine

    grad_fn = jax.value_and_grad(engine.batch_objective, has_aux=True)
    n_batches = len(batch_weight)

    def epoch(params, opt_state, X, Y, weight, hyper, key):
        local_key = jax.random.fold_in(key, jax.lax.axis_index("data"))
        order = epoch_order(weight, local_key) if shuffle else jnp.arange(X.shape[0])

        def step(carry, batch):
            params, opt_state, loss_sum = carry
            idx = jax.lax.dynamic_slice(order, (batch * local_rows,), (local_rows,))
            w = weight[idx]
            w_local = jnp.sum(w)
            w_global = jnp.asarray(batch_weight)[batch]
            share = w_local / w_global
            safe_w = jnp.where(w_local > 0, w, 1.0)  # an empty local batch: finite, then scaled by 0
            rows = (w > 0).astype(w.dtype)
            shard_hyper = hyper._replace(alpha=hyper.alpha * share, l1=hyper.l1 * share)
            (_, (reported, _)), grads = grad_fn(
                params, {"mean": (), "var": ()}, X[idx], Y[idx], safe_w, rows, key, program, shard_hyper
            )
            mine, unravel = ravel_pytree((grads, reported))
            grads, reported = unravel(jax.lax.psum(mine * share, "data"))
            grads = engine.transform_gradients(grads, program, hyper)
            params, opt_state = engine.optimizer_step(program, hyper, params, grads, opt_state, 0.0, 0)
            loss_sum = loss_sum + reported * w_global
            return (params, opt_state, loss_sum), None

        zero = jnp.zeros([], X.dtype)
        (params, opt_state, loss_sum), _ = jax.lax.scan(
            step, (params, opt_state, zero), jnp.arange(n_batches)
        )
        return params, opt_state, loss_sum / jnp.sum(batch_weight)

    sharded = shard_map(
        epoch,
        mesh=mesh,
        in_specs=(P(), P(), P("data"), P("data"), P("data"), P(), P()),
        out_specs=(P(), P(), P()),
        check_vma=False,
    )
    return jax.jit(sharded)


# ------------------------------------------------------------------------------------------ notes
# Hooks that would let engine.run_epochs itself run data-parallel (instead of _compiled_epoch here):
# 1. engine.Program gets `axis_name: str | None = None`.
# 2. engine.train_epoch: when program.axis_name is set, scale each process's objective by its
#    share of the global batch weight and sum the gradients, as _compiled_epoch does:
#        share = w_local / jax.lax.psum(w_local, axis)     # before grad_fn; hyper alpha, l1 times share
#        grads = jax.lax.psum(tree_map(lambda g: g * share, grads), axis)
#    and sum the reported loss and data.n_rows across processes.
# 3. engine.validate: psum the weighted score and loss numerators and weights (early stopping).
# 4. roll_back_if_diverged: agree on `healthy` across processes (jax.lax.pmin of it as an int): each
#    checks the outputs on its own first rows. apply_epoch_end: unchanged (it sees summed values).
# 5. batch norm: psum the batch mean and variance in network.forward_logits_train.
# 6. _base._train_stochastic: wrap run_epochs_compiled in shard_map over a ("data",) mesh with
#    Data's row arrays P("data") and the rest P(); n_rows is the local count.


if __name__ == "__main__":
    main()
