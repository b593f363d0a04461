"""The MLflow `python_function` face of a stance model: a DataFrame of texts in, labels and probabilities out."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from stance.models.columns import proba_to_frame

MODEL_ARTIFACT = "stance_model"


class StancePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from stance.models import load_model

        self.model = load_model(Path(context.artifacts[MODEL_ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if "text" not in model_input:
            raise ValueError(f"input needs a 'text' column, got columns {list(model_input.columns)}")
        return proba_to_frame(self.model.predict_proba(model_input["text"].astype(str).tolist()))
