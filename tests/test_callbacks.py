"""Callbacks hear of every epoch while training goes on, and can stop it."""

import numpy as np
from sklearn.datasets import make_classification

import mlpkit
from mlpkit import _base
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
    monkeypatch.setattr(_base, "SECONDS_PER_CHUNK", 0.0)  # one epoch per chunk: the finest reporting
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
    monkeypatch.setattr(_base, "SECONDS_PER_CHUNK", 0.0)
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0, callbacks=[Recorder(stop_at=3)])
    model.fit(X, Y)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_progress_bar_runs_and_closes(capsys):
    bar = ProgressBar()
    mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, callbacks=[bar]).fit(X, Y)
    assert bar._progress is None  # stopped at the end of the fit
    mlpkit.MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, progress=True).fit(X, Y)
    assert "5/5" in capsys.readouterr().out
