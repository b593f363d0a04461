"""Train a model from a Hydra config: grouped cross-validation, a final fit on all data, all logged to MLflow."""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig
from sklearn.metrics import classification_report

from stance import plots, tracking
from stance.data import grouped_folds, grouped_holdout, read_records
from stance.metrics import index_scores, index_to_values, topic_confusion
from stance.models import StanceModel
from stance.schema import ABSENT, TOPICS, VALUES

log = logging.getLogger(__name__)
REAL_SOURCE = "seed"


@dataclass
class Corpus:
    ids: np.ndarray
    doc_ids: np.ndarray
    texts: list[str]
    sources: np.ndarray
    labels: np.ndarray  # (n, n_topics) indices into VALUES

    @classmethod
    def from_files(cls, paths: Sequence[str | Path], max_passages: int | None = None) -> "Corpus":
        records = [record for path in paths for record in read_records(path)][:max_passages]
        labels = [[VALUES.index(r["labels"].get(topic, ABSENT)) for topic in TOPICS] for r in records]
        return cls(
            ids=np.array([r["id"] for r in records]),
            doc_ids=np.array([r["doc_id"] for r in records]),
            texts=[r["text"] for r in records],
            sources=np.array([r["source"] for r in records]),
            labels=np.array(labels, dtype=int).reshape(len(records), len(TOPICS)),
        )

    def subset_texts(self, index: np.ndarray) -> list[str]:
        return [self.texts[i] for i in index]


def build_model(model_cfg: DictConfig) -> StanceModel:
    """The model a config describes; a model's own error (e.g. weights it cannot find) is raised as itself,
    not wrapped in Hydra's exception, so the user sees its message alone."""
    try:
        return instantiate(model_cfg)
    except InstantiationException as err:
        raise (err.__cause__ or err) from None


def confusions(gold: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    gold_values, predicted_values = index_to_values(gold), index_to_values(predicted)
    return {topic: topic_confusion(gold_values[topic], predicted_values[topic]) for topic in TOPICS}


def make_splits(trainer_cfg: DictConfig, corpus: Corpus, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped k-fold, or one grouped hold-out that always holds out the real (seed) articles."""
    if trainer_cfg.strategy == "kfold":
        return grouped_folds(corpus.doc_ids, trainer_cfg.n_splits, seed)
    if trainer_cfg.strategy == "holdout":
        real = np.isin(corpus.sources, list(trainer_cfg.always_held_out))
        rest = np.flatnonzero(~real)
        train, valid = grouped_holdout(corpus.doc_ids[rest], trainer_cfg.holdout_fraction, seed)
        return [(rest[train], np.sort(np.concatenate([np.flatnonzero(real), rest[valid]])))]
    raise ValueError(f"trainer.strategy must be 'kfold' or 'holdout', got {trainer_cfg.strategy!r}")


def hydra_tags() -> dict[str, str]:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return {}
    hydra_cfg = HydraConfig.get()
    choices = hydra_cfg.runtime.choices
    tags = {"model_name": choices.get("model", ""), "experiment": choices.get("experiment") or ""}
    if hydra_cfg.mode == RunMode.MULTIRUN:
        tags |= {"sweep": Path(hydra_cfg.sweep.dir).name, "sweep_job": str(hydra_cfg.job.num)}
    return tags


def out_of_fold_table(corpus: Corpus, proba: np.ndarray, fold_of: np.ndarray) -> pd.DataFrame:
    """One row per evaluated passage, the passages with the most wrong topics first."""
    evaluated = np.flatnonzero(fold_of >= 0)
    predicted = proba[evaluated].argmax(-1)
    gold = corpus.labels[evaluated]
    table = pd.DataFrame({"id": corpus.ids[evaluated], "doc_id": corpus.doc_ids[evaluated],
                          "source": corpus.sources[evaluated], "fold": fold_of[evaluated],
                          "errors": (predicted != gold).sum(axis=1)})
    for column, topic in enumerate(TOPICS):
        table[f"{topic}_gold"] = [VALUES[v] for v in gold[:, column]]
        table[f"{topic}_pred"] = [VALUES[v] for v in predicted[:, column]]
        table[f"{topic}_confidence"] = proba[evaluated, column].max(-1).round(4)
    table["text"] = corpus.subset_texts(evaluated)
    return table.sort_values(["errors", "fold"], ascending=[False, True], kind="stable")


def log_evaluation_artifacts(corpus: Corpus, proba: np.ndarray, fold_of: np.ndarray,
                             scores_by_split: dict[str, dict[str, float]]) -> None:
    evaluated = fold_of >= 0
    gold, predicted = corpus.labels[evaluated], proba[evaluated].argmax(-1)
    report = {}
    for column, (topic, matrix) in enumerate(confusions(gold, predicted).items()):
        tracking.log_figure(plots.confusion_figure(matrix, topic), f"confusion/{topic}.png")
        report[topic] = classification_report(gold[:, column], predicted[:, column], labels=range(len(VALUES)),
                                              target_names=list(VALUES), output_dict=True, zero_division=0)
    tracking.log_json(report, "classification_report.json")
    tracking.log_figure(plots.topic_f1_figure(scores_by_split), "topic_f1.png")
    mlflow.log_text(out_of_fold_table(corpus, proba, fold_of).to_csv(index=False), "out_of_fold_predictions.csv")


def cross_validate(cfg: DictConfig, corpus: Corpus) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """Out-of-fold probabilities, the fold of each passage (-1: never evaluated) and per-fold scores."""
    proba = np.zeros((len(corpus.texts), len(TOPICS), len(VALUES)))
    fold_of = np.full(len(corpus.texts), -1)
    fold_scores = []
    for fold, (train, test) in enumerate(make_splits(cfg.trainer, corpus, cfg.seed)):
        with mlflow.start_run(run_name=f"fold-{fold}", nested=True):
            model = build_model(cfg.model)
            model.fit(corpus.subset_texts(train), corpus.labels[train], corpus.doc_ids[train].tolist())
            proba[test] = model.predict_proba(corpus.subset_texts(test))
            fold_of[test] = fold
            scores = index_scores(corpus.labels[test], proba[test].argmax(-1))
            mlflow.log_metrics({f"fold/{k}": v for k, v in scores.items()} | {"fold/n_test": len(test)})
            tracking.log_history(model.history)
            matrices = confusions(corpus.labels[test], proba[test].argmax(-1))
            tracking.log_json({topic: matrix.tolist() for topic, matrix in matrices.items()}, "confusion.json")
            fold_scores.append(scores)
            log.info("fold %d: macro F_avg %.3f on %d passages", fold, scores["f_avg_macro"], len(test))
    return proba, fold_of, fold_scores


def summarize(corpus: Corpus, proba: np.ndarray, fold_of: np.ndarray,
              fold_scores: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and std over folds for all passages; pooled out-of-fold scores for the real seed text."""
    cv = {key: float(np.mean([s[key] for s in fold_scores])) for key in fold_scores[0]}
    cv |= {f"{key}_std": float(np.std([s[key] for s in fold_scores])) for key in ("f_avg_macro",)}
    splits = {"cv": cv}
    real = (fold_of >= 0) & (corpus.sources == REAL_SOURCE)
    if real.any():
        splits["seed_only"] = index_scores(corpus.labels[real], proba[real].argmax(-1))
    return splits


def run(cfg: DictConfig) -> dict[str, float]:
    """Cross-validate, fit the final model on all data, log it; returns the logged summary metrics."""
    started = time.perf_counter()
    corpus = Corpus.from_files(cfg.data.files, cfg.data.get("max_passages"))
    model_name = hydra_tags().get("model_name") or cfg.model._target_.rsplit(".", 1)[-1]
    tags = {
        "model_name": model_name,
        "label_digest": tracking.label_digest(cfg.data.files),
        "n_passages": str(len(corpus.texts)),
        "n_seed_passages": str(int((corpus.sources == REAL_SOURCE).sum())),
        "n_articles": str(len(set(corpus.doc_ids))),
        "evaluation": cfg.trainer.strategy,
    } | hydra_tags()
    final_model = build_model(cfg.model)  # fails fast, before any run exists (e.g. no checkpoint offline)
    # Named for the UI's run list, where a sweep's runs otherwise differ only by random names.
    run_name = cfg.get("run_name") or f"{model_name}-{cfg.trainer.strategy}-seed{cfg.seed}"
    with tracking.tracked_run(cfg, tags | {"model_family": final_model.family}, run_name):
        proba, fold_of, fold_scores = cross_validate(cfg, corpus)
        splits = summarize(corpus, proba, fold_of, fold_scores)
        metrics = {f"{split}/{key}": value for split, scores in splits.items() for key, value in scores.items()}
        mlflow.log_metrics(metrics)
        log_evaluation_artifacts(corpus, proba, fold_of, splits)

        if cfg.logger.log_model:  # off for tuning sweeps, which only need the evaluation
            final_model.fit(corpus.texts, corpus.labels, corpus.doc_ids.tolist())
            tracking.log_history(final_model.history)
            tracking.log_model(final_model, corpus.texts, register=cfg.register)
        resources = {"train/seconds": time.perf_counter() - started,
                     "train/peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        mlflow.log_metrics(resources)
    log.info("cv macro F_avg %.3f ± %.3f; seed-only %.3f", metrics["cv/f_avg_macro"],
             metrics["cv/f_avg_macro_std"], metrics.get("seed_only/f_avg_macro", float("nan")))
    return metrics | resources
