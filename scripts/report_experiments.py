"""Print the model comparison from the MLflow runs and write it into experiments/README.md."""

import os

from stance.config import PROJECT_ROOT
from stance.report import comparison_runs, model_table, replace_table
from stance.tracking import use_store

if __name__ == "__main__":
    use_store(f"sqlite:///{PROJECT_ROOT}/mlflow.db")
    table = model_table(comparison_runs(os.environ.get("STANCE_EXPERIMENT", "stance"))).to_markdown(index=False)
    print(table)
    replace_table(PROJECT_ROOT / "experiments" / "README.md", table)
