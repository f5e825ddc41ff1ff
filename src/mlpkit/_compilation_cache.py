"""JAX's persistent compilation cache for mlpkit's programs, set up when mlpkit first compiles one.

Importing mlpkit changes nothing in JAX. The first compiled ``fit`` (or ``partial_fit``,
``lr_find``) of the process points JAX's persistent cache at a per-user
directory (``$XDG_CACHE_HOME/mlpkit/jax``, else ``~/.cache/mlpkit/jax``) and
lets it keep every program (mlpkit's compile in about a second), so a new
process does not compile them again. A cache the user configured already
(``jax_compilation_cache_dir``, or ``JAX_COMPILATION_CACHE_DIR``) wins and is
left exactly as it is. ``MLPKIT_COMPILATION_CACHE`` names another directory, or
turns mlpkit's set-up off with ``0``/``off``/``false``/``no``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_OFF = {"0", "off", "false", "no"}


def cache_directory() -> Path | None:
    setting = os.environ.get("MLPKIT_COMPILATION_CACHE", "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlpkit" / "jax"


@cache
def enable() -> None:
    """Point JAX at mlpkit's cache directory, once per process, unless the user configured one or opted out."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    directory = cache_directory()
    if directory is None or jax.config.jax_compilation_cache_dir:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: run without the cache rather than fail
        return
    jax.config.update("jax_compilation_cache_dir", str(directory))
    # mlpkit's programs compile in well under a second; cache them all.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # JAX decides at its first compile whether a cache is in use: if the user's own code compiled
    # before this first fit, with no cache configured, that decision is taken again now.
    compilation_cache.reset_cache()
