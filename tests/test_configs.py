"""Every config in every group composes, and every model config builds its model (offline, no weights loaded)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stance.models import StanceModel
from stance.models.transformer import PretrainedUnavailable
from stance.training.run import build_model

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONFIGS / group).glob("*.yaml"))


@pytest.mark.parametrize("model", options("model"))
def test_every_model_config_instantiates(compose_train, model):
    overrides = [f"model={model}"]
    if model == "distilbert":  # no offline copy exists; any local folder will do for construction
        overrides.append(f"model.pretrained={CONFIGS}")
    cfg = compose_train(*overrides)
    built = build_model(cfg.model)
    assert isinstance(built, StanceModel)
    expected = {"tfidf_logreg": "kfold", "tfidf_svm": "kfold", "ensemble": "none"}.get(model, "holdout")
    assert cfg.trainer.strategy == expected


def test_transformer_configs_pass_the_run_seed(compose_train):
    for model in ("minilm", "setfit", "distilbert"):
        assert compose_train(f"model={model}", "seed=7").model.seed == 7


def test_a_slow_model_still_takes_an_explicit_trainer(compose_train):
    assert compose_train("model=minilm", "trainer=kfold").trainer.strategy == "kfold"


def test_distilbert_offline_without_a_copy_stops_with_one_message_and_no_run(tmp_path):
    """The command users type, offline with an empty cache: exit 1, the remedy, no traceback, no MLflow run."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "model=distilbert",
                             f"paths.output_dir={tmp_path}/outputs"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "model.pretrained=/path/to/distilbert-base-uncased" in result.stderr and "model=minilm" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mlflow.db").exists() or "stance" not in _experiments(tmp_path / "mlflow.db")


def _experiments(store: Path) -> list[str]:
    import mlflow

    return [e.name for e in mlflow.MlflowClient(f"sqlite:///{store}").search_experiments()]


@pytest.mark.parametrize("group", ["data", "trainer", "logger", "paths"])
def test_every_option_of_the_other_groups_composes(compose_train, group):
    for option in options(group):
        assert compose_train(f"{group}={option}")[group] is not None


@pytest.mark.parametrize("experiment", options("experiment"))
def test_every_experiment_composes_with_its_model_and_seed_sweep(compose_train, experiment):
    from hydra import compose, initialize_config_dir

    cfg = compose_train(f"experiment={experiment}")
    assert cfg.model._target_.rsplit(".", 1)[-1].lower() in experiment
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        sweep = compose("train", overrides=[f"experiment={experiment}"], return_hydra_config=True)
    assert sweep.hydra.sweeper.params.seed == "0,1,2"
