"""Training refuses label files it cannot use before any MLflow run exists, and a killed run is marked FAILED."""

import json
import os
import signal
import subprocess
import sys

import mlflow
import pytest
from conftest import REPO

from stance.training.data import LabelError
from stance.training.run import run


def no_runs() -> bool:
    return mlflow.search_runs(search_all_experiments=True).empty


@pytest.mark.parametrize(("broken", "expected"), [
    ("", r"seed.jsonl:0: empty file"),
    ('{"id": "s00:0", "doc_id": "s00", "text": null, "labels": {}, "source": "seed"}\n',
     r"seed.jsonl:1: empty text"),
    ('{"id": "s00:0", "doc_id": "s00", "text": "x", "labels": {}}\n', r"seed.jsonl:1: missing field\(s\): source"),
    ('{"id": "s00:0", "doc_id": "s00", "text": "x", "labels": {"no_fly_zones": "support"}, "source": "seed"}\n',
     r"seed.jsonl:1: unknown topic 'no_fly_zones'"),
])
def test_invalid_label_files_are_refused_with_file_and_line(compose_train, toy_label_files, broken, expected):
    toy_label_files[0].write_text(broken)
    with pytest.raises(LabelError, match=expected):
        run(compose_train("model=tfidf_logreg"))
    assert no_runs()


def test_too_few_articles_for_the_folds_and_no_labels_are_refused(compose_train, toy_label_files):
    with pytest.raises(LabelError, match=r"12 article\(s\) are too few for kfold evaluation, which needs at least 20"):
        run(compose_train("model=tfidf_logreg", "trainer.n_splits=20"))
    for path in toy_label_files:
        records = [json.loads(line) | {"labels": {}} for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(LabelError, match="none of the 48 passages has a label"):
        run(compose_train("model=tfidf_logreg", "trainer.n_splits=2"))
    assert no_runs()


CHILD = """
import sys, time
from hydra import compose, initialize_config_dir
from stance.config import register_resolvers
from stance.training import run as training

def stalled(*args, **kwargs):
    print("running", flush=True)
    time.sleep(120)

training.cross_validate = stalled
register_resolvers()
with initialize_config_dir(config_dir=sys.argv[1], version_base="1.3"):
    cfg = compose("train", overrides=sys.argv[2:])
training.run(cfg)
"""


def test_sigterm_marks_the_run_failed(tmp_path, toy_label_files):
    files = ",".join(f"'{p}'" for p in toy_label_files)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO / "configs"), f"data.files=[{files}]",
                              f"paths.output_dir={tmp_path}/outputs", "model=tfidf_logreg", "trainer.n_splits=2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout.readline().strip() == "running", child.stderr.read()[-2000:]
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == 128 + signal.SIGTERM
    [status] = mlflow.search_runs(experiment_names=["stance"])["status"]
    assert status == "FAILED"
