"""The spec's metric: per-topic F_avg = (F1_support + F1_reject) / 2, its macro mean, and topic detection F1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from stance.corpus.schema import ABSENT, STANCES, TOPICS, VALUES

Labels = Mapping[str, Sequence[str]]  # topic -> one value per passage


def topic_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """F1 per stance, F_avg and detection F1 for one topic.

    A class that neither gold nor predictions contain scores 0, as in the SemEval-2016 scorer,
    so a model cannot look good on a topic by never predicting it.
    """
    per_stance = f1_score(gold, predicted, labels=list(STANCES), average=None, zero_division=0.0)
    scores = {f"f1_{stance}": float(f1) for stance, f1 in zip(STANCES, per_stance)}
    scores["f_avg"] = float(np.mean(per_stance))
    scores["topic_f1"] = float(
        f1_score([g != ABSENT for g in gold], [p != ABSENT for p in predicted], zero_division=0.0)
    )
    return scores


def stance_scores(gold: Labels, predicted: Labels) -> dict[str, float]:
    """Flat metric dict: `f_avg/<topic>`, `f1_support/<topic>`, ..., and `f_avg_macro`."""
    flat: dict[str, float] = {}
    for topic in TOPICS:
        for name, value in topic_scores(gold[topic], predicted[topic]).items():
            flat[f"{name}/{topic}"] = value
    flat["f_avg_macro"] = float(np.mean([flat[f"f_avg/{topic}"] for topic in TOPICS]))
    # SemEval-2016's own figure pools every (passage, topic) decision before scoring, so frequent topics weigh more.
    pooled = topic_scores([v for topic in TOPICS for v in gold[topic]], [v for topic in TOPICS for v in predicted[topic]])
    flat["f_avg_pooled"] = pooled["f_avg"]
    return flat


def index_scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """`stance_scores` for label arrays of shape (n, n_topics) holding indices into VALUES."""
    return stance_scores(index_to_values(gold), index_to_values(predicted))


def index_to_values(labels: np.ndarray) -> dict[str, list[str]]:
    return {topic: [VALUES[v] for v in labels[:, column]] for column, topic in enumerate(TOPICS)}


def topic_confusion(gold: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """3x3 counts, rows gold and columns predicted, in schema value order (absent, support, reject)."""
    return confusion_matrix(gold, predicted, labels=list(VALUES))
