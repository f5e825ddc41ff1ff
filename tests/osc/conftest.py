"""The OSC tests' server and python-osc client, both on 127.0.0.1 with ports the system picks."""

import pytest

from mlpkit import osc
from mlpkit.osc.client import Client


@pytest.fixture
def console():
    """The server's console lines."""
    return []


@pytest.fixture
def server(console):
    with osc.serve(port=0, log=console.append) as server:
        yield server


@pytest.fixture
def client(server):
    with Client(port=server.port) as client:
        yield client
