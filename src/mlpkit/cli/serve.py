"""``mlpkit serve``: an OSC server for Max, Pure Data and SuperCollider that trains and predicts live.

It listens for OSC over UDP (127.0.0.1 port 57130 unless told otherwise) and holds
named FluCoMa-style models and their points: ``/mlp/create``, ``/mlp/point``,
``/mlp/fit`` (in the background), ``/mlp/predict`` (never waits for a fit),
``/mlp/write`` / ``/mlp/read`` FluCoMa JSON, and more (``mlpkit.osc`` lists them
all, README "Live over OSC"). Ctrl-C or SIGTERM stops it: running fits stop after
their current chunk of epochs and, with ``--autosave``, every model is saved.
"""

from __future__ import annotations

import signal

from . import report
from .errors import CLIError
from .runs import PORTS, wait_until_interrupted

HELP = "serve FluCoMa-style models over OSC: train and predict live from Max, Pure Data, SuperCollider"

EPILOG = """examples:
  mlpkit serve                                   127.0.0.1, port 57130; replies to each sender
  mlpkit serve --reply-port 57131 --autosave models/   (Pure Data: [netreceive -u -b 57131])
  mlpkit serve --host 0.0.0.0 --port 9000        reachable from other machines (no authentication!)
  mlpkit serve --dashboard                       a live page per model (its address is printed)

Ctrl-C or SIGTERM stops it (exit code 130 after Ctrl-C, 0 after SIGTERM)."""

#: Addresses that keep the server on this machine.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Terminated(Exception):
    """SIGTERM arrived: stop as cleanly as after Ctrl-C."""


def add_arguments(parser) -> None:
    from ..osc.defaults import DEFAULT_HOST, DEFAULT_PORT

    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"UDP port (default {DEFAULT_PORT}; 0: a free one)")
    parser.add_argument("--reply-port", type=int, metavar="PORT",
                        help="send replies to this port of the sender's host (default: the port each message came from)")
    parser.add_argument("--autosave", metavar="DIR",
                        help="write every model (mlpkit and FluCoMa formats) and its points here after each fit and on"
                             " exit, atomically; models found there are served again")
    parser.add_argument("--dashboard", action="store_true", help="a live dashboard page for every model (addresses printed)")


def run(args) -> int:
    from ..osc import serve

    for flag, port in (("--port", args.port), ("--reply-port", args.reply_port)):
        if port is not None and (port not in PORTS or (flag == "--reply-port" and port == 0)):
            raise CLIError(f"{flag} {port}: give a port from 1 to 65535" + (" (or 0 for a free one)" if flag == "--port" else ""))
    server = serve(args.host, args.port, reply_port=args.reply_port, autosave=args.autosave, dashboard=args.dashboard)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if args.host not in LOOPBACK:
            report.note(f"listening on {args.host}: OSC has no authentication, so anyone who can reach this port can"
                        " train, replace and write models and read and write .json files as you; do this only on a"
                        " network you trust")
        print(f"mlpkit serve: OSC on {args.host} port {server.port}"
              + (f", replies to port {args.reply_port}" if args.reply_port else "")
              + (f", {len(server.models)} model(s) from {args.autosave}" if args.autosave else ""), flush=True)
        report.note("serving until Ctrl-C")
        wait_until_interrupted()
    except Terminated:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the saving short
        server.close()
        signal.signal(signal.SIGTERM, previous)
        if args.autosave:
            report.note(f"saved {len(server.models)} model(s) in {args.autosave}")
    return 0  # not reached: Ctrl-C ends the command (exit code 130)


def _raise_terminated(signum, frame):
    raise Terminated
