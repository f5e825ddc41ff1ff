"""``Dashboard``: the callback that feeds the web page and carries its commands back to the fit.

It follows the callback protocol of ``mlpkit.callbacks``: ``on_fit_start`` starts
the server (if it is not running yet) and says which hyper-parameters may
change; each call records an epoch and answers with the page's commands (True to
stop, a dict of new values, or None); while the page has paused training the
call waits; ``on_fit_end`` marks the run finished and, unless ``keep_open``,
shuts the server down.
"""

from __future__ import annotations

import math
import sys
import webbrowser

from .server import DashboardServer
from .state import TrainingState

#: Hyper-parameters the page offers to change, when the solver keeps them in its state.
EDITABLE = ("learning_rate_init", "momentum")

#: Parameters shown on the page (those the model has).
SHOWN_PARAMS = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "learning_rate",
    "learning_rate_init",
    "momentum",
    "batch_size",
    "alpha",
    "max_iter",
    "early_stopping",
    "n_iter_no_change",
    "loss",
    "random_state",
)

#: After a fit, wait up to this long for a watching page to see the final state before shutting down.
LINGER_SECONDS = 1.5


def editable_params(model) -> dict:
    """Name -> current value of the ``EDITABLE`` hyper-parameters this model's solver keeps in its state."""
    from ..solvers import optimizer_params, solver_spec

    try:
        kept = optimizer_params(solver_spec(model.solver, vars(model)), vars(model))
    except Exception:  # noqa: BLE001 - a custom optax solver, a FluCoMa-style model: nothing to change
        return {}
    return {name: float(kept[name]) for name in EDITABLE if name in kept}


def validator(model, name: str):
    """A function raising ValueError, with the estimator's own message, for a bad value of ``name``."""
    from sklearn.utils._param_validation import validate_parameter_constraints

    constraints = getattr(model, "_parameter_constraints", {}).get(name)

    def check(value):
        if constraints is not None:
            validate_parameter_constraints({name: constraints}, {name: value}, caller_name=type(model).__name__)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")

    return check


#: Type -> the text of a parameter value on the page: the value as a person reads it, not Python's repr.
VALUE_TEXT = {
    str: lambda value: value,  # relu, not 'relu'
    float: lambda value: f"{value:g}",
    tuple: lambda value: ", ".join(map(value_text, value)),  # layer sizes 64, 32
    list: lambda value: ", ".join(map(value_text, value)),
}


def value_text(value) -> str:
    return VALUE_TEXT.get(type(value), str)(value)


def shown_params(model) -> dict:
    """Parameter name -> text for the page's table (``value_text``)."""
    params = model.get_params(deep=False)
    return {name: value_text(params[name]) for name in SHOWN_PARAMS if name in params}


class Dashboard:
    """A live training dashboard in the browser; pass it in ``callbacks=[...]``.

    >>> dash = Dashboard()                                        # doctest: +SKIP
    >>> MLPClassifier(callbacks=[dash], max_iter=2000).fit(X, y)  # doctest: +SKIP
    mlpkit dashboard: http://127.0.0.1:41237/

    The page shows the training and validation loss and the learning rate as
    training goes, the current epoch and the main parameters; its buttons pause,
    resume and stop the fit (stopping keeps the best weights, as early stopping
    does), and its inputs change the learning rate and momentum (where the solver
    has them) for the rest of the fit.

    Parameters
    ----------
    port : int, default=0
        Port on 127.0.0.1; 0 picks a free one. The address is printed, and is ``url``.
    open_browser : bool, default=False
        Open the page in the default browser when the server starts.
    keep_open : bool, default=False
        False: the server shuts down when the fit ends (after giving a watching page
        a moment to see the final state); the next fit starts it again, on a new port
        if ``port=0``. True: it keeps serving, across fits, until ``close()``
        (use this for loops of ``partial_fit`` or ``warm_start`` fits).
    quiet : bool, default=False
        Do not print the address.

    While paused, the fit waits inside the callback (between compiled chunks of
    epochs); Ctrl-C still interrupts it, and closing the dashboard releases it.
    """

    def __init__(self, port: int = 0, open_browser: bool = False, keep_open: bool = False, quiet: bool = False):
        self.port = port
        self.open_browser = open_browser
        self.keep_open = keep_open
        self.quiet = quiet
        self.state = TrainingState()
        self._server = None

    # ------------------------------------------------------------------ server
    @property
    def url(self) -> str | None:
        """The page's address while the server runs, else None."""
        return self._server.url if self._server else None

    def start(self) -> str:
        """Start serving (if not already); returns the address."""
        if self._server is None:
            self._server = DashboardServer(self.state, self.port)  # OSError naming the port if it is taken
            if not self.quiet:
                print(f"mlpkit dashboard: {self._server.url}", file=sys.stderr, flush=True)
            if self.open_browser:
                webbrowser.open(self._server.url)
        return self._server.url

    def close(self) -> None:
        """Stop serving; a fit waiting on pause goes on."""
        self.state.close()
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def show_history(self, model) -> None:
        """Put a fitted model's history on the page (``loss_curve_`` and the curves beside it)."""
        loss = list(getattr(model, "loss_curve_", None) or [])
        columns = [getattr(model, name, None) or [] for name in
                   ("validation_loss_curve_", "validation_scores_", "learning_rate_curve_")]
        for i, value in enumerate(loss):
            extra = [column[i] if i < len(column) else math.nan for column in columns]
            self.state.add_history(value, *extra)

    # ---------------------------------------------------------------- protocol
    def on_fit_start(self, model, max_iter):
        self.start()
        editable = editable_params(model)
        self.state.start_fit(
            type(model).__name__,
            shown_params(model),
            editable,
            {name: validator(model, name) for name in editable},
            max_iter,
        )

    def __call__(self, model, info):
        self.state.record(info)
        return self.state.next_command()

    def on_fit_end(self, model):
        self.state.end_fit(f"fit {self.state.fit_number} ended after {self.state.epoch} epochs")
        if not self.keep_open and self._server is not None:
            if self.state.last_poll:  # a page is watching: let it see the end
                self.state.wait_until_seen(LINGER_SECONDS)
            self._server.close()
            self._server = None


def serve(model, port: int = 0, open_browser: bool = False, quiet: bool = False) -> Dashboard:
    """Start a dashboard for ``model`` now and attach it to the model's ``callbacks``; returns it.

    The page shows the model's history so far (if fitted) and every later fit,
    and keeps serving until ``dashboard.close()`` (``keep_open=True``):

    >>> dash = mlpkit.dashboard.serve(model)     # doctest: +SKIP
    >>> model.fit(X, y)                          # watch, pause, stop, change the learning rate
    >>> dash.close()
    """
    dashboard = Dashboard(port=port, open_browser=open_browser, keep_open=True, quiet=quiet)
    dashboard.show_history(model)
    dashboard.start()
    callbacks = [c for c in (model.get_params(deep=False).get("callbacks") or []) if not isinstance(c, Dashboard)]
    model.set_params(callbacks=callbacks + [dashboard])
    return dashboard


def from_option(value, X=None, y=None, sample_weight=None) -> Dashboard | None:
    """The callback for a ``dashboard=`` option: True, a dict of ``Dashboard`` arguments, a Dashboard, or None/False.
    (The data, which ``callbacks.FIT_OPTIONS`` makers are given, it does not need.)

    For the estimators' ``fit(..., dashboard=True)``: append the result (when not None) to the fit's callbacks.
    """
    if value is None or value is False:
        return None
    if value is True:
        return Dashboard()
    if isinstance(value, Dashboard):
        return value
    if isinstance(value, dict):
        return Dashboard(**value)
    raise TypeError(f"dashboard must be True, False, a dict of Dashboard arguments or a Dashboard; got {value!r}")

