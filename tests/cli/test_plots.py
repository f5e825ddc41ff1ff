"""``mlpkit.plots``: each plot is a matplotlib Figure; ``write_plots`` writes the ones that apply as PNG."""

import math

import numpy as np
import pytest
from cli_helpers import assert_png
from matplotlib.figure import Figure
from sklearn.datasets import load_iris

import mlpkit
from mlpkit import flucoma, plots

X, Y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def classifier():
    return mlpkit.MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, early_stopping=True, n_iter_no_change=50,
                                 random_state=0).fit(X, Y)


def test_each_plot_is_a_figure_with_its_data(classifier):
    loss = plots.loss_curves(classifier)
    assert isinstance(loss, Figure)
    lines = {line.get_label(): line for line in loss.axes[0].get_lines()}
    assert len(lines["training loss"].get_xdata()) == 20 and "validation loss" in lines
    assert "best epoch (weights kept)" in lines
    rate = plots.learning_rate_curve(classifier).axes[0].get_lines()[0]
    np.testing.assert_allclose(rate.get_ydata(), classifier.learning_rate_curve_)
    matrix = plots.confusion_matrix(classifier, X, Y)
    assert matrix.axes[0].images[0].get_array().sum() == len(Y)
    assert "accuracy" in matrix.axes[0].get_title()


def test_regressor_scatter_and_multi_output(tmp_path):
    targets = np.column_stack([X[:, 0], X[:, 1]])
    regressor = mlpkit.MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X[:, 2:], targets)
    figure = plots.predicted_vs_true(regressor, X[:, 2:], targets)
    assert len(figure.axes[0].collections) == 2  # one scatter per output
    written = plots.write_plots(regressor, tmp_path, X[:, 2:], targets)
    assert [p.name for p in written] == ["loss.png", "predicted_vs_true.png"]  # a constant rate: no rate plot
    for path in written:
        assert_png(path)


def test_lbfgs_has_no_history_to_plot_but_its_predictions_can_be(tmp_path):
    model = mlpkit.MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20, random_state=0).fit(X, Y)
    assert list(plots.plots_for(model)) == []
    with pytest.raises(ValueError, match="lbfgs"):
        plots.loss_curves(model)
    assert [p.name for p in plots.write_plots(model, tmp_path / "new", X, Y)] == ["confusion_matrix.png"]


def test_flucoma_style_models_plot_through_their_network(tmp_path):
    model = flucoma.MLPClassifier(hidden_layers=[4], max_iter=10, random_state=0)
    labels = np.array(["a", "b", "c"])[Y]
    model.fit(X, labels)
    written = plots.write_plots(model, tmp_path, X, labels)
    assert {p.name for p in written} == {"loss.png", "confusion_matrix.png"}
    assert_png(tmp_path / "confusion_matrix.png")


def nice(value) -> bool:
    """1, 2 or 5 times a power of ten."""
    power = math.floor(math.log10(abs(value)) + 1e-9)
    return any(math.isclose(abs(value), m * 10.0**power, rel_tol=1e-9) for m in (1, 2, 5))


def assert_round(ticks):
    """Ticks are 1, 2 or 5 x 10^n each (a log axis), or whole multiples of one such step, evenly spaced."""
    assert len(ticks) >= 3, ticks
    if all(t > 0 and nice(t) for t in ticks):
        return
    step = ticks[1] - ticks[0]
    assert nice(step), ticks
    assert all(math.isclose(b - a, step, rel_tol=1e-6) for a, b in zip(ticks, ticks[1:])), ticks
    assert all(math.isclose(t / step, round(t / step), abs_tol=1e-6) for t in ticks), ticks


def major_ticks(axis):
    """The major ticks matplotlib shows (inside the axis's view)."""
    low, high = sorted(axis.get_view_interval())
    return [t for t in axis.get_majorticklocs() if low - 1e-12 <= t <= high + 1e-12]


def test_axes_have_titles_round_ticks_and_log_axes_say_so(classifier):
    scheduled = mlpkit.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, solver="sgd", learning_rate="exponential",
                                     learning_rate_init=0.1, lr_decay=0.5, lr_decay_epochs=2, random_state=0).fit(X, Y)
    loss_axes = plots.loss_curves(classifier).axes[0]
    assert loss_axes.get_yscale() == "log" and loss_axes.get_ylabel() == "loss (log scale)"
    assert loss_axes.get_xlabel() == "epoch"
    epochs = major_ticks(loss_axes.xaxis)
    assert 3 <= len(epochs) <= 8 and all(float(t).is_integer() for t in epochs), epochs
    assert_round(epochs)
    losses = major_ticks(loss_axes.yaxis)  # within a decade: matplotlib's round linear ticks on the log axis
    assert_round(losses)
    assert loss_axes.yaxis.get_major_formatter()(2.4000000000000004) == "2.4"  # plain numbers
    assert "learning_rate" in plots.plots_for(scheduled)  # a rate that changes is worth a plot
    rate_axes = plots.learning_rate_curve(scheduled).axes[0]
    assert rate_axes.get_ylabel() == "learning rate (log scale)"
    assert_round(major_ticks(rate_axes.yaxis))
    regressor = mlpkit.MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X[:, :3], X[:, 3])
    scatter = plots.predicted_vs_true(regressor, X[:, :3], X[:, 3]).axes[0]
    for axis in (scatter.xaxis, scatter.yaxis):
        ticks = major_ticks(axis)
        assert 3 <= len(ticks) <= 8, ticks
        assert_round(ticks)


def test_the_learning_rate_range_test_has_a_readable_log_axis():
    result = mlpkit.lr_find(mlpkit.MLPClassifier(hidden_layer_sizes=(8,)), X, Y, steps=30)
    axes = plots.lr_find_curve(result).axes[0]
    assert axes.get_xlabel() == "learning rate (log scale)"
    ticks = major_ticks(axes.xaxis)  # many decades: one tick a decade, not 1, 2 and 5 of each (unreadable)
    assert 3 <= len(ticks) <= 9 and all(math.isclose(math.log10(t), round(math.log10(t))) for t in ticks), ticks
