"""Turn what a user calls a model (`best`, a run id, an MLflow URI, a folder) into a local saved-model folder."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stance.config import environment
from stance.errors import UserError
from stance.models.base import MANIFEST
from stance.pyfunc import MODEL_ARTIFACT

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
BEST_METRIC = "dev/f_avg_macro"  # realistic text no model was trained on


class ModelReferenceError(UserError):
    """A model reference that names no usable model; the message says which and why."""

    hint = ("model= takes best, best:<model_name>, a run id, runs:/<id>/model, models:/stance-classifier/<version> "
            "or models:/stance-classifier@<alias>, or a model folder")


def stance_model_dir(folder: Path) -> Path:
    """The saved StanceModel inside a folder: the folder itself, or the artifact of an MLflow pyfunc model."""
    if (folder / MANIFEST).exists():
        return folder
    if (folder / "MLmodel").exists():
        from mlflow.models import Model

        artifacts = Model.load(folder).flavors.get("python_function", {}).get("artifacts", {})
        if MODEL_ARTIFACT in artifacts:
            return folder / artifacts[MODEL_ARTIFACT]["path"]
        raise ModelReferenceError(f"{folder}: an MLflow model, but not a stance model (no {MODEL_ARTIFACT!r} artifact)")
    raise ModelReferenceError(f"{folder}: not a saved stance model (no {MANIFEST} and no MLmodel)")


def best_run_uri(experiment_name: str, model_name: str | None = None) -> str:
    """`runs:/<id>/model` of the finished run with the highest dev/f_avg_macro that logged a model."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise ModelReferenceError(
            f"model=best: no MLflow experiment {experiment_name!r} at {mlflow.get_tracking_uri()}")
    query = "attributes.status = 'FINISHED'" + (f" and tags.model_name = '{model_name}'" if model_name else "")
    runs = mlflow.search_runs([experiment.experiment_id], filter_string=query,
                              order_by=[f"metrics.`{BEST_METRIC}` DESC"], output_format="list")
    logged = {m.source_run_id for m in mlflow.search_logged_models([experiment.experiment_id], output_format="list")}
    for run in runs:
        if BEST_METRIC in run.data.metrics and run.info.run_id in logged:
            return f"runs:/{run.info.run_id}/model"
    which = f" with model_name={model_name}" if model_name else ""
    raise ModelReferenceError(f"model=best: no finished run{which} with {BEST_METRIC} and a logged model "
                              f"in experiment {experiment_name!r}")


def model_uri(reference: str, experiment_name: str) -> str:
    if reference == "best" or reference.startswith("best:"):
        return best_run_uri(experiment_name, reference.partition(":")[2] or None)
    if RUN_ID.match(reference):
        return f"runs:/{reference}/model"
    if reference.startswith(("runs:/", "models:/")):
        return reference
    raise ModelReferenceError(
        f"model={reference}: not a model folder, an MLflow run id, a runs:/ or models:/ URI, or 'best'")


@contextmanager
def local_model(reference: str, experiment_name: str = "stance", tracking_uri: str | None = None) -> Iterator[Path]:
    """A local folder holding the referenced model, for the duration of the block (downloads are temporary)."""
    path = Path(reference).expanduser()
    if path.exists():
        yield stance_model_dir(path)
        return
    import mlflow
    from mlflow.exceptions import MlflowException

    from stance.training.tracking import use_store

    use_store(tracking_uri)
    uri = model_uri(reference, experiment_name)
    with tempfile.TemporaryDirectory(prefix="stance-model-") as scratch:
        try:
            with environment(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false"):  # the run shows its own progress
                folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=scratch))
        except MlflowException as err:
            raise ModelReferenceError(f"model={reference}: cannot load {uri} from {mlflow.get_tracking_uri()} "
                                      f"({err.message.splitlines()[0]})") from None
        yield stance_model_dir(folder)
