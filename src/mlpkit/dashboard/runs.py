"""The runs page: the runs of a runs directory compared side by side, live, served on 127.0.0.1.

>>> server = mlpkit.dashboard.serve_runs("runs")   # doctest: +SKIP
>>> server.url                                     # a sortable table, overlaid loss curves,
'http://127.0.0.1:41237/'                          # score against each swept parameter
>>> server.close()

or ``mlpkit runs DIR [--sweep NAME]`` on the command line. The runs come from an
``mlpkit.experiments.RunStore`` (``fit(X, y, track=DIR)``, ``mlpkit sweep``); the
page asks for them about once a second, so runs of a sweep appear, grow their
curves and get their scores while it runs. Same server, same rules as the training
page (``server.py``: the ``Host`` check, no caching, JSON answers, nothing external):

=============================  ==============================================================================
path (GET)                     what
=============================  ==============================================================================
``/``, ``/runs``               the page (``static/runs.html``; ``?sweep=NAME`` opens one sweep)
``/runs.js``, ``/plot.js``     its script and the chart drawing it shares with the training page
``/dashboard.css``             the style sheet of both pages
``/api/runs?sweep=NAME``       the table: ``runs_table`` below (``sweep`` left out: every run)
``/api/curves?ids=1,2,3``      ``{"ok": true, "curves": {"1": {"epoch": [...], "loss": [...], ...}}}``
=============================  ==============================================================================

A sweep the store does not hold, ids that are not run numbers, or runs it does not
hold, are answered with status 400 and ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from http import HTTPStatus
from pathlib import Path

from .server import STATIC_FILES, BadRequest, LocalServer
from .state import _finite_or_none

#: URL path -> (file in ``static/``, content type): the page, its script, and what it shares with the training page.
RUNS_FILES = {
    "/": ("runs.html", "text/html; charset=utf-8"),
    "/runs": ("runs.html", "text/html; charset=utf-8"),
    "/runs.js": ("runs.js", "text/javascript; charset=utf-8"),
    "/plot.js": STATIC_FILES["/plot.js"],
    "/dashboard.css": STATIC_FILES["/dashboard.css"],
}

#: Most runs whose curves one ``/api/curves`` request may ask for.
MAX_CURVES = 100

#: The run's own columns of the table, before its parameters and scores: name -> shown when (given the runs).
RUN_COLUMNS = {
    "id": lambda runs: True,
    "name": lambda runs: any(run.name for run in runs),
    "sweep": lambda runs: len({run.sweep for run in runs}) > 1,
    "trial": lambda runs: any(run.trial is not None for run in runs),
    "status": lambda runs: True,
    "estimator": lambda runs: len({run.estimator for run in runs}) > 1,
}

#: The table's column groups: group -> function(row of ``/api/runs``, key) -> the cell's value.
CELLS = {
    "run": lambda row, key: row[key],
    "param": lambda row, key: row["params"].get(key),
    "score": lambda row, key: row["scores"].get(key),
}


def _text(value) -> str:
    """One canonical text per parameter value, to tell equal values from different ones."""
    return json.dumps(value, sort_keys=True)


def _column_type(values) -> str:
    """``number`` when every value present is a number (bools are not), else ``text``: how the page sorts it."""
    present = [value for value in values if value is not None]
    numeric = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in present)
    return "number" if numeric else "text"


def _row(run, now: float) -> dict:
    """A run as the page gets it: the stored fields, and the time so far for one still running."""
    running = run.status == "running"
    return {
        "id": run.id, "name": run.name, "sweep": run.sweep, "trial": run.trial, "status": run.status,
        "estimator": run.estimator, "params": run.params, "scores": run.scores or {},
        "wall_time": now - run.started if running else run.wall_time, "error": run.error,
    }


def runs_table(runs, sweeps, sweep=None, now=None) -> dict:
    """The JSON of ``/api/runs``: the runs' rows and how to show and sort them.

    ``runs`` (oldest first): one row each (id, name, sweep, trial, status, estimator,
    params, scores, wall_time in seconds, error). ``varying``: the parameters whose
    values differ between these runs (a missing one counts as a value), in name
    order; ``constant``: the others with their one value. ``scores``: every score
    name, in the order they first appear. ``columns``: the table's columns in order,
    each ``{"key", "group": "run" | "param" | "score", "type": "number" | "text"}``
    (``type`` says how to sort: numbers numerically, text alphabetically; the page puts
    missing values last): the run's own columns that tell these runs apart, the varying
    parameters, the scores, and the wall time.
    """
    now = time.time() if now is None else now
    rows = [_row(run, now) for run in runs]
    names = sorted({name for row in rows for name in row["params"]})
    missing = object()
    values = {name: [row["params"].get(name, missing) for row in rows] for name in names}
    varying = [name for name in names if len({_text(v) if v is not missing else None for v in values[name]}) > 1]
    constant = {name: values[name][0] for name in names if name not in varying}
    scores = list(dict.fromkeys(name for row in rows for name in row["scores"]))
    keys = [("run", key) for key, shown in RUN_COLUMNS.items() if shown(runs)]
    keys += [("param", name) for name in varying] + [("score", name) for name in scores] + [("run", "wall_time")]
    columns = [{"key": key, "group": group, "type": _column_type(CELLS[group](row, key) for row in rows)}
               for group, key in keys]
    return {"ok": True, "sweep": sweep, "sweeps": list(sweeps), "runs": rows, "varying": varying,
            "constant": constant, "scores": scores, "columns": columns}


def _one(query: dict, name: str):
    """The query parameter ``name`` (its last value), or None when absent or empty."""
    return (query.get(name) or [""])[-1].strip() or None


def _run_ids(query: dict) -> list[int]:
    text = _one(query, "ids")
    example = "ask for ids=1,2,3 (run numbers, as /api/runs lists them)"
    if text is None:
        raise BadRequest(f"no runs named: {example}")
    try:
        ids = [int(part) for part in text.split(",")]
    except ValueError:
        raise BadRequest(f"ids must be run numbers separated by commas, got {text!r}: {example}") from None
    if len(ids) > MAX_CURVES:
        raise BadRequest(f"{len(ids)} runs asked for at once; ask for at most {MAX_CURVES} per request")
    return list(dict.fromkeys(ids))


def runs_routes(store) -> tuple[dict, dict]:
    """The runs page's GET routes (path -> function(query, body) -> JSON) for one ``RunStore``; no POST."""
    where = store.directory

    def read(what, *args):
        """``store.what(*args)``; a database that cannot be read now is a 503 saying why."""
        try:
            return getattr(store, what)(*args)
        except sqlite3.Error as error:
            raise BadRequest(f"the run store {store.path} cannot be read just now ({error}); the page tries again",
                             HTTPStatus.SERVICE_UNAVAILABLE) from None

    def get_runs(query: dict, body) -> dict:
        sweep = _one(query, "sweep")
        sweeps = read("sweeps")
        if sweep is not None and sweep not in sweeps:
            known = ", ".join(repr(name) for name in sweeps) or "none yet"
            raise BadRequest(f"no sweep {sweep!r} in {where} (its sweeps: {known}); leave sweep out to list every run")
        return runs_table(read("runs", sweep), sweeps, sweep)

    def get_curves(query: dict, body) -> dict:
        ids = _run_ids(query)
        unknown = sorted(set(ids) - {run.id for run in read("runs")})
        if unknown:
            raise BadRequest(f"no run {', '.join(map(str, unknown))} in {where}; /api/runs lists the runs there")
        curves = read("curves", ids)
        return {"ok": True, "curves": {str(run_id): {name: [_finite_or_none(v) for v in values]
                                                     for name, values in curve.items()}
                                       for run_id, curve in curves.items()}}

    return {"/api/runs": get_runs, "/api/curves": get_curves}, {}


class RunsServer(LocalServer):
    """Serves the runs page of one ``RunStore`` at ``url`` from a daemon thread, until ``close()``."""

    def __init__(self, store, port: int = 0):
        self.store = store
        super().__init__(RUNS_FILES, *runs_routes(store), port=port, title="runs page")


def serve_runs(runs_dir, port: int = 0) -> RunsServer:
    """Serve the runs page of the runs directory ``runs_dir`` on 127.0.0.1 now; returns the server.

    ``port=0`` picks a free port; ``server.url`` is the page's address and
    ``server.close()`` stops it (or use it in a ``with`` block). The page follows
    the directory live: runs recorded while it is open appear within a second or so.
    """
    from ..experiments import RunStore

    directory = Path(runs_dir).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"no runs directory {str(directory)!r}: give the directory that fit(..., track=DIR) or"
            " 'mlpkit sweep' records runs in"
        )
    return RunsServer(RunStore(directory), port)
