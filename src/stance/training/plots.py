"""Figures people would rather look at than read: confusion matrices and per-topic F1.

Built as bare `Figure` objects, not through pyplot, so no GUI backend is chosen for the whole process.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from stance.corpus.schema import TOPICS, VALUES


def confusion_figure(matrix: np.ndarray, topic: str) -> Figure:
    figure = Figure(figsize=(4.2, 3.6))
    axes = figure.subplots()
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(VALUES)), VALUES)
    axes.set_yticks(range(len(VALUES)), VALUES)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(topic)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, int(count), ha="center", va="center", color="white" if count > threshold else "black")
    figure.tight_layout()
    return figure


def topic_f1_figure(scores_by_split: Mapping[str, Mapping[str, float]]) -> Figure:
    """Grouped bars per topic: F1(support), F1(reject) and F_avg for each evaluated split."""
    measures = ("f1_support", "f1_reject", "f_avg")
    figure = Figure(figsize=(5.5 * len(scores_by_split), 3.8))
    axes = figure.subplots(1, len(scores_by_split), squeeze=False)
    for axis, (split, scores) in zip(axes[0], scores_by_split.items()):
        width = 0.8 / len(measures)
        for offset, measure in enumerate(measures):
            heights = [scores.get(f"{measure}/{topic}", np.nan) for topic in TOPICS]
            axis.bar(np.arange(len(TOPICS)) + offset * width, heights, width, label=measure)
        axis.set_xticks(np.arange(len(TOPICS)) + width, [t.replace("_", "\n") for t in TOPICS])
        axis.set_ylim(0, 1)
        axis.set_title(f"{split}: macro F_avg {scores.get('f_avg_macro', float('nan')):.2f}")
    axes[0][0].legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return figure


def learning_curve_figure(points: list[dict[str, float]], model_name: str) -> Figure:
    figure = Figure(figsize=(5.5, 3.8))
    axes = figure.subplots()
    sizes = [p["passages"] for p in points]
    axes.plot(sizes, [p["dev_f_avg_macro"] for p in points], marker="o", label="macro F_avg")
    axes.plot(sizes, [p["dev_f_avg_pooled"] for p in points], marker="s", linestyle="--", label="pooled F_avg")
    axes.set_xlabel("training passages")
    axes.set_ylabel("dev F_avg")
    axes.set_title(f"Learning curve: {model_name} on the dev set")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure
