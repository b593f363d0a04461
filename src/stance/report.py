"""Summaries of logged MLflow runs, for experiments/README.md."""

from __future__ import annotations

import mlflow
import pandas as pd

SCORES = {"metrics.cv/f_avg_macro": "cv macro F_avg (all)", "metrics.seed_only/f_avg_macro": "macro F_avg (seeds only)"}
COSTS = {"metrics.train/seconds": "training time (s)", "metrics.train/peak_rss_mb": "peak memory (MB)"}


def finished_runs(experiment_name: str) -> pd.DataFrame:
    """Top-level finished runs (no fold children) of the experiment."""
    runs = mlflow.search_runs(experiment_names=[experiment_name], filter_string="attributes.status = 'FINISHED'")
    if runs.empty:
        return runs
    if "tags.mlflow.parentRunId" in runs:
        runs = runs[runs["tags.mlflow.parentRunId"].isna()]
    return runs


def model_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per model (and evaluation scheme), newest label data only."""
    if runs.empty:
        return pd.DataFrame()
    newest_digest = runs.sort_values("start_time")["tags.label_digest"].iloc[-1]
    runs = runs[runs["tags.label_digest"] == newest_digest]
    rows = []
    for (model, evaluation), group in runs.groupby(["tags.model_name", "tags.evaluation"]):
        row = {"model": model, "evaluation": evaluation, "seeds": group["params.seed"].nunique(), "runs": len(group)}
        for column, title in SCORES.items():
            row[title] = f"{group[column].mean():.3f} ± {group[column].std(ddof=0):.3f}"
        for column, title in COSTS.items():
            row[title] = f"{group[column].mean():.0f}"
        rows.append(row)
    return pd.DataFrame(rows).sort_values("cv macro F_avg (all)", ascending=False)
