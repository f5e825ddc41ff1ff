"""Shared by the dashboard tests: HTTP calls, a fit running in a thread, waiting for a condition."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import numpy as np
from sklearn.datasets import load_iris

import mlpkit

X, Y = load_iris(return_X_y=True)
X = (X - X.mean(axis=0)) / X.std(axis=0)


def get(url, path="api/state", headers=None):
    """(status, decoded JSON or text) of a GET."""
    request = urllib.request.Request(url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, _decode(response)
    except urllib.error.HTTPError as error:
        return error.code, _decode(error)


def post(url, path, body, content_type="application/json"):
    """(status, decoded JSON) of a POST."""
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, _decode(response)
    except urllib.error.HTTPError as error:
        return error.code, _decode(error)


def _decode(response):
    body = response.read()
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        return json.loads(body)
    if kind.startswith("application/octet-stream"):  # a file to download (a run's model): its bytes
        return body
    return body.decode()


def wait_for(condition, timeout=30.0, interval=0.02, what="the condition"):
    """Poll ``condition()`` until it is truthy; its value, or AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class BackgroundFit:
    """``model.fit(X, Y)`` in a thread; ``join()`` re-raises what the fit raised."""

    def __init__(self, model):
        self.model, self.error = model, None
        self.thread = threading.Thread(target=self._fit, daemon=True)
        self.thread.start()

    def _fit(self):
        try:
            self.model.fit(X, Y)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            self.error = error

    def join(self, timeout=60.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the fit did not end"
        if self.error is not None:
            raise self.error
        return self.model


def slow_model(dashboard, **params):
    """A small network with room for many epochs, early stopping that never stops by itself."""
    settings = {"hidden_layer_sizes": (8,), "max_iter": 20000, "early_stopping": True, "n_iter_no_change": np.inf,
                "random_state": 0, "callbacks": [dashboard]}
    settings.update(params)
    return mlpkit.MLPClassifier(**settings)


# ------------------------------------------------------------------------------ run stores (the runs page)
#: The runs of ``make_runs``' sweep "lr": parameters that vary (one over three decades, one text, one tuple),
#: then the accuracy it ends with, None for the pruned one.
SWEEP_RUNS = (
    ({"learning_rate_init": 0.001, "activation": "relu", "hidden_layer_sizes": (8,)}, 0.80),
    ({"learning_rate_init": 0.01, "activation": "tanh", "hidden_layer_sizes": (8,)}, 0.95),
    ({"learning_rate_init": 0.1, "activation": "relu", "hidden_layer_sizes": (16, 8)}, 0.90),
    ({"learning_rate_init": 1.0, "activation": "tanh", "hidden_layer_sizes": (16, 8)}, None),
)

#: Every run of the test stores is a small classifier like this one, with other values of the parameters set.
RUN_MODEL = {"max_iter": 6, "random_state": 0}


def run_params(**params) -> dict:
    """Every parameter of ``MLPClassifier(**RUN_MODEL, **params)``, as ``fit(..., track=...)`` records them."""
    from mlpkit.experiments.recorder import run_params as recorded

    return recorded(mlpkit.MLPClassifier(**{**RUN_MODEL, **params}))


def record_run(store, params, score=None, *, epochs=6, sweep=None, trial=None, name=None, status="finished"):
    """A run of ``run_params(**params)`` with ``epochs`` epochs of falling losses (validation loss from
    epoch 2 on); its id. ``status``: ``finished`` (with ``{"accuracy": score}``), ``running`` (left so),
    or ``failed`` / ``pruned``.
    """
    run_id = store.start_run("MLPClassifier", run_params(**params), name=name, sweep=sweep, trial=trial)
    store.log_epochs(run_id, [(epoch, 2.0 / (epoch + run_id), np.nan if epoch == 1 else 2.5 / (epoch + run_id),
                               np.nan, 0.001) for epoch in range(1, epochs + 1)])
    ending = {
        "finished": lambda: store.finish_run(run_id, {"accuracy": score}),
        "running": lambda: None,
        "failed": lambda: store.fail_run(run_id, "ValueError: diverged"),
        "pruned": lambda: store.fail_run(run_id, "pruned at epoch 6", status="pruned"),
    }
    ending[status]()
    return run_id


def write_mixed_csv(path):
    """A CSV as the world makes it: a text category, a column with gaps, a yes/no target."""
    rng = np.random.default_rng(0)
    lines = ["size,colour,weight,label"]
    for i in range(48):
        size, colour = rng.normal(10, 3), ["red", "green", "blue"][i % 3]
        weight = "" if i % 7 == 0 else f"{rng.normal(50, 10):.3f}"
        lines.append(f"{size:.3f},{colour},{weight},{'yes' if (size > 10) ^ (colour == 'red') else 'no'}")
    path.write_text("\n".join(lines) + "\n")
    return path


def make_runs(directory):
    """A ``RunStore`` in ``directory``: the four runs of ``SWEEP_RUNS`` (sweep "lr", the last pruned),
    then one named run outside any sweep, finished with no score."""
    from mlpkit.experiments import RunStore

    store = RunStore(directory)
    for trial, (params, score) in enumerate(SWEEP_RUNS):
        record_run(store, params, score, sweep="lr", trial=trial, status="finished" if score is not None else "pruned")
    record_run(store, {"learning_rate_init": 0.01, "activation": "relu", "hidden_layer_sizes": (8,)}, name="by hand",
               epochs=3)
    return store


# ------------------------------------------------------------------------------ the runs page in a browser
class RunsPage:
    """The runs page open in a selenium ``browser``: what it shows, and clicks on it.

    Elements are read and clicked through small scripts run in the page, each in one go:
    the page rebuilds its table when the runs change, so a held element can go stale.
    """

    def __init__(self, browser):
        self.browser = browser

    def js(self, script, *args):
        return self.browser.execute_script(script, *args)

    def row_ids(self):
        return self.js("return [...document.querySelectorAll('#runs tbody tr')].map((tr) => Number(tr.dataset.id))")

    def cell_texts(self, run_id):
        return self.js("return [...document.querySelector(`#runs tr[data-id='${arguments[0]}']`).cells]"
                       ".map((td) => td.textContent)", run_id)

    def sort_by(self, key):
        self.js("document.querySelector(`#runs th[data-key='${arguments[0]}']`).click()", key)

    def tick(self, run_id):
        self.js("document.querySelector(`#runs tr[data-id='${arguments[0]}'] input`).click()", run_id)

    def ticked(self):
        return sorted(self.js("return [...document.querySelectorAll('#runs tbody tr')]"
                              ".filter((tr) => tr.querySelector('input').checked).map((tr) => Number(tr.dataset.id))"))

    def chart(self, attribute, selector="#curves-chart"):
        value = self.js("return document.querySelector(arguments[0]).dataset[arguments[1]]", selector, attribute)
        return None if value is None else int(value)

    def dataset(self, selector="#curves-chart"):
        """Everything a chart records of what it drew (``plot.js``: points, series, ticks, titles, markers)."""
        return self.js("return {...document.querySelector(arguments[0]).dataset}", selector)

    def view(self, value):
        """Choose a view (``sweep:NAME``, ``estimator:KIND``) in the page's select."""
        self.js("const s = document.getElementById('view'); s.value = arguments[0];"
                " s.dispatchEvent(new Event('change'))", value)

    def score_columns(self):
        return self.js("return [...document.querySelectorAll('#runs th.col-score')].map((th) => th.dataset.key)")

    def score_cells_outside_the_viewport(self):
        """Header and body cells of the score columns whose box is not wholly inside the window."""
        return self.js("""
            const keys = [...document.querySelectorAll('#runs th.col-score')].map((th) => th.cellIndex);
            const cells = [...document.querySelectorAll('#runs tr')].flatMap((tr) => keys.map((k) => tr.cells[k]));
            return cells.filter((cell) => { const r = cell.getBoundingClientRect();
              return r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight; })
              .map((cell) => cell.textContent);""")
