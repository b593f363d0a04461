"""Learning curve: dev F_avg against the number of training passages, so the next data decision is measured.

The real seed passages are always kept; of the other training articles a growing, nested share is used (the
articles of a smaller share are part of every larger one), so each point differs from the last only by data.
"""

from __future__ import annotations

import logging

import numpy as np
from omegaconf import DictConfig

from stance.metrics import index_scores
from stance.training import tracking
from stance.training.data import Corpus
from stance.training.evaluation import REAL_SOURCE

log = logging.getLogger(__name__)


def nested_shares(corpus: Corpus, fractions: list[float], seed: int) -> list[np.ndarray]:
    """Passage indices for each fraction: every seed passage plus that share of the other articles."""
    others = np.unique(corpus.doc_ids[corpus.sources != REAL_SOURCE])
    order = np.random.default_rng(seed).permutation(others)
    shares = []
    for fraction in fractions:
        chosen = set(order[:round(fraction * len(order))])
        shares.append(np.flatnonzero((corpus.sources == REAL_SOURCE) | np.isin(corpus.doc_ids, list(chosen))))
    return shares


def learning_curve(cfg: DictConfig, build) -> list[dict[str, float]]:
    """Fit `build()` on each share of the training data and score it on the dev set; one MLflow run."""
    from stance.training import plots

    if not cfg.data.get("dev_files"):
        raise ValueError("a learning curve is scored on the dev set: data.dev_files is empty")
    corpus, dev = Corpus.from_files(cfg.data.files), Corpus.from_files(cfg.data.dev_files)
    fractions = sorted(float(f) for f in cfg.fractions)
    points = []
    with tracking.tracked_run(cfg, {"kind": "learning_curve"}, f"curve-{cfg.model_name}-seed{cfg.seed}"):
        for index in nested_shares(corpus, fractions, cfg.seed):
            model = build()
            model.fit(corpus.subset_texts(index), corpus.labels[index], corpus.doc_ids[index].tolist())
            scores = index_scores(dev.labels, model.predict(dev.texts))
            point = {"passages": len(index), "dev_f_avg_macro": scores["f_avg_macro"],
                     "dev_f_avg_pooled": scores["f_avg_pooled"]}
            tracking.log_metrics({"curve/dev_f_avg_macro": point["dev_f_avg_macro"],
                                  "curve/dev_f_avg_pooled": point["dev_f_avg_pooled"]}, step=len(index))
            log.info("%d passages: dev macro F_avg %.3f", len(index), point["dev_f_avg_macro"])
            points.append(point)
        tracking.log_figure(plots.learning_curve_figure(points, cfg.model_name), "learning_curve.png")
        tracking.log_text("\n".join(f"{p['passages']}\t{p['dev_f_avg_macro']:.4f}" for p in points),
                          "learning_curve.tsv")
    return points
