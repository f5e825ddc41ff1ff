"""The run store: fits and sweep trials recorded in one SQLite file, readable while they run.

A *runs directory* holds everything::

    <dir>/runs.sqlite      the database (also Optuna's storage for sweeps)
    <dir>/models/          the saved models, one file per finished run

Why SQLite from the standard library: one file the user can copy or delete,
nothing to install or serve, safe for several processes at once (a sweep's
parallel workers and the dashboard reading while they write). The database is in
WAL mode, so readers never wait for a writer; every write is one transaction
(``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error), so a run is
either recorded with all the rows of a call or not at all.

Schema (``SCHEMA`` below; Optuna's own tables may sit beside these)::

    runs(id INTEGER PRIMARY KEY AUTOINCREMENT,
         name TEXT,                     -- the user's label, or NULL
         sweep TEXT,                    -- the sweep (Optuna study) name; NULL outside sweeps
         trial INTEGER,                 -- the trial number within the sweep
         status TEXT NOT NULL,          -- 'running' | 'finished' | 'failed' | 'pruned'
         estimator TEXT NOT NULL,       -- class name, e.g. 'MLPClassifier'
         params TEXT NOT NULL,          -- JSON of get_params() (a Pipeline's as step__param), canonical (canonical_params)
         scores TEXT,                   -- JSON object name -> number (null: NaN or infinite)
         data_fingerprint TEXT,         -- hash of the training data (see mlpkit.experiments.recorder)
         started REAL NOT NULL,         -- Unix time
         finished REAL,                 -- Unix time, when it ended (any way)
         wall_time REAL,                -- seconds from start to end
         model_path TEXT,               -- the saved model, relative to the runs directory
         error TEXT)                    -- why it failed or was pruned
    epochs(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
           epoch INTEGER NOT NULL,      -- 1-based
           loss REAL, validation_loss REAL, validation_score REAL, learning_rate REAL,  -- NaN stored as NULL
           PRIMARY KEY(run_id, epoch))
    run_processes(run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
                  host TEXT NOT NULL, pid INTEGER NOT NULL,
                  process_start TEXT)   -- who is recording a 'running' run (see below)

Crashes: a fit that raises is marked failed by its recorder (``fail_run``) on
the way out. A process that dies without running any more Python (killed,
out of memory, power cut) cannot do that; so each running run also records its
host and process id, and every ``RunStore`` that opens or reads the database
marks the running runs of this host whose process is gone as failed, with an
error saying so. (A run recorded on another machine sharing the directory stays
'running' until a store on that machine looks.) A run is therefore never seen
half-written: it is running, or it ended with its scores, or it failed.

Versions: ``PRAGMA user_version`` says which form the rows are in (``VERSION``).
A store opened by this code is brought up to date in one transaction
(``MIGRATIONS``): version 1 rewrote every run's parameters in their canonical
form, so runs recorded before (a sweep's ``32`` beside ``fit``'s ``[32]``) group
with the runs recorded since.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

__all__ = ["CURVE_COLUMNS", "DATABASE_NAME", "MODELS_DIRECTORY", "STATUSES", "Run", "RunStore", "canonical_params",
           "json_safe"]

DATABASE_NAME = "runs.sqlite"

#: The runs directory of ``track=True`` and of sweeps not told another.
DEFAULT_RUNS = "mlpkit-runs"
MODELS_DIRECTORY = "models"

#: A run's status: running, or how it ended.
STATUSES = ("running", "finished", "failed", "pruned")

#: How a run may end badly (``fail_run``'s ``status``).
FAILED_STATUSES = ("failed", "pruned")

#: Per-epoch values, in the order of ``log_epochs`` rows after the epoch number.
CURVE_COLUMNS = ("loss", "validation_loss", "validation_score", "learning_rate")

#: Seconds a write waits for another process's write to finish before giving up.
BUSY_TIMEOUT = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs(
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, sweep TEXT, trial INTEGER,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'pruned')),
    estimator TEXT NOT NULL, params TEXT NOT NULL, scores TEXT, data_fingerprint TEXT,
    started REAL NOT NULL, finished REAL, wall_time REAL, model_path TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep, trial);
CREATE TABLE IF NOT EXISTS epochs(
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    loss REAL, validation_loss REAL, validation_score REAL, learning_rate REAL,
    PRIMARY KEY(run_id, epoch));
CREATE TABLE IF NOT EXISTS run_processes(
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL, pid INTEGER NOT NULL, process_start TEXT);
"""

_RUN_COLUMNS = ("id", "name", "sweep", "trial", "status", "estimator", "params", "scores", "data_fingerprint",
                "started", "finished", "wall_time", "model_path", "error")


@dataclass(frozen=True)
class Run:
    """One row of ``runs``: ``params`` and ``scores`` decoded from their JSON."""

    id: int
    name: str | None
    sweep: str | None
    trial: int | None
    status: str
    estimator: str
    params: dict
    scores: dict | None
    data_fingerprint: str | None
    started: float
    finished: float | None
    wall_time: float | None
    model_path: str | None
    error: str | None


def json_safe(value):
    """``value`` as plain JSON: tuples become lists, numpy numbers Python numbers, NaN and infinities the
    strings ``"nan"``, ``"inf"``, ``"-inf"`` (strict JSON has no such numbers), anything else its ``repr``.

    Why: parameters may hold tuples, numpy scalars, ``np.inf`` (``n_iter_no_change``) or objects
    (an optax solver, callbacks); the store keeps what can be compared and shown, never a pickle.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):  # numpy scalars and arrays
        value = value.tolist()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return repr(value)


def _one_layer_as_list(value):
    """``hidden_layer_sizes=32`` is scikit-learn's shorthand for ``(32,)``."""
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


def _name_table(aliases):
    return lambda value: aliases.get(value, value) if isinstance(value, str) else value


def _parameter_forms() -> dict:
    """Parameter name -> function(JSON value) -> the one form of equal settings (the estimators' alias tables)."""
    from .. import activations, initializers, losses

    return {
        "hidden_layer_sizes": _one_layer_as_list,
        "activation": _name_table(activations.ALIASES),
        "out_activation": _name_table(activations.ALIASES),
        "loss": _name_table(losses.ALIASES),
        "init": _name_table(initializers.ALIASES),
    }


#: Whole-number floats up to this size are stored as integers (a float holds every such integer exactly).
EXACT_INTEGERS = 2**53


def _canonical_number(value):
    """``1.0`` and ``1`` are the same setting (``--set alpha=1`` beside a sweep's ``1.0``): whole numbers as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= EXACT_INTEGERS:
        return int(value)
    if isinstance(value, list):
        return [_canonical_number(item) for item in value]
    return value


def canonical_params(params: dict) -> dict:
    """``params`` as the store keeps them: JSON-safe (``json_safe``), each value in one form for equal settings.

    Equal settings must read alike, or the runs page shows one setting as two:
    a one-layer ``hidden_layer_sizes`` is a list (``32`` -> ``[32]``), an alias is
    its table name (``sigmoid`` -> ``logistic``, ``cross_entropy`` -> ``log_loss``,
    ``xavier_uniform`` -> ``glorot_uniform``), a whole-number float is an integer
    (``1.0`` -> ``1``). A Pipeline's ``step__name`` follows the rule of ``name``.
    """
    forms = _parameter_forms()
    canonical = {}
    for name, value in json_safe(dict(params)).items():
        form = forms.get(name.rsplit("__", 1)[-1], lambda v: v)
        canonical[name] = _canonical_number(form(value))
    return canonical


def _migrate_canonical_params(db) -> None:
    """Version 1: every run's parameters in their canonical form."""
    rows = db.execute("SELECT id, params FROM runs").fetchall()
    db.executemany("UPDATE runs SET params = ? WHERE id = ?",
                   [(_params_json(json.loads(params)), run_id) for run_id, params in rows])


#: ``PRAGMA user_version`` reached -> the step that brings a store of the version before up to it.
MIGRATIONS = {1: _migrate_canonical_params}

#: The version of the rows this code writes.
VERSION = max(MIGRATIONS)


def _params_json(params: dict) -> str:
    return json.dumps(canonical_params(params), allow_nan=False, sort_keys=True)


def _number_or_none(value, what: str):
    """A float for a REAL column; NaN (and None) as None (SQL NULL)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    return None if math.isnan(number) else number


def _score(value, what: str):
    """A score for the JSON of ``scores``: whole numbers stay whole; NaN and infinities (a diverged loss)
    become null, which strict JSON can hold."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    number = _number_or_none(value, what)
    return number if number is not None and math.isfinite(number) else None


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux: field 22 of /proc/PID/stat), to tell it from a later process
    that reuses its id; None where the system does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # fields after the command name; starttime is the 22nd


def _process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        pass
    return started is None or _process_start(pid) in (None, started)


class RunStore:
    """The runs of one runs directory (created if missing): record fits, read them back.

    Writes (``start_run``, ``log_epochs``, ``finish_run``, ``fail_run``) each run in
    one transaction. Reads (``runs``, ``run``, ``curves``, ``sweeps``) see only
    committed data. Every call opens its own short connection, so one store may
    be used from several threads, and many processes may share the directory.
    """

    def __init__(self, path):
        directory = Path(path).expanduser()
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(
                f"runs directory {str(directory)!r} is a file; give a directory (it is created if missing),"
                f" which will hold {DATABASE_NAME} and {MODELS_DIRECTORY}/"
            )
        (directory / MODELS_DIRECTORY).mkdir(parents=True, exist_ok=True)
        self.directory = directory.resolve()
        self.path = self.directory / DATABASE_NAME
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # stored in the file: every later connection uses it
            connection.executescript(SCHEMA)
        self._migrate()
        self.mark_crashed_runs()

    def __repr__(self):
        return f"RunStore({str(self.directory)!r})"

    def _migrate(self) -> None:
        """Bring rows written by older code to ``VERSION``, all steps in one transaction; refuse a newer store."""
        with self._connection() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] == VERSION:
                return  # up to date: no write lock taken
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > VERSION:
                raise ValueError(
                    f"the run store {self.path} was written by a newer mlpkit (store version {version}, this mlpkit"
                    f" knows up to {VERSION}); upgrade mlpkit to read it"
                )
            for step in range(version + 1, VERSION + 1):
                MIGRATIONS[step](db)
            if version != VERSION:
                db.execute(f"PRAGMA user_version = {VERSION}")

    @property
    def models(self) -> Path:
        """The directory of the saved models."""
        return self.directory / MODELS_DIRECTORY

    def model_file(self, run: Run | int) -> Path | None:
        """The absolute path of a run's saved model, or None if it has none."""
        run = run if isinstance(run, Run) else self.run(run)
        return None if run.model_path is None else self.directory / run.model_path

    # ---------------------------------------------------------------- connections
    @contextlib.contextmanager
    def _connection(self):
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys=ON")
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _transaction(self):
        """A connection inside ``BEGIN IMMEDIATE``: committed at the end, rolled back on any error."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")  # take the write lock now (waits up to BUSY_TIMEOUT)
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # --------------------------------------------------------------------- writing
    def start_run(self, estimator_name, params, *, name=None, sweep=None, trial=None, data_fingerprint=None) -> int:
        """Record a new run as 'running' (owned by this process); returns its id."""
        if not isinstance(estimator_name, str) or not estimator_name:
            raise TypeError(f"estimator_name must be the estimator's class name, such as 'MLPClassifier'; got {estimator_name!r}")
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of parameter name -> value (get_params()); got {type(params).__name__}")
        params_json = _params_json(params)
        pid = os.getpid()
        with self._transaction() as db:
            run_id = db.execute(
                "INSERT INTO runs(name, sweep, trial, status, estimator, params, data_fingerprint, started)"
                " VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                (name, sweep, None if trial is None else int(trial), estimator_name, params_json, data_fingerprint,
                 time.time()),
            ).lastrowid
            db.execute(
                "INSERT INTO run_processes(run_id, host, pid, process_start) VALUES (?, ?, ?, ?)",
                (run_id, socket.gethostname(), pid, _process_start(pid)),
            )
        return run_id

    def log_epochs(self, run_id: int, rows) -> None:
        """Add per-epoch rows ``(epoch, loss, validation_loss, validation_score, learning_rate)`` to a run.

        NaN is stored as NULL; an epoch logged again replaces the earlier row. All
        the rows go in together or, if one is malformed, none of them.
        """
        self._require_running(run_id, "log epochs")
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO epochs(run_id, epoch, loss, validation_loss, validation_score, learning_rate)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (self._epoch_row(run_id, index, row) for index, row in enumerate(rows)),  # checked as inserted
            )

    @staticmethod
    def _epoch_row(run_id, index, row):
        try:
            epoch, *values = row
        except (TypeError, ValueError):
            epoch, values = None, ()
        if len(values) != len(CURVE_COLUMNS) or isinstance(epoch, bool) or not isinstance(epoch, Integral):
            raise ValueError(
                f"log_epochs(run {run_id}): row {index} is {row!r}; each row is (epoch, loss, validation_loss,"
                " validation_score, learning_rate) with a whole-number epoch and numbers (or NaN) for the rest"
            )
        return (run_id, int(epoch), *(_number_or_none(v, f"log_epochs(run {run_id}): row {index}, {column}")
                                      for v, column in zip(values, CURVE_COLUMNS)))

    def finish_run(self, run_id: int, scores, model_path=None, *, wall_time=None) -> None:
        """Mark a running run finished, with its scores (name -> number) and, optionally, its saved model
        (a path inside the runs directory, stored relative to it) and the wall time its recorder measured
        (default: seconds since ``start_run``)."""
        scores_json = json.dumps({str(k): _score(v, f"finish_run(run {run_id}): score {k!r}")
                                  for k, v in dict(scores or {}).items()}, allow_nan=False)
        self._end_run(run_id, "finished", _number_or_none(wall_time, f"finish_run(run {run_id}): wall_time"),
                      scores=scores_json, model_path=self._relative(model_path))

    def fail_run(self, run_id: int, error, status: str = "failed") -> None:
        """Mark a running run failed (or ``status='pruned'``), with the reason (an exception or text)."""
        if status not in FAILED_STATUSES:
            raise ValueError(f"fail_run(run {run_id}): status must be one of {FAILED_STATUSES}, got {status!r}")
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}".rstrip(": ")
        self._end_run(run_id, status, error=text)

    def _end_run(self, run_id, status, wall_time=None, **columns):
        now = time.time()
        assignments = "".join(f", {column} = ?" for column in columns)
        with self._transaction() as db:
            updated = db.execute(
                f"UPDATE runs SET status = ?, finished = ?, wall_time = COALESCE(?, ? - started){assignments}"
                " WHERE id = ? AND status = 'running'",
                (status, now, wall_time, now, *columns.values(), run_id),
            ).rowcount
            if not updated:
                raise self._not_running(db, run_id, f"mark it {status}")
            db.execute("DELETE FROM run_processes WHERE run_id = ?", (run_id,))

    def _relative(self, model_path):
        if model_path is None:
            return None
        path = Path(model_path)
        absolute = path if path.is_absolute() else self.directory / path
        try:
            return absolute.resolve().relative_to(self.directory).as_posix()
        except ValueError:
            raise ValueError(
                f"model_path {str(model_path)!r} is outside the runs directory {str(self.directory)!r};"
                f" save the model under {self.models} (see RunStore.models)"
            ) from None

    def _require_running(self, run_id, action):
        with self._connection() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row[0] != "running":
                raise self._not_running(db, run_id, action)

    @staticmethod
    def _not_running(db, run_id, action) -> ValueError:
        row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return ValueError(f"cannot {action}: there is no run {run_id!r} in this store (start_run gives the id)")
        return ValueError(f"cannot {action}: run {run_id} is already {row[0]}; only a running run can change")

    def mark_crashed_runs(self) -> list[int]:
        """Mark the running runs of this host whose recording process is gone as failed; returns their ids."""
        host = socket.gethostname()
        with self._connection() as db:
            owners = db.execute(
                "SELECT p.run_id, p.pid, p.process_start FROM run_processes p JOIN runs r ON r.id = p.run_id"
                " WHERE r.status = 'running' AND p.host = ?", (host,),
            ).fetchall()
        dead = [(run_id, pid) for run_id, pid, started in owners if not _process_alive(pid, started)]
        if not dead:
            return []
        now = time.time()
        with self._transaction() as db:
            for run_id, pid in dead:
                db.execute(
                    "UPDATE runs SET status = 'failed', finished = ?, wall_time = ? - started, error = ?"
                    " WHERE id = ? AND status = 'running'",
                    (now, now, (f"the process recording this run (pid {pid} on {host}) ended without finishing"
                                " it: it crashed or was killed"), run_id),
                )
                db.execute("DELETE FROM run_processes WHERE run_id = ?", (run_id,))
        return [run_id for run_id, _ in dead]

    # --------------------------------------------------------------------- reading
    def runs(self, sweep=None) -> list[Run]:
        """Every run (or those of one sweep), oldest first."""
        self.mark_crashed_runs()
        where, args = ("WHERE sweep = ?", (sweep,)) if sweep is not None else ("", ())
        with self._connection() as db:
            rows = db.execute(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs {where} ORDER BY id", args).fetchall()
        return [self._run_from_row(row) for row in rows]

    def run(self, run_id: int) -> Run:
        """One run by id; KeyError if there is none."""
        self.mark_crashed_runs()
        with self._connection() as db:
            row = db.execute(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"there is no run {run_id!r} in {self.path}")
        return self._run_from_row(row)

    @staticmethod
    def _run_from_row(row) -> Run:
        values = dict(zip(_RUN_COLUMNS, row))
        values["params"] = json.loads(values["params"])
        values["scores"] = None if values["scores"] is None else json.loads(values["scores"])
        return Run(**values)

    def curves(self, run_ids) -> dict:
        """``{run_id: {"epoch": [...], "loss": [...], ...}}`` for each of ``run_ids`` (NULL read as NaN)."""
        run_ids = [int(run_id) for run_id in run_ids]
        result = {run_id: {name: [] for name in ("epoch", *CURVE_COLUMNS)} for run_id in run_ids}
        if not run_ids:
            return result
        marks = ", ".join("?" * len(run_ids))
        with self._connection() as db:
            rows = db.execute(
                f"SELECT run_id, epoch, {', '.join(CURVE_COLUMNS)} FROM epochs WHERE run_id IN ({marks})"
                " ORDER BY run_id, epoch", run_ids,
            ).fetchall()
        for run_id, epoch, *values in rows:
            curve = result[run_id]
            curve["epoch"].append(epoch)
            for column, value in zip(CURVE_COLUMNS, values):
                curve[column].append(math.nan if value is None else value)
        return result

    def sweeps(self) -> list[str]:
        """Names of the sweeps with runs here, in the order they started."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT sweep FROM runs WHERE sweep IS NOT NULL GROUP BY sweep ORDER BY MIN(id)"
            ).fetchall()
        return [row[0] for row in rows]
