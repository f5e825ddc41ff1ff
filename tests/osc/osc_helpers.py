"""What the OSC tests share: sending points, fitting and waiting, floats as OSC carries them."""

import numpy as np


def add_points(client, name, X, Y, first=0):
    """Send one ``/mlp/point`` per row (regressor targets: rows of Y; classifier: labels), as points ``p{first}``
    on, to a model that has ``first`` points, and wait for each count."""
    for i, (x, y) in enumerate(zip(X, Y), start=first):
        y = [y] if isinstance(y, str) else list(np.atleast_1d(y))
        reply = client.ask("/mlp/point", name, f"p{i}", *map(float, x),
                           *(v if isinstance(v, str) else float(v) for v in y), reply="/mlp/points")
        assert reply == ("/mlp/points", [name, i + 1]), reply


def fit(client, name, timeout=60):
    """``/mlp/fit NAME`` and its error, once it ends."""
    address, args = client.ask("/mlp/fit", name, timeout=timeout)
    assert address == "/mlp/fit", args
    return args[1]


def as_sent(values):
    """Values as an OSC float (32 bits) carries them, back in float64."""
    return np.asarray(values, dtype=np.float32).astype(float)
