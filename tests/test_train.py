from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from stance.corpus.schema import TOPICS
from stance.training.data import Corpus
from stance.training.evaluation import make_splits
from stance.training.run import run


def latest_parent_run():
    runs = mlflow.search_runs(experiment_names=["stance"], filter_string="tags.mlflow.parentRunId IS NULL",
                              order_by=["start_time DESC"])
    return runs.iloc[0]


def test_baseline_run_end_to_end(compose_train):
    metrics = run(compose_train("model=tfidf_logreg", "trainer.n_splits=3"))
    assert 0.0 <= metrics["cv/f_avg_macro"] <= 1.0

    parent = latest_parent_run()
    assert parent["status"] == "FINISHED"
    assert parent["params.model._target_"] == "stance.models.baselines.tfidf_logreg"
    assert parent["params.seed"] == "0" and parent["tags.mlflow.runName"] == "tfidf_logreg-kfold-seed0"
    assert parent["tags.model_family"] == "sklearn"
    assert parent["tags.n_passages"] == "48" and parent["tags.n_seed_passages"] == "12"
    assert len(parent["tags.label_digest"]) == 16 and parent["tags.git_dirty"] in ("true", "false")
    for name in ["cv/f_avg_macro", "cv/f_avg_macro_std", "seed_only/f_avg_macro", "train/seconds",
                 "dev/f_avg_macro", "dev/f_avg_pooled", *[f"dev/f_avg/{t}" for t in TOPICS],
                 *[f"cv/f_avg/{t}" for t in TOPICS], *[f"cv/topic_f1/{t}" for t in TOPICS]]:
        assert f"metrics.{name}" in parent and not np.isnan(parent[f"metrics.{name}"]), name

    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(parent.run_id)}
    assert {"config.yaml", "classification_report.json", "topic_f1.png", "out_of_fold_predictions.csv",
            "confusion", "dev_predictions.csv"} <= artifacts
    assert {a.path for a in client.list_artifacts(parent.run_id, "confusion")} == {f"confusion/{t}.png" for t in TOPICS}
    children = mlflow.search_runs(experiment_names=["stance"], filter_string=f"tags.mlflow.parentRunId = '{parent.run_id}'")
    assert len(children) == 3 and "metrics.fold/f_avg_macro" in children

    oof = pd.read_csv(mlflow.artifacts.download_artifacts(run_id=parent.run_id, artifact_path="out_of_fold_predictions.csv"))
    assert len(oof) == 48 and list(oof["errors"]) == sorted(oof["errors"], reverse=True)

    model = mlflow.pyfunc.load_model(f"runs:/{parent.run_id}/model")
    predicted = model.predict(pd.DataFrame({"text": ["Hungary blocked the sanctions package.", "Refugees crossed."]}))
    assert list(predicted.columns[:4]) == list(TOPICS)
    assert predicted.loc[0, "sanctions"] == "reject"
    probabilities = predicted[[f"sanctions_p_{v}" for v in ("absent", "support", "reject")]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_dev_only_evaluation_fits_once_and_scores_the_dev_set(compose_train, toy_label_files):
    seeds = toy_label_files[0]
    metrics = run(compose_train("model=tfidf_logreg", "trainer=none", "logger.log_model=false",
                                f"data.dev_files=['{seeds}']", f"data.files=['{toy_label_files[1]}']"))
    assert not any(name.startswith("cv/") for name in metrics)
    assert 0.0 <= metrics["dev/f_avg_macro"] <= 1.0
    assert latest_parent_run()["tags.n_dev_passages"] == "12"


def test_a_dev_article_among_the_training_articles_is_refused_before_any_run(compose_train, toy_label_files):
    overlapping = f"data.dev_files=['{toy_label_files[0]}']"
    with pytest.raises(ValueError, match="must never be trained on"):
        run(compose_train("model=tfidf_logreg", overlapping))
    assert mlflow.search_runs(experiment_names=["stance"]).empty


def test_register_adds_a_model_version(compose_train):
    run(compose_train("model=tfidf_logreg", "register=true", "trainer.n_splits=2"))
    versions = mlflow.MlflowClient().search_model_versions("name='stance-classifier'")
    assert len(versions) == 1


def test_crash_marks_the_run_failed(compose_train):
    with pytest.raises(ValueError):
        run(compose_train("model=tfidf_logreg", "model.C=-1.0", "trainer.n_splits=2"))
    assert latest_parent_run()["status"] == "FAILED"


def test_holdout_holds_out_every_seed_article_and_splits_by_article(toy_label_files, compose_train):
    corpus = Corpus.from_files(toy_label_files)
    cfg = compose_train("trainer=holdout")
    [(train, valid)] = make_splits(cfg.trainer, corpus, seed=0)
    assert set(np.flatnonzero(corpus.sources == "seed")) <= set(valid)
    assert set(corpus.doc_ids[train]).isdisjoint(corpus.doc_ids[valid])
    assert len(train) > 0 and len(train) + len(valid) == len(corpus.texts)


def test_transformer_run_end_to_end_logs_epoch_losses_and_a_loadable_model(compose_train, tiny_encoder):
    """model=distilbert with a tiny random encoder: hold-out evaluation, loss curves, safetensors model."""
    metrics = run(compose_train("model=distilbert", f"model.pretrained={tiny_encoder}", "model.epochs=2",
                                "model.batch_size=8", "model.freeze_word_embeddings=false"))
    assert 0.0 <= metrics["seed_only/f_avg_macro"] <= 1.0

    parent = latest_parent_run()
    assert parent["tags.evaluation"] == "holdout" and parent["tags.model_family"] == "transformer"
    client = mlflow.MlflowClient()
    for name in ("train/loss", "valid/loss"):
        # one point per epoch for the hold-out fit (child run) and for the final fit (parent run)
        assert [m.step for m in client.get_metric_history(parent.run_id, name)] == [1, 2]
    [child] = mlflow.search_runs(experiment_names=["stance"],
                                 filter_string=f"tags.mlflow.parentRunId = '{parent.run_id}'").itertuples()
    assert [m.step for m in client.get_metric_history(child.run_id, "valid/loss")] == [1, 2]

    saved = Path(mlflow.artifacts.download_artifacts(f"runs:/{parent.run_id}/model")) / "artifacts" / "stance_model"
    assert (saved / "stance_network.safetensors").exists()
    assert not [p.name for p in saved.rglob("*") if p.suffix in (".pkl", ".pickle", ".bin", ".pt")]
    predicted = mlflow.pyfunc.load_model(f"runs:/{parent.run_id}/model").predict(
        pd.DataFrame({"text": ["Hungary blocked the sanctions package.", "Refugees crossed."]}))
    assert predicted.shape == (2, len(TOPICS) * 4)


def test_multirun_sweep_logs_one_tagged_run_per_job(tmp_path, toy_label_files):
    """`-m model=a,b seed=0,1` through the real script: four MLflow runs sharing one sweep tag."""
    import subprocess
    import sys

    from tests.conftest import REPO

    files = ",".join(f"'{p}'" for p in toy_label_files)
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train.py"), "-m", "model=tfidf_logreg,tfidf_svm", "seed=0,1",
         f"data.files=[{files}]", "trainer.n_splits=2", "logger.log_model=false", f"paths.output_dir={tmp_path}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = mlflow.search_runs(experiment_names=["stance"], filter_string="tags.mlflow.parentRunId IS NULL")
    assert len(runs) == 4 and runs["tags.sweep"].nunique() == 1
    assert sorted(zip(runs["tags.model_name"], runs["params.seed"])) == [
        ("tfidf_logreg", "0"), ("tfidf_logreg", "1"), ("tfidf_svm", "0"), ("tfidf_svm", "1")]
    assert set(runs["status"]) == {"FINISHED"}
