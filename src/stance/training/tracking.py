"""Everything MLflow: where runs go, what every run records, and how the final model is logged."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from omegaconf import DictConfig, OmegaConf

from stance.config import project_root

REGISTERED_MODEL = "stance-classifier"
STORE_FILE = "mlflow.db"
VERSIONED_PACKAGES = ("ukraine-policy-stance", "torch", "transformers", "scikit-learn", "mlflow", "datasets", "setfit")


def use_store(uri: str | None = None) -> str:
    """Point MLflow at its store: MLFLOW_TRACKING_URI when set, else `uri`, else `mlflow.db` in the project root.

    The one place that decides where runs go, for training, prediction and the reports alike.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or uri or f"sqlite:///{project_root() / STORE_FILE}"
    mlflow.set_tracking_uri(uri)
    return uri


def configure(logger_cfg: DictConfig) -> str:
    """The configured store and experiment, for a training run."""
    uri = use_store(logger_cfg.tracking_uri)
    mlflow.set_experiment(logger_cfg.experiment_name)
    return uri


def flatten(cfg: DictConfig) -> dict[str, str]:
    """`a.b.c: value` pairs of the resolved config, as MLflow params (values capped at its limit)."""
    flat = pd.json_normalize(OmegaConf.to_container(cfg, resolve=True), sep=".").iloc[0].to_dict()
    return {key: str(value)[:6000] for key, value in flat.items()}


def git_state() -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    return {"git_commit": commit or "unknown", "git_dirty": str(bool(git("status", "--porcelain"))).lower()}


def package_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED_PACKAGES:
        try:
            found[f"version.{name}"] = version(name)
        except PackageNotFoundError:
            continue
    return found


@contextmanager
def tracked_run(cfg: DictConfig, tags: dict[str, str], run_name: str) -> Iterator[mlflow.ActiveRun]:
    """One training run: params, config.yaml and tags logged up front; FAILED if anything raises."""
    configure(cfg.logger)
    with mlflow.start_run(run_name=run_name) as run, sigterm_raises():
        mlflow.set_tags({**git_state(), **package_versions(), **tags})
        mlflow.log_params(flatten(cfg))
        mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        yield run  # mlflow marks the run FAILED when the body raises


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM (what `kill` and schedulers send) raises SystemExit for the block, so the run is closed as FAILED
    as on Ctrl-C rather than left RUNNING forever; the previous handler is restored after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def log_history(history: Sequence[dict]) -> None:
    """Per-epoch losses of a transformer fit (`train_loss` -> `train/loss`), stepped by epoch for the UI's curves."""
    for record in history:
        prefix = f"{record['member']}/" if "member" in record else ""  # ensemble members log side by side
        for key, value in record.items():
            if key not in ("epoch", "member") and value is not None:
                mlflow.log_metric(prefix + key.replace("_", "/", 1), float(value), step=int(record["epoch"]))


def log_figure(figure, artifact_file: str) -> None:
    mlflow.log_figure(figure, artifact_file)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    mlflow.log_metrics(metrics, step=step)


def log_text(text: str, artifact_file: str) -> None:
    mlflow.log_text(text, artifact_file)


@contextmanager
def child_run(name: str) -> Iterator[None]:
    """A nested run under the active one (one per evaluation fold)."""
    with mlflow.start_run(run_name=name, nested=True):
        yield


def pinned(packages: Sequence[str]) -> list[str]:
    """`name==version` of each installed package, without local build tags (`2.13.0+cpu` -> `2.13.0`), which
    no index serves."""
    return [f"{name}=={version(name).split('+')[0]}" for name in packages]


def log_model(model, example_texts: Sequence[str], register: bool) -> str:
    """Log the fitted model as a `python_function` model with signature and input example.

    The model carries the `stance` package itself (`code_paths`) and the exact versions of the packages its
    family needs, so it loads and serves in any environment that installs those requirements, with no
    checkout of this repository and no `stance` distribution on an index.
    """
    import stance
    from stance import mlflow_model
    from stance.models.columns import proba_to_frame
    from stance.pyfunc import MODEL_ARTIFACT

    example = pd.DataFrame({"text": list(example_texts)[:3]})
    signature = infer_signature(example, proba_to_frame(model.predict_proba(example["text"].tolist())))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / MODEL_ARTIFACT  # MLflow names the stored folder after the local one
        model.save(folder)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=mlflow_model.__file__,
            artifacts={MODEL_ARTIFACT: str(folder)},
            signature=signature,
            input_example=example,
            code_paths=[str(Path(stance.__file__).parent)],
            pip_requirements=pinned(model.runtime_packages),
            registered_model_name=REGISTERED_MODEL if register else None,
        )
    return info.model_uri


def log_json(payload: dict, artifact_file: str) -> None:
    mlflow.log_text(json.dumps(payload, indent=2), artifact_file)
