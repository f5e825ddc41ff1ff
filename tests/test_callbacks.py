"""Callbacks hear of every epoch while training goes on, and can stop it."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

import mlpkit
from mlpkit import trainer
from mlpkit.callbacks import EpochInfo, ProgressBar

X, Y = make_classification(n_samples=120, n_features=5, random_state=0)


class Recorder:
    def __init__(self, stop_at=None):
        self.infos, self.events, self.stop_at = [], [], stop_at

    def on_fit_start(self, model, max_iter):
        self.events.append(("start", max_iter))

    def __call__(self, model, info):
        self.infos.append(info)
        return self.stop_at is not None and info.epoch >= self.stop_at

    def on_fit_end(self, model):
        self.events.append(("end",))


def test_callbacks_get_one_record_per_epoch_matching_the_history(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: the finest reporting
    recorder = Recorder()
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=7, early_stopping=True, n_iter_no_change=50,
                                 random_state=0, callbacks=[recorder]).fit(X, Y)  # fmt: skip
    assert [i.epoch for i in recorder.infos] == list(range(1, 8))
    assert all(isinstance(i, EpochInfo) for i in recorder.infos)
    np.testing.assert_allclose([i.loss for i in recorder.infos], model.loss_curve_)
    np.testing.assert_allclose([i.validation_score for i in recorder.infos], model.validation_scores_)
    np.testing.assert_allclose([i.learning_rate for i in recorder.infos], model.learning_rate_curve_)
    assert recorder.events == [("start", 7), ("end",)]


def test_a_callback_can_stop_training(monkeypatch):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0, callbacks=[Recorder(stop_at=3)])
    model.fit(X, Y)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_progress_bar_runs_and_closes(capsys):
    bar = ProgressBar()
    mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, callbacks=[bar]).fit(X, Y)
    assert bar._progress is None  # stopped at the end of the fit
    mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, progress=True).fit(X, Y)
    assert "5/5" in capsys.readouterr().out


@pytest.mark.parametrize("units", [6, 1000], ids=["small weights", "weights crossing unpacked"])
def test_a_callback_can_change_the_learning_rate_mid_fit(monkeypatch, units):
    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)

    def halve_at_three(model, info):
        if info.epoch == 3:
            return {"learning_rate_init": 0.0005, "beta_1": 0.8}

    model = mlpkit.MLPClassifier(hidden_layer_sizes=(units,), max_iter=6, random_state=0, callbacks=[halve_at_three])
    model.fit(X, Y)
    assert all(type(W) is np.ndarray for W in model.coefs_)
    np.testing.assert_allclose(model.learning_rate_curve_, [0.001] * 3 + [0.0005] * 3, rtol=1e-6)
    assert model.learning_rate_init == 0.0005 and model.beta_1 == 0.8


def test_a_callback_asking_for_an_unknown_change_is_told_what_it_can_change(monkeypatch):
    import pytest

    monkeypatch.setattr(trainer, "SECONDS_PER_CHUNK", 0.0)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, callbacks=[lambda m, i: {"alpha": 1.0}])
    with pytest.raises(ValueError, match="can change .*learning_rate_init"):
        model.fit(X, Y)


def test_every_fit_watcher_hears_of_a_failure_and_the_fit_raises_its_own_error(monkeypatch):
    """A watcher whose on_fit_failed raises neither hides the fit's error nor keeps later ones from hearing."""
    import mlpkit.experiments as experiments

    heard = []

    class Watcher:
        def __init__(self, name, broken):
            self.name, self.broken = name, broken

        def __call__(self, model, info):
            raise RuntimeError("the fit's own error")

        def on_fit_failed(self, model, error):
            heard.append((self.name, str(error)))
            if self.broken:
                raise OSError("disk full")

    watchers = iter([Watcher("first", broken=True)])
    monkeypatch.setattr(experiments, "recorder_from_option", lambda track, X, y, w: next(watchers))
    dashboard = Watcher("second", broken=False)
    monkeypatch.setattr("mlpkit.dashboard.from_option", lambda option, X, y, sample_weight: dashboard)
    X, y = np.random.RandomState(0).rand(20, 2), np.arange(20) % 2
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3)
    with pytest.raises(RuntimeError, match="the fit's own error"), pytest.warns(UserWarning, match="disk full"):
        model.fit(X, y, dashboard=True, track=True)
    assert heard == [("second", "the fit's own error"), ("first", "the fit's own error")]
