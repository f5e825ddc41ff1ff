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
``/``, ``/runs``               the page (``static/runs.html``; ``?sweep=NAME`` or ``?estimator=KIND`` opens that view)
``/runs.js``, ``/plot.js``     its script and the chart drawing it shares with the training page
``/dashboard.css``             the style sheet of both pages
``/api/runs?sweep=NAME``       the table of one view: ``runs_table`` below; ``?estimator=KIND`` the runs of one
                               estimator kind; neither: the view of the most recent run (``default_view``)
``/api/curves?ids=1,2,3``      ``{"ok": true, "curves": {"1": {"epoch": [...], "loss": [...], ...}}}``
``/api/model?id=N``            run N's saved model file (``mlpkit.load`` reads it): the whole model as trained,
                               preparation and scalers with the network, so it predicts on the raw table
                               (a store written before keeps the network alone); rows with ``"model": true`` have one
=============================  ==============================================================================

A sweep or estimator kind the store does not hold, ids that are not run numbers, or
runs it does not hold, are answered with status 400 and ``{"ok": false, "error": "..."}``; a run
without a saved model, asked for its model, with status 404 and the same form.

Why views: scores of a classifier (accuracy) and of a regressor (R²) are not on one
scale, and a sweep's trials are scored alike (cross-validated) while a lone fit is
scored on its training rows; so the page shows one sweep, or one estimator kind,
at a time, never a ranking that mixes kinds.
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

#: The runs ticked when the page opens a view: the best few by the ranking score.
BEST_TICKED = 3

#: Scores that rank runs, in the order of preference: a sweep's (cross-validated) score, the held-out
#: score of early stopping, the score on the training rows. Any other score ranks after these.
RANKING_PREFERENCE = ("score", "best_validation_score", "train_score")

#: Scores for which lower is better (the rest: higher is better, as scikit-learn's scorers).
LOWER_IS_BETTER = {"loss"}

#: Scores that say nothing about how good a run is.
NOT_RANKING = {"epochs", "score_std"}

#: A view's kind (its query parameter) -> function(every run, the view's name) -> the runs it shows.
VIEWS = {
    "sweep": lambda runs, name: [run for run in runs if run.sweep == name],
    "estimator": lambda runs, kind: [run for run in runs if run.estimator == kind],
}

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
        "model": run.model_path is not None,
    }


def views(runs) -> list[dict]:
    """Every view of these runs, the most recent first: ``{"kind": "sweep" | "estimator", "name", "runs"}``
    (each sweep, each estimator kind; a kind's view holds its sweeps' trials too)."""
    found = {}
    for run in reversed(runs):
        for kind, name in (("sweep", run.sweep), ("estimator", run.estimator)):
            if name is not None:
                found.setdefault((kind, name), 0)
                found[(kind, name)] += 1
    return [{"kind": kind, "name": name, "runs": count} for (kind, name), count in found.items()]


def default_view(runs) -> dict | None:
    """The view of the most recent run: its sweep, or its estimator kind when it is outside sweeps."""
    if not runs:
        return None
    last = runs[-1]
    return {"kind": "sweep", "name": last.sweep} if last.sweep is not None else {"kind": "estimator", "name": last.estimator}


def ranking_score(scores) -> dict | None:
    """The score that ranks the runs of a view (``RANKING_PREFERENCE``), with its direction; None if none does."""
    rankable = [name for name in scores if name not in NOT_RANKING]
    preferred = [name for name in RANKING_PREFERENCE if name in rankable] + rankable
    if not preferred:
        return None
    return {"score": preferred[0], "higher_is_better": preferred[0] not in LOWER_IS_BETTER}


def best_runs(rows, ranking, count=BEST_TICKED) -> list[int]:
    """Ids of the ``count`` best finished runs by ``ranking`` (ties: the earlier run first)."""
    if ranking is None:
        return []
    name, sign = ranking["score"], -1 if ranking["higher_is_better"] else 1
    scored = [row for row in rows if row["status"] == "finished" and _is_number(row["scores"].get(name))]
    return [row["id"] for row in sorted(scored, key=lambda row: (sign * row["scores"][name], row["id"]))[:count]]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def runs_table(runs, all_views, view=None, now=None) -> dict:
    """The JSON of ``/api/runs``: the runs of one view, and how to show, sort and rank them.

    ``runs`` (oldest first): one row each (id, name, sweep, trial, status, estimator,
    params, scores, wall_time in seconds, error). ``varying``: the parameters whose
    values differ between these runs (a missing one counts as a value), in name
    order; ``plotted``: those of them with two or more values present (a parameter
    only some runs have gets no axis of one value); ``constant``: the others with their
    one value. ``scores``: every score name, in the order they first appear;
    ``ranking``: the score that ranks them (``ranking_score``) and ``best``: the ids
    of the best few by it (the page ticks them). ``columns``: the table's columns in
    order, each ``{"key", "group": "run" | "param" | "score", "type": "number" | "text"}``
    (``type`` says how to sort: numbers numerically, text alphabetically; the page puts
    missing values last): the run's own columns that tell these runs apart, the scores
    and the wall time (first, so they stay in sight in a narrow window), then the
    varying parameters. ``view`` is the view shown, ``views`` every view of the store.
    """
    now = time.time() if now is None else now
    rows = [_row(run, now) for run in runs]
    names = sorted({name for row in rows for name in row["params"]})
    missing = object()
    values = {name: [row["params"].get(name, missing) for row in rows] for name in names}
    varying = [name for name in names if len({_text(v) if v is not missing else None for v in values[name]}) > 1]
    plotted = [name for name in varying if len({_text(v) for v in values[name] if v is not missing}) > 1]
    constant = {name: values[name][0] for name in names if name not in varying}
    scores = list(dict.fromkeys(name for row in rows for name in row["scores"]))
    ranking = ranking_score(scores)
    keys = [("run", key) for key, shown in RUN_COLUMNS.items() if shown(runs)]
    keys += [("score", name) for name in scores] + [("run", "wall_time")] + [("param", name) for name in varying]
    columns = [{"key": key, "group": group, "type": _column_type(CELLS[group](row, key) for row in rows)}
               for group, key in keys]
    sweep = view["name"] if view and view["kind"] == "sweep" else None
    return {"ok": True, "view": view, "views": list(all_views), "sweep": sweep,
            "sweeps": [v["name"] for v in all_views if v["kind"] == "sweep"], "runs": rows, "varying": varying,
            "plotted": plotted, "constant": constant, "scores": scores, "ranking": ranking,
            "best": best_runs(rows, ranking), "columns": columns}


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
        every = read("runs")
        all_views = views(every)
        asked = [{"kind": kind, "name": name} for kind in VIEWS if (name := _one(query, kind)) is not None]
        if len(asked) > 1:
            raise BadRequest("ask for one view: sweep=NAME or estimator=KIND, not both")
        view = asked[0] if asked else default_view(every)
        if view is None:
            return runs_table([], all_views)
        if asked and not any(v["kind"] == view["kind"] and v["name"] == view["name"] for v in all_views):
            known = ", ".join(repr(v["name"]) for v in all_views if v["kind"] == view["kind"]) or "none yet"
            raise BadRequest(f"no {view['kind']} {view['name']!r} in {where} (its {view['kind']}s: {known});"
                             " leave it out to see the most recent runs")
        return runs_table(VIEWS[view["kind"]](every, view["name"]), all_views, view)

    def get_curves(query: dict, body) -> dict:
        ids = _run_ids(query)
        unknown = sorted(set(ids) - {run.id for run in read("runs")})
        if unknown:
            raise BadRequest(f"no run {', '.join(map(str, unknown))} in {where}; /api/runs lists the runs there")
        curves = read("curves", ids)
        return {"ok": True, "curves": {str(run_id): {name: [_finite_or_none(v) for v in values]
                                                     for name, values in curve.items()}
                                       for run_id, curve in curves.items()}}

    def get_model(query: dict, body) -> tuple:
        text = _one(query, "id")
        try:
            run = read("run", int(text))
        except (TypeError, ValueError):
            raise BadRequest(f"id must be one run number, got {text!r}: ask for id=3 (as /api/runs lists"
                             " them)") from None
        except KeyError:
            raise BadRequest(f"no run {text} in {where}; /api/runs lists the runs there") from None
        path = store.model_file(run)
        if path is None or not path.is_file():
            why = "it kept no model (failed, pruned, a sweep's trial, or save_model=False)" if path is None else \
                f"its model file {path} is gone"
            raise BadRequest(f"run {run.id} has no model to download: {why}", HTTPStatus.NOT_FOUND)
        return path.read_bytes(), "application/octet-stream"

    return {"/api/runs": get_runs, "/api/curves": get_curves, "/api/model": get_model}, {}


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
