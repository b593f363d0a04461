"""Train a stance classifier: `python scripts/train.py model=tfidf_logreg` (see configs/train.yaml)."""

import hydra
from omegaconf import DictConfig

from stance.config import register_resolvers
from stance.errors import reported
from stance.training.run import run


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float:
    with reported():  # a user mistake: one line and a hint (HYDRA_FULL_ERROR=1 for the traceback)
        metrics = run(cfg)
        return metrics.get("dev/f_avg_macro", metrics.get("cv/f_avg_macro"))  # what a sweeper optimises


if __name__ == "__main__":
    register_resolvers()
    main()
