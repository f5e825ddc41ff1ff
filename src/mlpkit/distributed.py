"""Data-parallel training over N processes with ``jax.distributed``: the one training loop, in every process.

``fit_data_parallel(estimator, X, y, n_processes=2)`` starts N Python processes on this machine,
with JAX's coordinator on 127.0.0.1 (gloo collectives on the CPU). Every process runs the
estimator's own ``fit`` on all the rows, inside ``config.split_batches_over(mesh)``: a
``jax.sharding.Mesh`` with one device per process, over which the compiled loop splits each
mini-batch (``engine.split_over_mesh``). XLA's SPMD partitioner then has each process compute its
share of every batch and sums the gradients (and batch norm's statistics) across processes, so
every process takes the step one process would take, on the same weights, with the same shuffles.
Whatever ``fit`` does in one process it does in N: early stopping and its best weights, every
schedule, dropout, batch norm, sample weights, ``init``, ``warm_start``. Every process holds all the
rows (tabular data fits in memory; what is split is the work). L-BFGS is full-batch and single-process.

On a cluster: ``prepare_job(estimator, X, y, folder, n_processes=N)`` writes the job into a folder
that every node sees, ``python -m mlpkit.distributed FOLDER`` runs on each node (under ``srun`` or
``mpirun`` JAX finds the coordinator, the process count and each process's id; elsewhere give
``--coordinator HOST:PORT --num-processes N --process-id K``), and ``read_result(estimator, folder)``
takes the fitted estimator that process 0 wrote. Each process uses one device (its first).

The launcher waits at most ``timeout`` seconds: a process that exits with an error, or processes
that hang (a dead peer leaves the others waiting in a collective), make it stop all of them and
raise ``DistributedError`` naming the process and its last line of output.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
from sklearn.base import clone

from ._files import write_atomically
from ._scale_defaults import DATA_PARALLEL_TIMEOUT

#: Seconds between two looks at the worker processes.
POLL_SECONDS = 0.05

#: The line of a traceback that names the exception: ``jax.errors.SomeError: ...``.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)")


class DistributedError(RuntimeError):
    """A worker process failed or hung; all of them were stopped."""


# ----------------------------------------------------------------------------------- entry point
def fit_data_parallel(estimator, X, y, *, sample_weight=None, n_processes=2, timeout=DATA_PARALLEL_TIMEOUT):
    """Fit ``estimator`` on ``(X, y)`` with ``n_processes`` local processes; returns it, fitted as
    ``estimator.fit(X, y, sample_weight)`` would fit it in one process (to float rounding), with
    ``epoch_seconds_``: the wall time of each epoch in process 0 (the first includes compiling)."""
    with tempfile.TemporaryDirectory(prefix="mlpkit-dp-") as folder:
        prepare_job(estimator, X, y, folder, n_processes=n_processes, sample_weight=sample_weight)
        launch(n_processes, folder, timeout=timeout)
        return read_result(estimator, folder)


def prepare_job(estimator, X, y, folder, *, n_processes, sample_weight=None):
    """Write a data-parallel job into ``folder``: the estimator and the rows, which every process reads.

    For a cluster: ``folder`` on storage that every node sees, then on each node
    ``python -m mlpkit.distributed FOLDER`` (see ``main``), then :func:`read_result`.
    """
    _check_supported(estimator, n_processes)
    with contextlib.suppress(FileNotFoundError):  # an earlier job's: read_result must not take it
        os.remove(os.path.join(folder, "result.pkl"))
    job_estimator = clone(estimator)
    if job_estimator.random_state is None:  # one seed for all: every process starts from the same weights
        job_estimator.random_state = int(np.random.randint(np.iinfo(np.int32).max))
    if estimator.warm_start and hasattr(estimator, "coefs_"):  # a warm fit goes on from the estimator's state
        job_estimator = copy.deepcopy(estimator).set_params(random_state=job_estimator.random_state)
    job = {"estimator": job_estimator, "X": X, "y": y, "sample_weight": sample_weight, "n_processes": n_processes}
    write_atomically(os.path.join(folder, "job.pkl"), pickle.dumps(job))


def read_result(estimator, folder):
    """Put the fitted state that process 0 wrote into ``folder`` into ``estimator``; returns it, fitted."""
    path = os.path.join(folder, "result.pkl")
    if not os.path.exists(path):
        raise DistributedError(
            f"{path} does not exist: the job in {folder} has not finished (process 0 writes it at the end)."
        )
    with open(path, "rb") as f:
        fitted = pickle.load(f)
    parameters = set(estimator._get_param_names())
    for name, value in vars(fitted).items():  # what fit learned; the estimator keeps its own parameters
        if name not in parameters:
            setattr(estimator, name, value)
    return estimator


def _check_supported(estimator, n_processes):
    """What data parallel cannot do, said before any process starts."""
    if not isinstance(n_processes, int) or n_processes < 1:
        raise ValueError(f"n_processes must be a positive integer; got {n_processes!r}.")
    if estimator.solver == "lbfgs":
        raise NotImplementedError(
            "fit_data_parallel trains with stochastic solvers; solver='lbfgs' takes full-batch steps in one"
            " process (estimator.fit; mlpkit fit without --processes)."
        )


class _EpochTimer:
    """A callback keeping the wall time of each epoch. Callbacks hear of a chunk's epochs together, with
    the time since the fit began (``EpochInfo.elapsed``): a chunk's time is shared among its epochs."""

    def __init__(self):
        self.elapsed = []

    def __call__(self, model, info):
        self.elapsed.append(info.elapsed)

    def seconds(self):
        chunks, counts = np.unique(np.asarray(self.elapsed), return_counts=True)
        per_epoch = np.diff(chunks, prepend=0.0) / counts
        return np.repeat(per_epoch, counts).tolist()


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
    """One process, already joined to the others: fit on the job's rows; process 0 writes the result."""
    import jax

    try:
        with open(os.path.join(folder, "job.pkl"), "rb") as f:
            job = pickle.load(f)
        if job.get("n_processes", n_processes) != n_processes:
            raise DistributedError(
                f"the job in {folder} was prepared for {job['n_processes']} processes, but {n_processes}"
                " joined; start as many processes as prepare_job(n_processes=) was given."
            )
        estimator = _train(job["estimator"], job["X"], job["y"], job["sample_weight"])
        if rank == 0:
            write_atomically(os.path.join(folder, "result.pkl"), pickle.dumps(estimator))  # never half a file
    except BaseException:  # noqa: BLE001 (any failure: report it and exit)
        # Exit at once: jax.distributed.shutdown() would wait at a barrier for the other processes,
        # which wait for this one in a collective. The launcher sees the exit and stops them.
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    jax.distributed.shutdown()


def _train(estimator, X, y, sample_weight):
    """``estimator.fit`` with every mini-batch split over one device of each process."""
    import jax
    from jax.sharding import Mesh

    from .config import split_batches_over

    # One device per process (its first): a process's share is one place on the "data" axis, also
    # on a node whose process sees several GPUs.
    firsts = {}
    for device in sorted(jax.devices(), key=lambda d: d.id):
        firsts.setdefault(device.process_index, device)
    mesh = Mesh(np.array([firsts[p] for p in sorted(firsts)]), ("data",))
    timer, callbacks = _EpochTimer(), estimator.callbacks
    estimator.set_params(callbacks=[*(callbacks or []), timer])
    try:
        with split_batches_over(mesh):
            estimator.fit(X, y, sample_weight=sample_weight)
    finally:
        estimator.set_params(callbacks=callbacks)
    estimator.epoch_seconds_ = timer.seconds()
    return estimator


if __name__ == "__main__":
    main()
