"""Test-wide settings."""

import jax
import pytest


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
