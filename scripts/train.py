"""Train a stance classifier: `python scripts/train.py model=tfidf_logreg` (see configs/train.yaml)."""

import sys

import hydra
from omegaconf import DictConfig

import stance.config  # noqa: F401  registers the resolvers the configs use
from stance.models.transformer import PretrainedUnavailable
from stance.train import run


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float:
    try:
        return run(cfg)["cv/f_avg_macro"]
    except PretrainedUnavailable as err:  # a setup problem with its own remedy: the message, no trace
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
