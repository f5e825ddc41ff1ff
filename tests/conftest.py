"""Test-wide settings."""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Each pytest-xdist worker shares the machine's cores with the others: one BLAS thread each (here and in
    # the processes tests start), or OpenBLAS's spinning threads, two per worker on two cores, make a test of
    # matrix products ten times slower than alone.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def free_compiled_programs_after_each_module():
    """Drop JAX's in-memory compiled programs after each test module.

    The suite compiles a few thousand distinct programs (every network shape,
    solver and data bucket it tries); kept all in one process, XLA's CPU
    compiler aborted after about half the suite (reproducibly, with or without
    the persistent cache). A module's programs are not reused by the next one.
    """
    yield
    jax.clear_caches()


@pytest.fixture
def compiled_loop(monkeypatch):
    """Every fit in the test trains in the compiled loop, however small (the numpy loop takes small fits:
    ``mlpkit.numpy_loop.trains``); for tests of the compiled loop itself."""
    from mlpkit import numpy_loop

    monkeypatch.setattr(numpy_loop, "MAX_WORK", 0)


@pytest.fixture(params=["numpy loop", "compiled loop"])
def either_loop(request, monkeypatch):
    """The test runs twice: every fit in the numpy loop, then every fit in the compiled loop."""
    from mlpkit import numpy_loop

    monkeypatch.setattr(numpy_loop, "MAX_WORK", float("inf") if request.param == "numpy loop" else 0)
    return request.param
