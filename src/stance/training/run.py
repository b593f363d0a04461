"""Train a model from a Hydra config: evaluate it, fit the final model on all data, log everything to MLflow."""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from stance.files import digest
from stance.models import StanceModel
from stance.training import tracking
from stance.training.data import Corpus
from stance.training.evaluation import REAL_SOURCE, cross_validate, log_evaluation_artifacts, summarize

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
    """Cross-validate, fit the final model on all data, log it; returns the logged summary metrics."""
    started = time.perf_counter()
    corpus = Corpus.from_files(cfg.data.files, cfg.data.get("max_passages"))
    corpus.check_trainable(cfg.trainer)
    model_name = hydra_tags().get("model_name") or cfg.model._target_.rsplit(".", 1)[-1]
    tags = {
        "model_name": model_name,
        "label_digest": digest(cfg.data.files),
        "n_passages": str(len(corpus.texts)),
        "n_seed_passages": str(int((corpus.sources == REAL_SOURCE).sum())),
        "n_articles": str(len(set(corpus.doc_ids))),
        "evaluation": cfg.trainer.strategy,
    } | hydra_tags()
    final_model = build_model(cfg.model)  # fails fast, before any run exists (e.g. no checkpoint offline)
    # Named for the UI's run list, where a sweep's runs otherwise differ only by random names.
    run_name = cfg.get("run_name") or f"{model_name}-{cfg.trainer.strategy}-seed{cfg.seed}"
    with tracking.tracked_run(cfg, tags | {"model_family": final_model.family}, run_name):
        proba, fold_of, fold_scores = cross_validate(cfg, corpus, lambda: build_model(cfg.model))
        splits = summarize(corpus, proba, fold_of, fold_scores)
        metrics = {f"{split}/{key}": value for split, scores in splits.items() for key, value in scores.items()}
        tracking.log_metrics(metrics)
        log_evaluation_artifacts(corpus, proba, fold_of, splits)

        if cfg.logger.log_model:  # off for tuning sweeps, which only need the evaluation
            final_model.fit(corpus.texts, corpus.labels, corpus.doc_ids.tolist())
            tracking.log_history(final_model.history)
            tracking.log_model(final_model, corpus.texts, register=cfg.register)
        resources = {"train/seconds": time.perf_counter() - started,
                     "train/peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        tracking.log_metrics(resources)
    log.info("cv macro F_avg %.3f ± %.3f; seed-only %.3f", metrics["cv/f_avg_macro"],
             metrics["cv/f_avg_macro_std"], metrics.get("seed_only/f_avg_macro", float("nan")))
    return metrics | resources
