"""Print the model comparison from the MLflow runs and write it into experiments/README.md."""

import os

from stance.config import project_root
from stance.errors import reported
from stance.training.report import comparison_runs, model_table, replace_table
from stance.training.tracking import use_store

if __name__ == "__main__":
    with reported():
        use_store()
        table = model_table(comparison_runs(os.environ.get("STANCE_EXPERIMENT", "stance"))).to_markdown(index=False)
        print(table)
        replace_table(project_root() / "experiments" / "README.md", table)
