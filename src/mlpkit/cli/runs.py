"""``mlpkit runs DIR``: compare the runs recorded in a runs directory, in the browser, live.

Serves the runs page (``mlpkit.dashboard.serve_runs``) on 127.0.0.1 and prints its
address: the runs of one sweep or one estimator kind at a time (the latest at first;
scores of different kinds never share a ranking), a table of their parameters and
scores (click a column to sort), the loss curves of the runs ticked in it (the best
three at first) overlaid, and the score against each parameter that differs between them. Runs recorded while it serves (a sweep
in another terminal) appear within a second or so. It serves until Ctrl-C, then
exits 130 like any interrupted command.
"""

from __future__ import annotations

import time
import webbrowser
from urllib.parse import quote

from . import report
from .errors import CLIError

HELP = "compare the runs of a runs directory in the browser: table, overlaid curves, score per parameter"

EPILOG = """examples:
  mlpkit runs runs/                      the runs recorded in runs/, opening on the latest sweep or estimator kind
  mlpkit runs runs/ --sweep lr-search    the page opens on one sweep's runs (another can be chosen there)
  mlpkit runs runs/ --port 8765 --open

Ctrl-C stops serving (exit code 130)."""

#: How often the command wakes while it serves (seconds); Ctrl-C is honoured at once regardless.
WAIT_SECONDS = 0.5

#: Ports a server can listen on (0: a free one).
PORTS = range(65536)


def add_arguments(parser) -> None:
    parser.add_argument("runs_dir", metavar="DIR", help="the runs directory the runs were recorded in (fit(..., track=DIR), sweeps)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--sweep", metavar="NAME", help="open the page on this sweep's runs (default: the most recent sweep or estimator kind)")
    parser.add_argument("--open", action="store_true", help="open the page in the default web browser")


def run(args) -> int:
    from ..dashboard import serve_runs

    if args.port not in PORTS:
        raise CLIError(f"--port {args.port}: give a port from 1 to 65535, or 0 for a free one")
    server = serve_runs(args.runs_dir, port=args.port)
    try:
        url = server.url + (f"?sweep={quote(args.sweep)}" if args.sweep else "")
        sweeps = server.store.sweeps()
        if args.sweep and args.sweep not in sweeps:
            report.note(f"no sweep {args.sweep!r} in {args.runs_dir} yet (its sweeps: {', '.join(sweeps) or 'none'});"
                        " the page shows its runs once it starts")
        print(f"mlpkit runs: {url}", flush=True)
        report.note("serving the runs page until Ctrl-C")
        if args.open:
            webbrowser.open(url)
        wait_until_interrupted()
    finally:
        server.close()
    return 0  # not reached: Ctrl-C ends the command (exit code 130)


def wait_until_interrupted() -> None:
    """Sleep until Ctrl-C (KeyboardInterrupt)."""
    while True:
        time.sleep(WAIT_SECONDS)
