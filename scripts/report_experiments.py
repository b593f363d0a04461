"""Print the model comparison table of experiments/README.md from the MLflow runs."""

import os

import mlflow

from stance.config import PROJECT_ROOT
from stance.report import finished_runs, model_table

if __name__ == "__main__":
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{PROJECT_ROOT}/mlflow.db"))
    print(model_table(finished_runs(os.environ.get("STANCE_EXPERIMENT", "stance"))).to_markdown(index=False))
