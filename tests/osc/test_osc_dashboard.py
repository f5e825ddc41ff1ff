"""``--dashboard``: each served model gets a live page that follows its fits."""

import json
import urllib.request

import numpy as np
from osc_helpers import add_points, fit

from mlpkit import osc
from mlpkit.callbacks import EpochInfo
from mlpkit.osc.watch import FitWatcher
from mlpkit.osc.client import Client


def state(url):
    with urllib.request.urlopen(url + "api/state", timeout=10) as answer:
        return json.loads(answer.read())


def test_each_model_gets_a_dashboard_that_follows_every_epoch_of_its_fits(console):
    X = np.linspace(0, 1, 20)[:, None]
    with osc.serve(port=0, dashboard=True, log=console.append) as server, Client(port=server.port) as client:
        client.ask("/mlp/create", "pad", "regressor", 3, reply="/mlp/created")
        url = server.dashboards["pad"]
        assert any(url in line for line in console)  # its address is on the console
        for param, value in (("inputs", 1), ("maxIter", 15), ("validation", 0)):
            client.ask("/mlp/set", "pad", param, value)
        add_points(client, "pad", X, 0.5 * X)
        fit(client, "pad")  # a new network: its epochs reach the page when the fit ends
        fit(client, "pad")  # an existing one: the page hears each chunk of epochs as it runs
        page = state(url)
        assert page["total"] == 30 and page["status"] == "finished"
        curve = server.models["pad"].estimator.network_.loss_curve_
        np.testing.assert_allclose(page["history"]["loss"], curve[-30:], rtol=1e-12)


class FakeDashboard:
    """Answers every epoch with the page's new values (a dashboard's commands)."""

    def __init__(self):
        self.state = None

    def __call__(self, network, info):
        return {"learning_rate_init": 0.5, "momentum": 0.25}


def test_values_changed_on_the_page_are_kept_in_the_flucoma_names():
    reports = []
    watcher = FitWatcher(lambda e, loss: reports.append((e, loss)), lambda: 2, lambda: False, FakeDashboard())
    info = EpochInfo(epoch=2, loss=0.5, validation_loss=np.nan, validation_score=np.nan, learning_rate=0.1, elapsed=0.0)
    assert watcher(None, info) == {"learning_rate_init": 0.5, "momentum": 0.25}  # the fit changes them now
    assert watcher.changes == {"learn_rate": 0.5, "momentum": 0.25}  # and the estimator keeps them for the next
    assert reports == [(2, 0.5)]
