"""Files written and read safely: atomic writes, and JSON parsing that refuses what
Python's json module lets through silently.

``write_atomically`` writes through a temporary file in the same directory and
``os.replace``: a crash or error mid-write leaves the old file whole.

``json.loads`` accepts the non-standard literals NaN, Infinity and -Infinity,
and keeps only the last of two equal keys in an object. Neither belongs in a
model or data file: the first cannot be read back by other tools (FluCoMa), the
second hides lost data. ``strict_loads`` raises ``ValueError`` for both.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _refuse_constant(name):
    raise ValueError(f"the non-standard number {name} (only finite numbers are allowed)")


def _refuse_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {key!r} twice in one object (keys must be unique)")
        for text in (key, *(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))):
            _check_encodable(text)
        obj[key] = value
    return obj


def _check_encodable(text):
    # "\ud800" parses to a lone surrogate, which no UTF-8 file can hold: writing it back would fail.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"the string {text!r}, which is not valid Unicode (a lone surrogate escape)") from None


def strict_loads(text: str):
    """``json.loads`` refusing NaN/Infinity and duplicate keys (``ValueError``; ``JSONDecodeError`` for bad syntax)."""
    return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys)


def write_atomically(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    If anything fails, the temporary file is removed and the file that was at
    ``path`` (if any) is left untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides permissions
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
