"""Train a stance classifier: `python scripts/train.py model=tfidf_logreg` (see configs/train.yaml)."""

import hydra
from omegaconf import DictConfig

import stance.config  # noqa: F401  registers the resolvers the configs use
from stance.train import run


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float:
    return run(cfg)["cv/f_avg_macro"]


if __name__ == "__main__":
    main()
