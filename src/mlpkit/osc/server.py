"""``OSCServer``: the UDP socket, OSC packets in and out (python-osc), the named models, replies and errors.

One thread receives datagrams and handles their messages in order (bundles are
opened and their messages run at once; time tags are ignored, so a bundle dated
in the future cannot hold the server up). Fits run in their own threads
(``served.py``). Nothing a client sends stops the server: a datagram that is not
OSC, a message with wrong arguments or for an unknown model, anything a handler
raises, each becomes one ``/mlp/error NAME MESSAGE`` to the sender and, at most a
few times a second, a line on the console. A datagram of any size UDP carries
(64 KiB) is read whole; replies are sent without waiting (a client that does not
read them loses them, the server does not stall).
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
import traceback

from pythonosc import osc_packet
from pythonosc.osc_message_builder import OscMessageBuilder

from . import messages
from .autosave import Autosave
from .defaults import DEFAULT_HOST, DEFAULT_PORT
from .served import KINDS, ModelError, ServedModel

#: The largest UDP payload; every datagram is read whole.
MAX_DATAGRAM = 65535

#: How often the receiving thread looks whether it should stop (seconds): ``close()`` takes about this long.
POLL_SECONDS = 0.1

#: Longest error message sent back (characters), so that a reply always fits a datagram.
MAX_ERROR_CHARS = 400

#: At most this many lines about bad messages on the console per second (a flood of bad packets stays quiet).
LOG_LINES_PER_SECOND = 5

#: While serving, Python switches threads at least this often (seconds; Python's default is 0.005): a fit's
#: Python code between compiled chunks then holds a prediction up for a fraction of a millisecond, not 5 ms.
SWITCH_INTERVAL = 0.0005

#: How long ``close()`` waits for running fits to stop after their current chunk of epochs (seconds).
STOP_FITS_SECONDS = 10.0


def one_line(error) -> str:
    """An exception's message on one line (a reply and a console line are one line each)."""
    return " ".join(str(error).split()) or type(error).__name__


def build(address: str, args) -> bytes:
    """One OSC message (python-osc): ints as ``i``, floats as ``f``, text as ``s``."""
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class OSCServer:
    """An OSC server for FluCoMa-style models, serving from a daemon thread until ``close()``.

    Use :func:`mlpkit.osc.serve` to start one. ``models`` maps names to
    :class:`~mlpkit.osc.served.ServedModel`; ``port`` is the port it listens on (useful
    with ``port=0``); ``dashboards`` maps model names to their dashboard's address
    when started with ``dashboard=True``.
    """

    def __init__(self, host=DEFAULT_HOST, port=DEFAULT_PORT, *, reply_port=None, autosave=None, dashboard=False,
                 log=None):
        self.host, self.reply_port, self.dashboard = host, reply_port, dashboard
        self.models: dict[str, ServedModel] = {}
        self._log_sink = log if log is not None else (lambda line: print(line, file=sys.stderr, flush=True))
        self._log_window, self._log_count, self._log_dropped = 0.0, 0, 0
        self._closing = threading.Event()
        self._closed = False
        self.autosave = Autosave(autosave) if autosave is not None else None
        if self.autosave is not None:  # (a damaged file raises here, before any port is taken)
            for name, estimator, inputs, targets in self.autosave.saved():
                self._add(name, estimator, inputs, targets)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._socket.bind((host, int(port)))
        except (OSError, OverflowError) as error:
            self._socket.close()
            for model in self.models.values():
                if model.dashboard is not None:
                    model.dashboard.close()
            taken = getattr(error, "errno", None) == errno.EADDRINUSE
            raise OSError(
                f"cannot listen for OSC on {host} port {port}: {getattr(error, 'strerror', None) or error}; "
                + ("another program listens there: pick another --port" if taken else "check the --host address")
            ) from None
        self._socket.settimeout(POLL_SECONDS)
        self.port = self._socket.getsockname()[1]
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self._thread = threading.Thread(target=self._receive, name=f"mlpkit-osc-{self.port}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ models
    def model(self, name) -> ServedModel:
        try:
            return self.models[name]
        except (KeyError, TypeError):
            raise ModelError(
                f"no model {name!r}; create it with /mlp/create {name} regressor (or classifier)"
                + (f" (models: {', '.join(sorted(self.models))})" if self.models else "")
            ) from None

    def create_model(self, name: str, kind: str, hidden=None) -> ServedModel:
        """A new, empty model under ``name`` (replacing one that does not fit right now)."""
        old = self.models.get(name)
        if old is not None and old.fitting:
            raise ModelError(f"{name} is fitting; create it again after /mlp/fit {name} replies")
        estimator = KINDS[kind][0]()
        if hidden is not None:
            estimator.set_params(hidden_layers=hidden)
        if old is not None:
            self._forget(name)
        return self._add(name, estimator)

    def delete_model(self, name) -> None:
        if self.model(name).fitting:
            raise ModelError(f"{name} is fitting; delete it after /mlp/fit {name} replies")
        self._forget(name)

    def _add(self, name, estimator, inputs=None, targets=None) -> ServedModel:
        dashboard = None
        if self.dashboard:
            from ..dashboard import Dashboard

            dashboard = Dashboard(keep_open=True, quiet=True)
            self.log(f"dashboard of {name}: {dashboard.start()}")
        model = ServedModel(name, estimator, inputs, targets, on_epoch=self._on_epoch, on_fit_end=self._on_fit_end,
                            after_fit=self._save, dashboard=dashboard)
        self.models[name] = model
        return model

    def _forget(self, name) -> None:
        model = self.models.pop(name)
        if model.dashboard is not None:
            model.dashboard.close()
        if self.autosave is not None:
            self.autosave.remove(name)

    @property
    def dashboards(self) -> dict:
        return {name: m.dashboard.url for name, m in self.models.items() if m.dashboard is not None}

    # ------------------------------------------------------------------ fits' reports (from fit threads)
    def _on_epoch(self, model, client, epoch, loss):
        self.send(client, "/mlp/epoch", [model.name, epoch, loss])

    def _on_fit_end(self, model, client, result):
        if isinstance(result, Exception):
            self.error(client, model.name, f"fit failed: {one_line(result)}")
            return
        self.send(client, "/mlp/fit", [model.name, float(result)])
        if result == -1.0:
            self.error(client, model.name, "training diverged; the network is as it was before this fit."
                       " Try a smaller learnRate")

    def _save(self, model) -> None:
        if self.autosave is None:
            return
        try:
            self.autosave.save(model)
        except Exception as error:  # noqa: BLE001 - the server goes on; the console says what failed
            self.log(f"{model.name}: could not autosave: {one_line(error)}")

    # ------------------------------------------------------------------ receiving
    def _receive(self) -> None:
        while not self._closing.is_set():
            try:
                data, client = self._socket.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:  # the socket closed under us, or an ICMP error surfaced: go on until told to stop
                if self._closing.is_set():
                    return
                continue
            try:
                self.handle_datagram(data, client)
            except Exception:  # noqa: BLE001 - never let one datagram end the server
                self.log(traceback.format_exc().rstrip())

    def handle_datagram(self, data: bytes, client) -> None:
        """Run every message of one datagram; a packet python-osc cannot parse gets one error reply."""
        try:
            packet = osc_packet.OscPacket(data)
        except Exception as error:  # noqa: BLE001 - any bytes may arrive; python-osc raises more than ParseError
            self.error(client, "", f"not an OSC packet ({one_line(error)[:80]}); {len(data)} bytes ignored",
                       log=True)
            return
        for timed in packet.messages:
            self.handle_message(client, timed.message.address, list(timed.message.params))

    def handle_message(self, client, address: str, args: list) -> None:
        entry = messages.ADDRESSES.get(address)
        name = args[0] if args and isinstance(args[0], str) else ""
        if entry is None:
            self.error(client, name, f"unknown address {address[:60]}; the addresses are {', '.join(messages.ADDRESSES)}",
                       log=True)
            return
        function, usage = entry
        try:
            if address not in messages.WITHOUT_NAME and not (args and isinstance(args[0], str)):
                raise messages.BadMessage("the first argument is the model's name")
            reply = function(self, client, name, args[1:])
        except messages.BadMessage as error:
            self.error(client, name, f"{address}: {error} (usage: {usage})", log=True)
        except (ValueError, TypeError, KeyError, OSError, RuntimeError) as error:  # the model is as it was
            self.error(client, name, f"{address}: {one_line(error)}", log=True)
        except Exception as error:  # noqa: BLE001 - a bug; say so, and keep serving
            self.log("".join(traceback.format_exception(error)).rstrip())
            self.error(client, name, f"{address}: internal error {type(error).__name__}: {one_line(error)}")
        else:
            if reply is not None:
                self.send(client, *reply)

    # ------------------------------------------------------------------ sending
    def reply_address(self, client):
        return client if self.reply_port is None else (client[0], self.reply_port)

    def send(self, client, address: str, args) -> None:
        """Send one message to ``client`` (or its reply port); dropped if the network would block."""
        try:
            data = build(address, args)
        except Exception as error:  # noqa: BLE001 - a value OSC cannot carry: say so instead
            data = build("/mlp/error", [str(args[0]) if args else "", f"{address}: cannot send the reply: {one_line(error)}"])
        try:
            self._socket.sendto(data, self.reply_address(client))
        except OSError:
            pass  # a full buffer, a closed socket, an unreachable client: replies are best effort

    def error(self, client, name: str, message: str, log: bool = False) -> None:
        message = one_line(message)
        if len(message) > MAX_ERROR_CHARS:
            message = message[: MAX_ERROR_CHARS - 3] + "..."
        self.send(client, "/mlp/error", [name, message])
        if log:
            self.log(f"{name or '-'}: {message}", limited=True)

    def log(self, line: str, limited: bool = False) -> None:
        """A line on the console (``mlpkit serve: ...``); ``limited`` lines at most ``LOG_LINES_PER_SECOND``."""
        if limited:
            now = time.monotonic()
            if now - self._log_window >= 1.0:
                self._log_not_shown()
                self._log_window, self._log_count = now, 0
            self._log_count += 1
            if self._log_count > LOG_LINES_PER_SECOND:
                self._log_dropped += 1
                return
        self._log_sink(f"mlpkit serve: {line}")

    def _log_not_shown(self) -> None:
        if self._log_dropped:
            self._log_sink(f"mlpkit serve: ({self._log_dropped} more bad messages not shown)")
            self._log_dropped = 0

    # ------------------------------------------------------------------ stopping
    def close(self) -> None:
        """Stop receiving, stop running fits (they keep their best weights), save every model, close the socket."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        self._thread.join()
        self._log_not_shown()
        for model in list(self.models.values()):
            if not model.stop(STOP_FITS_SECONDS):
                self.log(f"{model.name}: its fit did not stop within {STOP_FITS_SECONDS:g} s; its files are from"
                         " its last finished fit")
                continue
            self._save(model)
            if model.dashboard is not None:
                model.dashboard.close()
        self._socket.close()
        sys.setswitchinterval(self._switch_interval)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve(host=DEFAULT_HOST, port=DEFAULT_PORT, *, reply_port=None, autosave=None, dashboard=False, log=None) -> OSCServer:
    """Start an OSC server for FluCoMa-style models; returns it, serving from a background thread.

    >>> server = mlpkit.osc.serve()              # doctest: +SKIP  (127.0.0.1:57130)
    >>> server.port, sorted(server.models)       # doctest: +SKIP
    >>> server.close()                           # stops fits, autosaves, frees the port

    Parameters
    ----------
    host : str, default="127.0.0.1"
        Address to listen on. OSC has no authentication: anyone who can reach the port can
        train, replace and write models (and read and write ``.json`` files as you), so
        listen beyond this machine only on a network you trust.
    port : int, default=57130
        UDP port; 0 picks a free one (``server.port``).
    reply_port : int or None, default=None
        Send replies to this port of the sender's host; None: to the port the message came from.
    autosave : path or None
        A directory to write every model and its points to (see :mod:`mlpkit.osc.autosave`),
        after each fit and on ``close()``; models saved there are served again at start.
    dashboard : bool, default=False
        Give every model a live dashboard page (its address is logged and in ``server.dashboards``).
    log : callable or None
        Where the console lines go (a function of one string); default: standard error.

    While it serves, Python switches threads every 0.5 ms at least (``sys.setswitchinterval``;
    ``close()`` puts the previous interval back), so a fit's Python code cannot hold a prediction
    up for longer.
    """
    if reply_port is not None and not 1 <= int(reply_port) <= 65535:
        raise ValueError(f"reply_port must be a port from 1 to 65535, got {reply_port!r}")
    return OSCServer(host, port, reply_port=reply_port, autosave=autosave, dashboard=dashboard, log=log)


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "OSCServer", "build", "serve"]
