"""Classify articles in bulk: `python scripts/predict.py model=best input=articles/ output=out/passages.jsonl`."""

import hydra
from omegaconf import DictConfig

import stance.config  # noqa: F401  registers the resolvers the configs use
from stance.predict import main as predict


@hydra.main(version_base="1.3", config_path="../configs/predict", config_name="predict")
def main(cfg: DictConfig) -> None:
    raise SystemExit(predict(cfg))  # 2 when any input failed


if __name__ == "__main__":
    main()
