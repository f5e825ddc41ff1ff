"""How the ``mlpkit`` command fails: one line on stderr and a documented exit code, never a traceback.

Exit codes:

- ``0``: done (a bare ``mlpkit``, which prints the help, included);
- ``2``: a problem with what was asked (a missing or bad file, column, option or
  parameter value), explained in one line ``mlpkit: error: ...``;
- ``130`` (128 + SIGINT): interrupted by Ctrl-C. During ``fit`` the training stops
  between two chunks of epochs, the model so far (the best epoch's weights with
  early stopping) is still saved and reported, and then the command exits 130 so
  that scripts can tell it was cut short.

Set ``MLPKIT_DEBUG=1`` to see the full traceback of an error instead.
"""

from __future__ import annotations

import os

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """A problem the user can fix; its message is printed as ``mlpkit: error: <message>``."""


#: Exceptions reported in one line: what the user asked for cannot be done as asked.
#: (mlpkit's DataFileError and ModelFileError and scikit-learn's InvalidParameterError are ValueErrors.)
USER_ERRORS = (CLIError, ValueError, OSError, ImportError)


def one_line(error: BaseException) -> str:
    """The error's message on one line (whitespace runs, newlines included, become one space)."""
    return " ".join(str(error).split()) or type(error).__name__


def debugging() -> bool:
    """True when ``MLPKIT_DEBUG`` asks for tracebacks."""
    return os.environ.get("MLPKIT_DEBUG", "") not in ("", "0")
