"""Nothing a client sends stops or stalls the server: garbage, wrong types, bundles, huge messages, floods."""

import time

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from mlpkit.osc.server import MAX_ERROR_CHARS, build


def message(address, *args) -> OscMessage:
    return OscMessage(build(address, args))


def still_serving(client, models):
    assert client.ask("/mlp/models", timeout=10) == ("/mlp/models", sorted(models))


def test_bytes_that_are_not_osc_get_an_error_and_the_server_goes_on(client):
    for data in (b"", b"garbage", b"/mlp/predict\x00\x00\x00\x00,ff\x00\x00\x00", b"#bundle\x00" + b"\x01" * 5,
                 bytes(range(256)) * 4):
        client.send_bytes(data)
        address, args = client.receive(timeout=5)
        assert address == "/mlp/error" and args[0] == "" and "not an OSC packet" in args[1], (data[:20], args)
    still_serving(client, [])


def test_wrong_types_and_odd_arguments_are_errors(client):
    client.ask("/mlp/create", "pad", "regressor", 3, reply="/mlp/created")
    client.ask("/mlp/set", "pad", "inputs", 1)
    builder = OscMessageBuilder(address="/mlp/point")
    for value, kind in (("pad", "s"), ("id", "s"), (b"\x00\x01", "b"), (1.0, "f")):
        builder.add_arg(value, kind)
    cases = [
        builder.build().dgram,  # a blob where a number goes
        message("/mlp/point", "pad", "id", True, 1.0).dgram,  # a boolean (OSC T) is not a number
        message("/mlp/set", "pad", "maxIter", None).dgram,  # OSC nil
        message("/mlp/create", 1, "regressor").dgram,  # a name that is a number
        message("/mlp/predict").dgram,  # no arguments at all
        message("/mlp/set", "pad", 4.0, 1).dgram,  # a parameter name that is a number
    ]
    for dgram in cases:
        client.send_bytes(dgram)
        address, args = client.receive(timeout=5)
        assert address == "/mlp/error", args
    still_serving(client, ["pad"])


def test_bundles_run_at_once_whatever_their_time_tag(client):
    inner = OscBundleBuilder(time.time() + 3600 * 24 * 365)  # a year from now: not waited for
    inner.add_content(message("/mlp/create", "b", "classifier"))
    outer = OscBundleBuilder(time.time() + 3600)
    outer.add_content(message("/mlp/create", "a", "regressor"))
    outer.add_content(inner.build())
    start = time.monotonic()
    client.send_bytes(outer.build().dgram)
    assert client.receive("/mlp/created", timeout=5) == ("/mlp/created", ["a"])
    assert client.receive("/mlp/created", timeout=5) == ("/mlp/created", ["b"])
    assert time.monotonic() - start < 2
    still_serving(client, ["a", "b"])


def test_huge_messages_are_read_whole_and_refused_briefly(client):
    client.ask("/mlp/create", "pad", "regressor", 3, reply="/mlp/created")
    client.ask("/mlp/set", "pad", "inputs", 2)
    values = [0.5] * 12_000  # 60 kB with the type tags: one datagram, near UDP's limit
    assert client.ask("/mlp/point", "pad", "ok", 1.0, 2.0, 3.0, reply="/mlp/points") == ("/mlp/points", ["pad", 1])
    address, args = client.ask("/mlp/point", "pad", "big", *values, reply="/mlp/points", timeout=10)
    assert address == "/mlp/error" and "has 11998 targets, but pad's points have 1" in args[1]
    address, args = client.ask("/mlp/create", "x" * 60_000, "regressor", reply="/mlp/created")
    assert address == "/mlp/error" and len(args[1]) <= MAX_ERROR_CHARS
    address, args = client.ask("/mlp/predict", "pad", *values, reply="/mlp/predict")
    assert address == "/mlp/error" and len(args[1]) <= MAX_ERROR_CHARS
    still_serving(client, ["pad"])


def test_a_flood_neither_crashes_nor_blocks_the_server(server, client, console):
    client.ask("/mlp/create", "pad", "regressor", 3, reply="/mlp/created")
    flood = message("/mlp/predict", "pad", 0.1, 0.2).dgram  # an error each (no network yet): the costly path
    start = time.monotonic()
    for _ in range(20_000):
        client.send_bytes(flood)
        client.send_bytes(b"junk")
    sent = time.monotonic() - start
    time.sleep(0.5)
    # whatever the kernel kept of the flood is answered, then the server is all ours again
    client.socket.settimeout(0.2)
    drained = 0
    try:
        while True:
            client.socket.recv(65535)
            drained += 1
    except TimeoutError:
        pass
    assert drained > 0
    client.backlog.clear()
    still_serving(client, ["pad"])
    assert len(console) < 10 * (sent + 5), len(console)  # the console says a few lines a second, not 40000
    server.close()
    assert any("more bad messages not shown" in line for line in console)
