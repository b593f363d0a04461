"""Dev F_avg against training-set size: `python scripts/learning_curve.py model=tfidf_logreg` (configs/curve.yaml)."""

import hydra
from omegaconf import DictConfig

from stance.config import register_resolvers
from stance.training.curve import learning_curve
from stance.training.run import build_model


@hydra.main(version_base="1.3", config_path="../configs", config_name="curve")
def main(cfg: DictConfig) -> None:
    for point in learning_curve(cfg, lambda: build_model(cfg.model)):
        print(f"{point['passages']:>6} passages  dev macro F_avg {point['dev_f_avg_macro']:.3f}  "
              f"pooled {point['dev_f_avg_pooled']:.3f}")


if __name__ == "__main__":
    register_resolvers()
    main()
