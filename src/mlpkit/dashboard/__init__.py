"""A live training dashboard in the browser, served from this machine (127.0.0.1 only).

>>> from mlpkit.dashboard import Dashboard
>>> model = MLPClassifier(max_iter=2000, callbacks=[Dashboard()])   # doctest: +SKIP
>>> model.fit(X, y)          # prints the page's address; watch, pause, stop, change the learning rate

or ``mlpkit.dashboard.serve(model)`` to start it now and keep it up across fits,
or ``mlpkit fit DATA ... --dashboard`` on the command line.

- ``state.py``: the record shared by the fit and the server (history, status, commands);
- ``server.py``: the HTTP server (standard library) and its JSON endpoints;
- ``callback.py``: ``Dashboard`` (the callback), ``serve`` and ``from_option``;
- ``static/``: the page, its own small script (charts drawn on a ``<canvas>``) and
  style sheet; nothing is loaded from the internet.
"""

from .callback import Dashboard, from_option, serve
from .state import TrainingState

__all__ = ["Dashboard", "TrainingState", "from_option", "serve"]
