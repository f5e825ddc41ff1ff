"""mlpkit.distributed: data-parallel training over local processes, and its launcher's failures.

The training tests start real processes (JAX's coordinator on 127.0.0.1, gloo collectives on the
CPU): about 10 s each on two cores. The launcher's own checks use stand-in processes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from mlpkit import MLPClassifier, MLPRegressor
from mlpkit.distributed import DistributedError, fit_data_parallel, prepare_job, read_result, supervise
from mlpkit.distributed import main as distributed_main

EXACT = dict(
    hidden_layer_sizes=(16,),
    random_state=0,
    shuffle=False,
    max_iter=4,
    tol=0,
    n_iter_no_change=1000,
    batch_size=100,
    alpha=0.01,
)


def test_two_processes_take_the_steps_of_one():
    # batch_size=75 gives the processes unequal shares of every batch (38 and 37 rows), and 1010 rows a
    # last global batch of 35 that lies wholly in process 0: process 1's share of it is empty
    X, y = make_classification(1010, 8, n_informative=6, n_redundant=0, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    settings = {**EXACT, "batch_size": 75}
    one = MLPClassifier(**settings).fit(X, y)
    two = fit_data_parallel(MLPClassifier(**settings), X, y, n_processes=2, timeout=240)
    np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-5)
    for a, b in zip(two.coefs_ + two.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert (two.predict(X) == one.predict(X)).mean() > 0.99
    assert two.classes_.tolist() == [0, 1, 2] and two.n_iter_ == 4
    assert len(two.epoch_seconds_) == 4 and min(two.epoch_seconds_) > 0


def test_two_processes_take_the_steps_of_one_in_float64_to_1e6():
    # the tolerance: same global batch and seed, float64, weights to 1e-6. batch_size=75 gives the
    # processes unequal shares of every batch (38 and 37 rows), and 1030 rows a short last batch (55 rows)
    X, y = make_classification(1030, 8, n_informative=6, n_redundant=0, n_classes=3, random_state=1)
    settings = {**EXACT, "batch_size": 75, "dtype": "float64"}
    one = MLPClassifier(**settings).fit(X, y)
    two = fit_data_parallel(MLPClassifier(**settings), X, y, n_processes=2, timeout=240)
    assert two.coefs_[0].dtype == np.float64
    np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-6, atol=1e-6)
    for a, b in zip(two.coefs_ + two.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_shuffled_regression_reaches_the_in_memory_score():
    X, y = make_regression(1200, 6, noise=5.0, random_state=0)
    X, y = X.astype(np.float32), (y / y.std()).astype(np.float32)
    settings = {"hidden_layer_sizes": (16,), "random_state": 0, "max_iter": 20, "learning_rate_init": 0.01}
    in_memory = MLPRegressor(**settings, tol=0, n_iter_no_change=1000).fit(X[:1000], y[:1000])
    parallel = fit_data_parallel(MLPRegressor(**settings), X[:1000], y[:1000], n_processes=2, timeout=240)
    assert parallel.n_iter_ == 20 and len(parallel.loss_curve_) == 20
    assert parallel.score(X[1000:], y[1000:]) >= in_memory.score(X[1000:], y[1000:]) - 0.02


def test_every_setting_of_one_process_works_in_two():
    """The issue's check: float64, shuffling, early stopping with its best weights, a cosine schedule,
    dropout, batch norm and sample weights; two processes train as one does and stop at the same epoch."""
    X, y = make_classification(600, 8, n_informative=6, n_redundant=0, n_classes=3, random_state=2)
    weights = np.random.RandomState(0).uniform(0.2, 2.0, len(y))
    settings = dict(hidden_layer_sizes=(12, 6), random_state=0, shuffle=True, dtype="float64", batch_size=50,
                    early_stopping=True, n_iter_no_change=3, max_iter=60, learning_rate="cosine",
                    learning_rate_init=0.01, lr_min=1e-4, dropout=0.1, batch_norm=True)  # fmt: skip
    one = MLPClassifier(**settings).fit(X, y, sample_weight=weights)
    two = fit_data_parallel(MLPClassifier(**settings), X, y, sample_weight=weights, n_processes=2, timeout=300)
    assert two.n_iter_ == one.n_iter_ < settings["max_iter"]  # stopped early, at the same epoch
    np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(two.validation_scores_, one.validation_scores_, rtol=1e-6)
    np.testing.assert_allclose(two.learning_rate_curve_, one.learning_rate_curve_, rtol=1e-9)
    assert len(set(np.round(one.learning_rate_curve_, 9))) > 1  # the schedule moved
    for a, b in zip(two.coefs_ + two.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(two.batch_norm_["mean"][0], one.batch_norm_["mean"][0], rtol=1e-6, atol=1e-6)


def test_unsupported_settings_are_named_before_starting():
    with pytest.raises(NotImplementedError, match="solver='lbfgs'"):
        fit_data_parallel(MLPRegressor(solver="lbfgs"), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="n_processes must be a positive integer"):
        fit_data_parallel(MLPRegressor(), np.zeros((4, 2)), np.zeros(4), n_processes=0)


def test_workers_started_as_a_slurm_cluster_starts_them(tmp_path):
    # `srun python -m mlpkit.distributed FOLDER` on each node: JAX reads the coordinator (the first node,
    # port from the job id), the process count and each process's id from SLURM's variables
    X, y = make_regression(300, 4, noise=1.0, random_state=0)
    settings = {"hidden_layer_sizes": (8,), "random_state": 0, "max_iter": 3, "shuffle": False, "dtype": "float64"}
    prepare_job(MLPRegressor(**settings), X, y, str(tmp_path), n_processes=2)
    port = free_port_in(range(61440, 65536))  # where SLURM's job id puts the coordinator
    slurm = {"SLURM_JOB_ID": str(port - 61440), "SLURM_NTASKS": "2", "SLURM_STEP_NODELIST": "localhost"}
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(open(tmp_path / f"log{rank}.txt", "w+")) for rank in range(2)]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "mlpkit.distributed", str(tmp_path)],
                env={**os.environ, **slurm, "JAX_PLATFORMS": "cpu", "SLURM_PROCID": str(k), "SLURM_LOCALID": str(k)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for k, log in enumerate(logs)
        ]
        try:
            supervise(processes, logs, timeout=240)
        finally:
            for p in processes:
                p.kill()
    parallel = read_result(MLPRegressor(**settings), str(tmp_path))
    one = MLPRegressor(**settings, tol=0, n_iter_no_change=1000).fit(X, y)
    for a, b in zip(parallel.coefs_ + parallel.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def free_port_in(ports):
    for port in np.random.default_rng().permutation(ports):
        with socket.socket() as s:
            try:
                s.bind(("", int(port)))
            except OSError:
                continue
            return int(port)
    raise RuntimeError(f"no free port in {ports}")


def test_every_process_starts_from_the_same_weights_without_a_seed(tmp_path):
    # random_state=None: each worker would draw its own initial weights (and average gradients taken
    # at different points); prepare_job fixes one seed for all of them
    model = MLPRegressor(hidden_layer_sizes=(4,), random_state=None)
    prepare_job(model, np.zeros((8, 2)), np.zeros(8), str(tmp_path), n_processes=2)
    with open(tmp_path / "job.pkl", "rb") as f:
        seed = pickle.load(f)["estimator"].random_state
    assert isinstance(seed, int) and model.random_state is None


def test_a_job_prepared_again_does_not_offer_the_old_result(tmp_path):
    X, y = np.zeros((8, 2)), np.zeros(8)
    prepare_job(MLPRegressor(hidden_layer_sizes=(4,)), X, y, str(tmp_path), n_processes=2)
    (tmp_path / "result.pkl").write_bytes(pickle.dumps(MLPRegressor()))  # a finished job's
    prepare_job(MLPRegressor(hidden_layer_sizes=(4,)), X, y, str(tmp_path), n_processes=2)
    with pytest.raises(DistributedError, match="has not finished"):
        read_result(MLPRegressor(), str(tmp_path))


def test_the_worker_command_says_what_is_missing(tmp_path, capsys):
    # (``main`` is what ``python -m mlpkit.distributed`` runs; the SLURM test above starts it as a command)
    for argv, said in (([str(tmp_path)], "holds no job.pkl"),
                       ([str(tmp_path), "--coordinator", "10.0.0.1:1234"], "--num-processes and --process-id together")):
        with pytest.raises(SystemExit) as exit_:
            distributed_main(argv)
        assert exit_.value.code == 2 and said in capsys.readouterr().err
    with pytest.raises(DistributedError, match="has not finished"):
        read_result(MLPRegressor(), str(tmp_path))


# -------------------------------------------------------------------------------------- launcher
def stand_ins(tmp_path, programs):
    logs = [open(tmp_path / f"log{i}.txt", "w+") for i in range(len(programs))]
    processes = [
        subprocess.Popen([sys.executable, "-c", p], stdout=log, stderr=subprocess.STDOUT)
        for p, log in zip(programs, logs)
    ]
    return processes, logs


def test_a_process_that_dies_is_named_and_the_others_stopped(tmp_path):
    processes, logs = stand_ins(
        tmp_path, ["import time; time.sleep(60)", "raise SystemExit('shard missing')"]
    )
    with pytest.raises(DistributedError, match=r"process 1 of 2 exited with code 1: shard missing"):
        try:
            supervise(processes, logs, timeout=30)
        finally:
            for p in processes:
                p.kill()
    assert processes[0].wait(timeout=5) != 0


def test_the_error_quoted_is_the_exception_not_the_notes_after_it(tmp_path):
    program = (
        "import sys; print('Traceback (most recent call last):'); print('ValueError: shard 1 is empty');"
        " print('--------------------'); print('For simplicity, JAX has removed its internal frames'); sys.exit(1)"
    )
    processes, logs = stand_ins(tmp_path, [program])
    with pytest.raises(DistributedError, match=r"process 0 of 1 exited with code 1: ValueError: shard 1 is empty \("):
        supervise(processes, logs, timeout=30)


def test_processes_that_hang_are_stopped_at_the_timeout(tmp_path):
    processes, logs = stand_ins(
        tmp_path, ["print('waiting for a peer', flush=True); import time; time.sleep(60)", "pass"]
    )
    with pytest.raises(
        DistributedError, match=r"process\(es\) \[0\] of 2 did not finish within 1 s.*waiting for a peer"
    ):
        try:
            supervise(processes, logs, timeout=1)
        finally:
            for p in processes:
                p.kill()


def test_a_real_worker_that_dies_is_reported(tmp_path):
    X, y = make_regression(64, 3, random_state=0)
    y[5] = np.nan  # every process's fit refuses it, with scikit-learn's message
    with pytest.raises(DistributedError, match=r"process [01] of 2 exited with code 1: ValueError: Input y contains NaN"):
        fit_data_parallel(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), X, y, n_processes=2, timeout=120)
