"""``Client``: talk to an OSC server from Python and read its replies (tests, benchmarks, scripts).

python-osc's ``SimpleUDPClient`` sends but does not listen; this client sends from
its own socket, so the server's replies come back to it::

    with Client(port=57130) as client:
        client.send("/mlp/create", "pad", "regressor", 8)
        client.receive("/mlp/created")           # ('/mlp/created', ['pad'])
        client.ask("/mlp/predict", "pad", 0.1, 0.2)   # send, then wait for the same address or an error
"""

from __future__ import annotations

import socket
import time

from pythonosc.osc_message import OscMessage

from .server import DEFAULT_HOST, DEFAULT_PORT, MAX_DATAGRAM, build


class Client:
    """A UDP socket on ``host`` that sends OSC messages to ``(host, port)`` and parses what comes back."""

    def __init__(self, host=DEFAULT_HOST, port=DEFAULT_PORT, listen_port=0):
        self.server = (host, port)
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, listen_port))
        self.port = self.socket.getsockname()[1]
        self.backlog: list[tuple[str, list]] = []  # replies received while waiting for another address

    def send(self, address: str, *args) -> None:
        self.socket.sendto(build(address, args), self.server)

    def send_bytes(self, data: bytes) -> None:
        self.socket.sendto(data, self.server)

    def receive(self, address=None, timeout: float = 5.0) -> tuple[str, list]:
        """The next reply (``address`` given: the next one to that address or ``/mlp/error``; others wait in
        ``backlog`` for a later call); ``TimeoutError`` after ``timeout`` seconds."""
        for i, (got, args) in enumerate(self.backlog):
            if address is None or got in (address, "/mlp/error"):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply{' to ' + address if address else ''} within {timeout:g} s")
            self.socket.settimeout(left)
            try:
                data = self.socket.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            message = OscMessage(data)
            reply = (message.address, list(message.params))
            if address is None or message.address in (address, "/mlp/error"):
                return reply
            self.backlog.append(reply)

    def ask(self, address: str, *args, reply=None, timeout: float = 5.0) -> tuple[str, list]:
        """Send, then wait for the reply to ``reply`` (default: the same address) or an error."""
        self.send(address, *args)
        return self.receive(reply or address, timeout)

    def close(self) -> None:
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
