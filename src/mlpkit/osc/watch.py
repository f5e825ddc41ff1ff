"""``FitWatcher``: what a served fit tells the world as it runs, and how the server can stop it.

A FluCoMa-style estimator trains its network (``network_``, an ``mlpkit.MLPRegressor``)
with the callbacks of that network (``mlpkit.callbacks``), which hear of each epoch
after each compiled chunk of epochs. The watcher is put there for the length of
one fit: it reports every ``every()``-th epoch (``/mlp/epoch NAME EPOCH LOSS``),
feeds a dashboard if the server has one, and stops the fit (keeping its best
weights) when the server shuts down.

A fit that starts a new network (the first, or one after the data's width
changed) has no network to put the watcher on; neither has a training path that
does not call callbacks. ``catch_up`` then reports, when the fit ends, the epochs
the network's ``loss_curve_`` gained that the watcher did not hear of, so every
epoch is reported once, late rather than never.
"""

from __future__ import annotations

import math

#: Dashboard hyper-parameter (the network's name) -> the FluCoMa estimator's name for it.
DASHBOARD_TO_FLUCOMA = {"learning_rate_init": "learn_rate", "momentum": "momentum"}


class FitWatcher:
    """Callback of one served fit: ``report(epoch, loss)`` every ``every()`` epochs, a dashboard, a stop flag.

    ``stop()`` says whether to stop; once it says so, the fit stops after its current chunk.
    ``changes`` collects the dashboard's new values, in the FluCoMa estimator's names, for
    the server to keep on the estimator after the fit (the next fit would otherwise put
    the old ones back).
    """

    def __init__(self, report, every, stop, dashboard=None):
        self.report, self.every, self.stop, self.dashboard = report, every, stop, dashboard
        self.heard = 0  # epochs of this fit heard through the callback
        self.changes: dict = {}
        self._network = self._curve = None
        self._curve_length = 0

    # ------------------------------------------------------------- around the fit
    def attach(self, estimator) -> None:
        """Before the fit: listen to the estimator's network, if it has one yet."""
        network = getattr(estimator, "network_", None)
        if network is not None and "callbacks" in network.get_params(deep=False):
            self._network = network
            self._curve = getattr(network, "loss_curve_", None)
            self._curve_length = len(self._curve or [])
            network.set_params(callbacks=[self])

    def detach(self) -> None:
        """After the fit: the network goes back to having no callbacks (a saved model has none)."""
        if self._network is not None:
            self._network.set_params(callbacks=None)

    def catch_up(self, estimator) -> None:
        """After the fit: report the epochs of the network's curve that the callback did not hear of."""
        network = getattr(estimator, "network_", None)
        curve = getattr(network, "loss_curve_", None) or []
        continued = network is not None and network is self._network and curve is self._curve  # else a new network
        start = self._curve_length if continued else 0
        for epoch, loss in enumerate(curve[start:], start=1):
            if epoch > self.heard:
                self._tell(epoch, loss)
                if self.dashboard is not None:
                    self.dashboard.state.add_history(loss)

    # ------------------------------------------------------------- mlpkit.callbacks protocol
    def on_fit_start(self, network, max_iter):
        if self.dashboard is not None:
            self.dashboard.on_fit_start(network, max_iter)

    def __call__(self, network, info):
        self.heard = info.epoch
        self._tell(info.epoch, info.loss)
        command = self.dashboard(network, info) if self.dashboard is not None else None
        if self.stop():
            return True
        if isinstance(command, dict):
            self.changes.update({DASHBOARD_TO_FLUCOMA[k]: v for k, v in command.items() if k in DASHBOARD_TO_FLUCOMA})
        return command

    def on_fit_end(self, network):
        if self.dashboard is not None:
            self.dashboard.on_fit_end(network)

    def _tell(self, epoch: int, loss: float) -> None:
        every = self.every()
        if every and epoch % every == 0 and math.isfinite(loss):
            self.report(epoch, float(loss))
