"""Benchmark batch prediction against a transformers pipeline and a one-at-a-time loop: experiments/benchmarks.md."""

import hydra
from omegaconf import DictConfig

import stance.config  # noqa: F401  registers the resolvers the configs use
from stance.bench import main as bench


@hydra.main(version_base="1.3", config_path="../configs/predict", config_name="bench")
def main(cfg: DictConfig) -> None:
    bench(cfg)


if __name__ == "__main__":
    main()
