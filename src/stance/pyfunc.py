"""The MLflow `python_function` face of a stance model: a DataFrame of texts in, labels and probabilities out."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

from stance.schema import TOPICS, VALUES

MODEL_ARTIFACT = "stance_model"


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


class StancePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from stance.models import load_model

        self.model = load_model(Path(context.artifacts[MODEL_ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if "text" not in model_input:
            raise ValueError(f"input needs a 'text' column, got columns {list(model_input.columns)}")
        return proba_to_frame(self.model.predict_proba(model_input["text"].astype(str).tolist()))
