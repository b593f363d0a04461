"""Classify articles in bulk: `python scripts/predict.py model=best input=articles/ output=out/passages.jsonl`."""

import hydra
from omegaconf import DictConfig

from stance.batch.run import main as predict
from stance.config import register_resolvers
from stance.errors import reported


@hydra.main(version_base="1.3", config_path="../configs/predict", config_name="predict")
def main(cfg: DictConfig) -> None:
    with reported():  # a user mistake: one line and a hint (HYDRA_FULL_ERROR=1 for the traceback)
        code = predict(cfg)
    raise SystemExit(code)  # 2 when any input failed


if __name__ == "__main__":
    register_resolvers()
    main()
