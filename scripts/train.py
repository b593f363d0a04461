"""Train a stance classifier: `python scripts/train.py model=tfidf_logreg` (see configs/train.yaml)."""

import sys

import hydra
from omegaconf import DictConfig

from stance.config import register_resolvers
from stance.models.transformer import PretrainedUnavailable
from stance.training.run import run


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float:
    try:
        metrics = run(cfg)
        return metrics.get("dev/f_avg_macro", metrics.get("cv/f_avg_macro"))  # what a sweeper optimises
    except PretrainedUnavailable as err:  # a setup problem with its own remedy: the message, no trace
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    register_resolvers()
    main()
