"""JAX's persistent compilation cache, on by default so a fresh process skips compiling.

The cache lives in a per-user directory (``$XDG_CACHE_HOME/mlpkit/jax``, else
``~/.cache/mlpkit/jax``); ``MLPKIT_COMPILATION_CACHE`` names another directory,
or turns the cache off with ``0``/``off``/``false``.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

_OFF = {"0", "off", "false", "no"}


def cache_directory() -> Path | None:
    setting = os.environ.get("MLPKIT_COMPILATION_CACHE", "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlpkit" / "jax"


def enable() -> None:
    """Point JAX at mlpkit's cache directory unless the user configured one or opted out."""
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
