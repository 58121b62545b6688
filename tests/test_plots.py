"""tfnotes.plots draw what they are given and reject bad input."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tfnotes import plots  # noqa: E402


def test_plot_history_places_sparse_validation_points():
    history = {
        "loss": [4, 3, 2, 1],
        "accuracy": [0.1, 0.2, 0.3, 0.4],
        "val_loss": [3.5, 1.5],
        "val_accuracy": [0.2, 0.4],
    }
    fig = plots.plot_history(history, show=False)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    train, val = fig.axes[0].lines
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(val.get_xdata()) == [2, 4] and list(val.get_ydata()) == [3.5, 1.5]


def test_plot_history_unknown_metric():
    with pytest.raises(ValueError, match="auc"):
        plots.plot_history({"loss": [1.0]}, ["auc"], show=False)


def test_image_grid_marks_wrong_predictions():
    images = np.zeros((3, 28, 28), np.uint8)
    fig = plots.image_grid(
        images, [0, 1, 2], class_names=["a", "b", "c"], predictions=[0, 2, 2], ncols=3, show=False
    )
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes]
    assert titles[0] == ("a→a", "black") and titles[1] == ("b→c", "red")


def test_confusion_matrix_counts():
    fig = plots.plot_confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], ["x", "y", "z"], show=False)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1", "1", "0", "0", "1", "0", "0", "0", "1"]


def test_plot_curves_one_line_per_name():
    fig = plots.plot_curves({"sgd": [3, 2, 1], "adam": [3, 1, 0.5]}, logy=True, show=False)
    assert [line.get_label() for line in fig.axes[0].lines] == ["sgd", "adam"]
