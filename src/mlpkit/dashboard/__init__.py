"""A live training dashboard in the browser, served from this machine (127.0.0.1 only).

>>> from mlpkit.dashboard import Dashboard
>>> model = MLPClassifier(max_iter=2000, callbacks=[Dashboard()])   # doctest: +SKIP
>>> model.fit(X, y)          # prints the page's address; watch, pause, stop, change the learning rate

or ``mlpkit.dashboard.serve(model)`` to start it now and keep it up across fits,
or ``mlpkit fit DATA ... --dashboard`` on the command line.

The runs page compares recorded runs (``fit(X, y, track=DIR)``, sweeps): a sortable
table, their loss curves overlaid, score against each swept parameter, live while a
sweep runs: ``mlpkit.dashboard.serve_runs(DIR)`` or ``mlpkit runs DIR``.

- ``state.py``: the record shared by the fit and the server (history, status, commands);
- ``server.py``: the HTTP server (standard library), its security rules, and the training page's JSON endpoints;
- ``callback.py``: ``Dashboard`` (the callback), ``serve`` and ``from_option``;
- ``runs.py``: the runs page's JSON endpoints over a ``RunStore``, and ``serve_runs``;
- ``static/``: the pages, their small scripts (charts drawn on a ``<canvas>`` by the
  shared ``plot.js``: round ticks, axis titles, markers, smoothing) and style sheet;
  nothing is loaded from the internet.
"""

from .callback import Dashboard, from_option, serve
from .runs import serve_runs
from .state import TrainingState

__all__ = ["Dashboard", "TrainingState", "from_option", "serve", "serve_runs"]
