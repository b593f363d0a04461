"""Every way of naming a model for prediction resolves to the right saved model, against a per-test MLflow store."""

import mlflow
import numpy as np
import pytest
from conftest import TOY_PASSAGES

from stance.batch.model_ref import ModelReferenceError, local_model
from stance.models import load_model
from stance.corpus.schema import TOPICS, VALUES

TEXTS = [text for text, _ in TOY_PASSAGES] * 3
LABELS = np.array([[VALUES.index(labels.get(t, "absent")) for t in TOPICS] for _, labels in TOY_PASSAGES] * 3)


def _log(C: float, score: float, register: bool) -> str:
    """One finished run with a metric and a logged (optionally registered) TF-IDF model; returns its run id."""
    from stance.training import tracking
    from stance.models.baselines import tfidf_logreg

    with mlflow.start_run() as run:
        mlflow.set_tag("model_name", f"C{C:g}")
        mlflow.log_metric("dev/f_avg_macro", score)
        tracking.log_model(tfidf_logreg(C=C).fit(TEXTS, LABELS), TEXTS, register=register)
    return run.info.run_id


@pytest.fixture
def store():
    """Two finished runs (C=1 scores higher, C=4 is registered twice: versions 1 and 2) and one failed run."""
    mlflow.set_experiment("stance")
    runs = {"low": _log(4.0, 0.4, register=True), "high": _log(1.0, 0.6, register=False)}
    _log(4.0, 0.9, register=True)
    failed = mlflow.search_runs(output_format="list", order_by=["metrics.`dev/f_avg_macro` DESC"])[0].info.run_id
    mlflow.MlflowClient().set_terminated(failed, status="FAILED")  # the best score, but the run did not finish
    mlflow.MlflowClient().set_registered_model_alias("stance-classifier", "champion", "1")
    return runs


BAD_REFERENCES = [
    ("nonsense", r"model=nonsense: not a model folder, an MLflow run id"),
    ("0" * 32, r"model=0{32}: cannot load runs:/0{32}/model"),
    ("models:/stance-classifier/9", r"cannot load models:/stance-classifier/9"),
    ("best:distilbert", r"no finished run with model_name=distilbert"),
]


def _C(reference: str) -> float:
    with local_model(reference) as folder:
        return load_model(folder).classifier.C


def test_every_reference_kind_and_bad_ones(store, tmp_path):
    low, high = store["low"], store["high"]
    assert _C(low) == 4.0 and _C(high) == 1.0
    assert _C(f"runs:/{high}/model") == 1.0
    assert _C("models:/stance-classifier/1") == 4.0
    assert _C("models:/stance-classifier@champion") == 4.0
    assert _C("best") == 1.0  # the failed run's higher score does not count
    assert _C("best:C4") == 4.0
    downloaded = mlflow.artifacts.download_artifacts(f"runs:/{high}/model", dst_path=str(tmp_path))
    assert _C(downloaded) == 1.0  # an MLflow model folder
    from stance.models.baselines import tfidf_logreg

    tfidf_logreg(C=2.0).fit(TEXTS, LABELS).save(tmp_path / "plain")
    assert _C(str(tmp_path / "plain")) == 2.0  # a saved-model folder
    for reference, message in BAD_REFERENCES:  # the same store: logging models takes seconds
        with pytest.raises(ModelReferenceError, match=message):
            _C(reference)


def test_best_in_an_empty_store_says_so():
    with pytest.raises(ModelReferenceError, match="no MLflow experiment 'stance'"):
        _C("best")


def test_a_folder_that_is_no_model(tmp_path):
    with pytest.raises(ModelReferenceError, match="not a saved stance model"):
        _C(str(tmp_path))
