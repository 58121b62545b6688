"""Plots shared by the notebooks: training curves, image grids, confusion matrices.

Used by: chapter1/Iris_classify (curves), chapter2 (curves), chapter3/chapter4 (history curves,
image grids, confusion matrices), chapter5 and chapter6 (curves). Each function draws one figure,
shows it inline (so it is stored in the notebook's outputs) and returns None; with ``show=False`` it
returns the matplotlib ``Figure`` instead (for tests or further drawing).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np

__all__ = ["plot_history", "plot_curves", "image_grid", "plot_confusion_matrix"]

# Plot text is kept in English: a stock matplotlib has no CJK font, and missing glyphs would show
# as boxes (the Chinese explanation lives in the notebook's Markdown).
matplotlib.rcParams["figure.dpi"] = 80


def _finish(fig, show: bool):
    fig.tight_layout()
    if show:
        plt.show()  # inline backend: stored in the notebook outputs, figure closed
        return None
    return fig


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "epoch",
    ylabel: str = "",
    logy: bool = False,
    show: bool = True,
):
    """Plot several named 1-D curves on one axis (e.g. loss of five optimisers)."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, show)


def plot_history(
    history, metrics: Sequence[str] | None = None, *, title: str = "", show: bool = True
):
    """Plot a Keras ``History`` (or its ``.history`` dict): one panel per metric, train vs
    validation.

    ``metrics`` defaults to every key without the ``val_`` prefix (e.g. ``loss``, ``accuracy``).
    Validation values logged every ``validation_freq`` epochs are placed at the right epochs.
    Raises ``ValueError`` if a requested metric is not in the history.
    """
    logs = getattr(history, "history", history)
    metrics = list(
        metrics or [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
    )
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"metrics {missing} not in history (has {sorted(logs)})")
    epochs_run = len(logs[metrics[0]])
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        ax.plot(range(1, epochs_run + 1), logs[name], label=f"train {name}")
        val = logs.get(f"val_{name}")
        if val:
            # validation_freq=k logs fewer points: spread them over the last epoch of each block
            step = max(1, epochs_run // len(val))
            ax.plot(range(step, step * len(val) + 1, step), val, "o-", label=f"validation {name}")
        ax.set(xlabel="epoch", title=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def image_grid(
    images,
    labels=None,
    *,
    class_names: Sequence[str] | None = None,
    predictions=None,
    ncols: int = 8,
    title: str = "",
    size: float = 1.4,
    cmap: str = "gray",
    show: bool = True,
):
    """Show images in a grid with their labels (and predictions, red when wrong).

    ``images``: array [n, h, w] or [n, h, w, c] (uint8 0–255 or float 0–1).
    """
    images = np.asarray(images)
    n = len(images)
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        name = lambda k: class_names[int(k)] if class_names is not None else str(k)
        text, color = "", "black"
        if labels is not None:
            text = name(labels[i])
        if predictions is not None:
            pred = name(predictions[i])
            color = "black" if labels is None or int(predictions[i]) == int(labels[i]) else "red"
            text = f"{text}→{pred}" if labels is not None else pred
        ax.set_title(text, fontsize=8, color=color)
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_confusion_matrix(
    y_true,
    y_pred,
    class_names: Sequence[str],
    *,
    title: str = "confusion matrix",
    show: bool = True,
):
    """Draw the confusion matrix (rows: true class, columns: predicted) with counts."""
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    k = len(class_names)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    fig, ax = plt.subplots(figsize=(0.55 * k + 2.5, 0.55 * k + 2))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                cm[i, j],
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[i, j] > cm.max() / 2 else "black",
            )
    return _finish(fig, show)
