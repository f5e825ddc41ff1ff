"""``mlpkit.plots``: each plot is a matplotlib Figure; ``write_plots`` writes the ones that apply as PNG."""

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
    assert [p.name for p in written] == ["loss.png", "learning_rate.png", "predicted_vs_true.png"]
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
    assert {p.name for p in written} == {"loss.png", "learning_rate.png", "confusion_matrix.png"}
    assert_png(tmp_path / "confusion_matrix.png")
