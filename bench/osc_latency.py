"""Round-trip latency of ``/mlp/predict`` through ``mlpkit serve`` on loopback, idle and during a fit.

    python bench/osc_latency.py                  # 13 -> 8 -> 3, 2000 predictions in each phase (~30 s)
    python bench/osc_latency.py --predictions 500

The server runs as its own process (``python -m mlpkit.cli serve --port 0``), as it
would for Max, Pure Data or SuperCollider; this process is the client (python-osc
through ``mlpkit.osc.client.Client``). After a first fit (which compiles) it times
``--predictions`` round trips with nothing else running, then the same number while
a long fit runs in the background (checked: the fit has not replied yet when the
last prediction comes back). Targets (issue 21): median <= 1 ms, p99 <= 5 ms, both.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import time

import numpy as np

from mlpkit.osc.client import Client

INPUTS, HIDDEN, OUTPUTS, POINTS = 13, 8, 3, 500


def start_server() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-m", "mlpkit.cli", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    match = re.search(r"port (\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(match.group(1))


def round_trips(client: Client, n: int, rng) -> np.ndarray:
    """Seconds per ``/mlp/predict`` round trip, ``n`` of them."""
    times = np.empty(n)
    for i in range(n):
        x = rng.uniform(-1, 1, INPUTS).tolist()
        start = time.perf_counter()
        address, args = client.ask("/mlp/predict", "bench", *x)
        times[i] = time.perf_counter() - start
        if address != "/mlp/predict" or len(args) != 1 + OUTPUTS:
            raise SystemExit(f"unexpected reply {address} {args}")
    return times


def row(phase: str, times: np.ndarray) -> str:
    ms = times * 1e3
    return f"| {phase} | {len(ms)} | {np.median(ms):.3f} | {np.percentile(ms, 99):.3f} | {ms.max():.3f} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=2000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    process, port = start_server()
    try:
        with Client(port=port) as client:
            client.ask("/mlp/create", "bench", "regressor", HIDDEN, reply="/mlp/created")
            for name, value in (("inputs", INPUTS), ("maxIter", 50), ("seed", 0), ("validation", 0)):  # (no early stop)
                client.ask("/mlp/set", "bench", name, value)
            X = rng.uniform(-1, 1, (POINTS, INPUTS))
            Y = np.tanh(X[:, :OUTPUTS] + X[:, OUTPUTS:2 * OUTPUTS])
            for i in range(POINTS):
                client.ask("/mlp/point", "bench", f"p{i}", *X[i].tolist(), *Y[i].tolist(), reply="/mlp/points")
            client.ask("/mlp/fit", "bench", timeout=300)  # compiles
            round_trips(client, 200, rng)  # warm-up
            idle = round_trips(client, args.predictions, rng)
            client.ask("/mlp/set", "bench", "maxIter", 1_000_000)
            client.send("/mlp/fit", "bench")
            time.sleep(0.5)  # the fit is under way
            busy = round_trips(client, args.predictions, rng)
            client.send("/mlp/predict", "bench", *X[0].tolist())  # a fit reply before this one means the fit ended
            address, _ = client.receive()
            if address != "/mlp/predict":
                raise SystemExit(f"the background fit ended before the measurement did ({address}); raise maxIter")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    print(f"python {' '.join(sys.argv)}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')} {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()},"
          f" load average {os.getloadavg()[0]:.1f} (other processes on the machine widen the tail)")
    print(f"network {INPUTS} -> {HIDDEN} -> {OUTPUTS}, {POINTS} points, loopback UDP, server in its own process\n")
    print("| phase | predictions | median ms | p99 ms | max ms |\n|---|---|---|---|---|")
    print(row("idle", idle))
    print(row("while a fit runs", busy))
    ok = all(np.median(t) <= 1e-3 and np.percentile(t, 99) <= 5e-3 for t in (idle, busy))
    print(f"\ntargets (median <= 1 ms, p99 <= 5 ms): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
