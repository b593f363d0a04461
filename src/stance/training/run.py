"""Train a model from a Hydra config: evaluate it, fit the final model on all data, log everything to MLflow."""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path

import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from stance.errors import ConfigError
from stance.files import digest
from stance.models import StanceModel
from stance.models.ensemble import Ensemble, combine
from stance.training import tracking
from stance.training.data import Corpus
from stance.metrics import index_scores
from stance.training.evaluation import (REAL_SOURCE, cross_validate, log_evaluation_artifacts, out_of_fold_table,
                                         summarize)

log = logging.getLogger(__name__)


def build_model(model_cfg: DictConfig) -> StanceModel:
    """The model a config describes; a model's own error (e.g. weights it cannot find) is raised as itself,
    not wrapped in Hydra's exception, so the user sees its message alone."""
    try:
        return instantiate(model_cfg)
    except InstantiationException as err:
        raise (err.__cause__ or err) from None


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


def run(cfg: DictConfig) -> dict[str, float]:
    """Evaluate (cross-validation or hold-out), fit the final model on all training data, score it on the dev
    set, log it; returns the logged summary metrics."""
    started = time.perf_counter()
    corpus = Corpus.from_files(cfg.data.files, cfg.data.get("max_passages"))
    corpus.check_trainable(cfg.trainer)
    dev = Corpus.from_files(cfg.data.dev_files) if cfg.data.get("dev_files") else None
    if dev is not None and (shared := set(dev.doc_ids) & set(corpus.doc_ids)):
        raise ConfigError(f"data.dev_files shares {len(shared)} article(s) with data.files (e.g. {sorted(shared)[0]}); "
                         "the dev set must never be trained on")
    model_name = hydra_tags().get("model_name") or cfg.model._target_.rsplit(".", 1)[-1]
    tags = {
        "model_name": model_name,
        "label_digest": digest(cfg.data.files),
        "n_passages": str(len(corpus.texts)),
        "n_seed_passages": str(int((corpus.sources == REAL_SOURCE).sum())),
        "n_articles": str(len(set(corpus.doc_ids))),
        "n_dev_passages": str(len(dev.texts) if dev is not None else 0),
        "evaluation": cfg.trainer.strategy,
    } | hydra_tags()
    final_model = build_model(cfg.model)  # fails fast, before any run exists (e.g. no checkpoint offline)
    # Named for the UI's run list, where a sweep's runs otherwise differ only by random names.
    run_name = cfg.get("run_name") or f"{model_name}-{cfg.trainer.strategy}-seed{cfg.seed}"
    with tracking.tracked_run(cfg, tags | {"model_family": final_model.family}, run_name):
        splits: dict[str, dict[str, float]] = {}
        if cfg.trainer.strategy != "none":
            proba, fold_of, fold_scores = cross_validate(cfg, corpus, lambda: build_model(cfg.model))
            splits = summarize(corpus, proba, fold_of, fold_scores)
            log_evaluation_artifacts(corpus, proba, fold_of, splits)
        if dev is not None or cfg.logger.log_model:
            final_model.fit(corpus.texts, corpus.labels, corpus.doc_ids.tolist())
            tracking.log_history(final_model.history)
        if dev is not None:  # the figure models are chosen by: realistic text no model was trained on
            if isinstance(final_model, Ensemble):  # each member scored too, from the one prediction per member
                members = final_model.member_probas(dev.texts)
                dev_proba = combine(members, final_model.weights)
                for name, proba in members.items():
                    member_scores = index_scores(dev.labels, proba.argmax(-1))
                    splits[f"dev_member/{name}"] = {key: member_scores[key] for key in ("f_avg_macro", "f_avg_pooled")}
            else:
                dev_proba = final_model.predict_proba(dev.texts)
            splits["dev"] = index_scores(dev.labels, dev_proba.argmax(-1))
            tracking.log_text(out_of_fold_table(dev, dev_proba, np.zeros(len(dev.texts), dtype=int))
                              .to_csv(index=False), "dev_predictions.csv")
        metrics = {f"{split}/{key}": value for split, scores in splits.items() for key, value in scores.items()}
        tracking.log_metrics(metrics)
        if cfg.logger.log_model:  # off for tuning sweeps, which only need the scores
            tracking.log_model(final_model, corpus.texts, register=cfg.register)
        resources = {"train/seconds": time.perf_counter() - started,
                     "train/peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        tracking.log_metrics(resources)
    log.info("macro F_avg: dev %.3f; cv %.3f ± %.3f; seed-only %.3f", metrics.get("dev/f_avg_macro", float("nan")),
             metrics.get("cv/f_avg_macro", float("nan")), metrics.get("cv/f_avg_macro_std", float("nan")),
             metrics.get("seed_only/f_avg_macro", float("nan")))
    return metrics | resources
