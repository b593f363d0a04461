"""The model comparison of experiments/README.md, computed from the logged MLflow runs."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pandas as pd

from stance.errors import UserError

SCORES = {"metrics.dev/f_avg_macro": "dev macro F_avg",
          "metrics.dev/f_avg_pooled": "dev pooled F_avg",
          "metrics.seed_only/f_avg_macro": "macro F_avg, real seed passages",
          "metrics.cv/f_avg_macro": "macro F_avg, all evaluated passages"}
COSTS = {"metrics.train/seconds": "training time (s)", "metrics.train/peak_rss_mb": "peak memory (MB)"}
TABLE_START, TABLE_END = "<!-- comparison:start -->", "<!-- comparison:end -->"


def comparison_runs(experiment_name: str) -> pd.DataFrame:
    """Finished top-level runs launched from a `compare_*` experiment file, on the newest label data."""
    runs = mlflow.search_runs(experiment_names=[experiment_name], filter_string="attributes.status = 'FINISHED'")
    if runs.empty or "tags.experiment" not in runs:
        return pd.DataFrame()
    runs = runs[runs["tags.experiment"].fillna("").str.startswith("compare_")]
    if "tags.mlflow.parentRunId" in runs:
        runs = runs[runs["tags.mlflow.parentRunId"].isna()]
    if runs.empty:
        return runs
    newest_digest = runs.sort_values("start_time")["tags.label_digest"].iloc[-1]
    return runs[runs["tags.label_digest"] == newest_digest]


def model_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per model and evaluation scheme, best dev score first."""
    if runs.empty:
        return pd.DataFrame()
    rows = []
    for (model, evaluation), group in runs.groupby(["tags.model_name", "tags.evaluation"]):
        row = {"model": model, "evaluation": evaluation, "seeds": group["params.seed"].nunique()}
        for column, title in SCORES.items():
            scores = group[column] if column in group else None
            row[title] = "" if scores is None or scores.isna().all() else f"{scores.mean():.3f} ± {scores.std(ddof=0):.3f}"
        for column, title in COSTS.items():
            row[title] = f"{group[column].mean():.0f}"
        rows.append(row)
    first = next(iter(SCORES))
    order = {model: group[first].mean() for model, group in runs.groupby("tags.model_name")} if first in runs else {}
    table = pd.DataFrame(rows)
    return table.sort_values("model", key=lambda models: models.map(order).fillna(-1), ascending=False, kind="stable")


def replace_table(readme: Path, table_markdown: str) -> None:
    """Rewrite the generated table between the markers of `readme`, leaving the prose around it alone."""
    text = readme.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise UserError(f"{readme}: no {TABLE_START} ... {TABLE_END} section to fill")
    block = f"{TABLE_START}\n{table_markdown.strip()}\n{TABLE_END}"
    readme.write_text(re.sub(f"{re.escape(TABLE_START)}.*?{re.escape(TABLE_END)}", lambda _: block, text,
                             flags=re.DOTALL))
