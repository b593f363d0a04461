"""The prediction table every model's probabilities become: per topic the predicted value and its three probabilities.

Shared by the MLflow model, batch prediction and the Ray workers, without importing MLflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stance.corpus.schema import TOPICS, VALUES


def probability_column(topic: str, value: str) -> str:
    return f"{topic}_p_{value}"


def proba_to_frame(proba: np.ndarray) -> pd.DataFrame:
    """Per passage: the predicted value of each topic, then the three probabilities of each topic."""
    columns: dict[str, object] = {}
    for column, topic in enumerate(TOPICS):
        columns[topic] = np.asarray(VALUES, dtype=object)[proba[:, column].argmax(axis=-1)]
    for column, topic in enumerate(TOPICS):
        for index, value in enumerate(VALUES):
            columns[probability_column(topic, value)] = proba[:, column, index].astype(float)
    return pd.DataFrame(columns)
