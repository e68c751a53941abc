"""Figures shared by the book and the exercises: one style, decision boundaries, loss curves.

Needs matplotlib (``pip install 'nnlib[plot]'``); the rest of nnlib does not.
"""

from __future__ import annotations

import numpy as np

__all__ = ["use_style", "COLORS", "plot_decision_boundary", "plot_loss_curves"]

COLORS = {
    "class0": "#3b6fb6",   # blue: background / class 0
    "class1": "#d1495b",   # red: signal / class 1
    "train": "#3b6fb6",
    "val": "#e08a00",
    "model": "#2a9d8f",
    "truth": "#444444",
}
"""The palette of every figure in the book (colour-blind safe pairs)."""


def use_style() -> None:
    """Set the book's matplotlib style: readable sizes, light grid, no top/right spines.

    In a Jupyter kernel with the inline backend, figures are also sent at twice their pixel
    size (``retina``) and shown at their nominal size, so that they stay sharp on
    high-resolution screens and when zoomed.
    """
    import matplotlib as mpl

    _inline_retina()

    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "lines.linewidth": 2.0,
        "axes.prop_cycle": mpl.cycler(color=[COLORS["class0"], COLORS["class1"], COLORS["model"],
                                             COLORS["val"], "#6a4c93", "#8ab17d"]),
    })


def _inline_retina() -> None:
    """Ask IPython's inline backend for PNGs at twice the resolution, if it is the one in use."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:         # not in IPython: nothing to do
        return
    if get_ipython() is not None:      # a kernel or an IPython shell (a plain script has none)
        set_matplotlib_formats("retina")


def plot_decision_boundary(ax, predict, X, y, *, resolution: int = 200, padding: float = 0.5,
                           levels=(0.5,), xlabel: str = "$x_1$", ylabel: str = "$x_2$"):
    """Scatter a 2-D labelled data set and shade the regions a classifier assigns.

    Parameters
    ----------
    ax : matplotlib Axes
    predict : callable
        ``predict(points) -> scores`` for points of shape (M, 2); scores of
        shape (M,) or (M, 1), thresholded at ``levels`` (0.5 for
        probabilities or labels; pass ``levels=(0.0,)`` for logits).
    X : ndarray, shape (N, 2)
    y : ndarray of {0, 1}, shape (N,)

    Returns
    -------
    matplotlib Axes
        ``ax``, with the plot drawn on it.
    """
    X = np.asarray(X, dtype=float)
    y = np.ravel(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs of shape (N, 2), got {X.shape}")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    scores = np.asarray(predict(np.column_stack([g1.ravel(), g2.ravel()])), dtype=float).reshape(g1.shape)
    level = levels[0]
    ax.contourf(g1, g2, (scores >= level).astype(float), levels=[-0.5, 0.5, 1.5],
                colors=[COLORS["class0"], COLORS["class1"]], alpha=0.15)
    ax.contour(g1, g2, scores, levels=list(levels), colors="k", linewidths=1.2)
    for label, name in ((0, "class0"), (1, "class1")):
        sel = y == label
        ax.scatter(X[sel, 0], X[sel, 1], s=14, color=COLORS[name], label=f"class {label}",
                   edgecolors="white", linewidths=0.3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return ax


def plot_loss_curves(ax, history, *, ylabel: str = "loss", log: bool = False):
    """Training and validation loss per epoch from a :class:`nnlib.training.History`.

    Marks the best validation epoch with a dotted vertical line.
    """
    ax.plot(history.epochs, history.train_loss, color=COLORS["train"], label="training")
    if history.val_loss:
        ax.plot(history.epochs, history.val_loss, color=COLORS["val"], label="validation")
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="k", linestyle=":", linewidth=1,
                       label=f"best epoch ({history.best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.legend()
    return ax
