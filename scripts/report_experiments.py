"""Print the model comparison from the MLflow runs and write it into experiments/README.md."""

import os

import mlflow

from stance.config import PROJECT_ROOT
from stance.report import comparison_runs, model_table, replace_table

if __name__ == "__main__":
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{PROJECT_ROOT}/mlflow.db"))
    table = model_table(comparison_runs(os.environ.get("STANCE_EXPERIMENT", "stance"))).to_markdown(index=False)
    print(table)
    replace_table(PROJECT_ROOT / "experiments" / "README.md", table)
