"""How a model is judged: grouped splits, out-of-fold probabilities, the spec's scores and their artifacts."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.metrics import classification_report

from stance.corpus.schema import TOPICS, VALUES
from stance.errors import ConfigError
from stance.models import StanceModel
from stance.models.columns import probability_column
from stance.metrics import index_scores, index_to_values, topic_confusion
from stance.training import plots, tracking
from stance.training.data import Corpus, grouped_folds, grouped_holdout

log = logging.getLogger(__name__)
REAL_SOURCE = "seed"


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
    raise ConfigError(f"trainer.strategy must be 'kfold', 'holdout' or 'none', got {trainer_cfg.strategy!r}")


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
        for index, value in enumerate(VALUES):  # all of them, so runs can be averaged or compared afterwards
            table[probability_column(topic, value)] = proba[evaluated, column, index].round(6)
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
    tracking.log_text(out_of_fold_table(corpus, proba, fold_of).to_csv(index=False), "out_of_fold_predictions.csv")


def cross_validate(cfg: DictConfig, corpus: Corpus,
                   build: Callable[[], StanceModel]) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """Out-of-fold probabilities, the fold of each passage (-1: never evaluated) and per-fold scores."""
    proba = np.zeros((len(corpus.texts), len(TOPICS), len(VALUES)))
    fold_of = np.full(len(corpus.texts), -1)
    fold_scores = []
    for fold, (train, test) in enumerate(make_splits(cfg.trainer, corpus, cfg.seed)):
        with tracking.child_run(f"fold-{fold}"):
            model = build()
            model.fit(corpus.subset_texts(train), corpus.labels[train], corpus.doc_ids[train].tolist())
            proba[test] = model.predict_proba(corpus.subset_texts(test))
            fold_of[test] = fold
            scores = index_scores(corpus.labels[test], proba[test].argmax(-1))
            tracking.log_metrics({f"fold/{k}": v for k, v in scores.items()} | {"fold/n_test": len(test)})
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
