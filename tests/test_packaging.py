"""The wheel and the logged models work outside this checkout: a fresh virtual environment, another folder.

Slow (a venv with torch and the wheel's dependencies takes about two minutes to install): `pytest -m slow`.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new venv holding torch (CPU) and the project's wheel: no editable install, no checkout on its path."""
    scratch = tmp_path_factory.mktemp("packaging")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(scratch / "dist"), str(REPO)],
                   check=True, capture_output=True)
    wheel = next((scratch / "dist").glob("*.whl"))
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU build first, so nothing pulls a CUDA one
    subprocess.run([*pip, str(wheel)], check=True)
    return venv


@pytest.fixture
def outside(tmp_path, fresh_venv, monkeypatch):
    """Run commands of the fresh venv from a folder outside the checkout, with a store of their own."""
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{fresh_venv / 'bin'}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db", "PYTHONPATH": ""}

    def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(list(command), cwd=tmp_path, env=env, capture_output=True, text=True, **kwargs)

    run.env = env
    return run


def _logged_tfidf_model(tmp_path: Path) -> tuple[str, Path]:
    """A TF-IDF model fitted on the seed labels, logged like a training run logs it, and saved as a folder."""
    import mlflow

    from stance.models.baselines import tfidf_logreg
    from stance.training import tracking
    from stance.training.data import Corpus

    corpus = Corpus.from_files([REPO / "labels" / "seeds.jsonl"])
    model = tfidf_logreg().fit(corpus.texts, corpus.labels)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("packaging")
    with mlflow.start_run() as run:
        tracking.log_model(model, corpus.texts, register=False)
    model.save(tmp_path / "model_folder")
    return f"runs:/{run.info.run_id}/model", tmp_path / "model_folder"


def test_installed_wheel_validates_and_predicts_outside_the_checkout(outside, tmp_path):
    record = {"id": "n1:0", "doc_id": "n1", "text": "NATO ruled out a no-fly zone.",
              "labels": {"no_fly_zone": "reject"}, "source": "analyst"}
    (tmp_path / "labels.jsonl").write_text(json.dumps(record) + "\n")
    validated = outside("stance", "validate", "labels.jsonl")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "ok: 1 file(s) valid" in validated.stdout

    _, folder = _logged_tfidf_model(tmp_path)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a1.txt").write_text("NATO rules out no-fly zone\n\nThe EU adopted sanctions on banks.\n")
    predicted = outside("stance", "predict", "articles", "-o", "out/p.jsonl", "--model", str(folder))
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "out" / "p.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["a1:0", "a1:1"]
    assert {"no_fly_zone", "sanctions_p_support"} <= set(rows[0])


def test_logged_model_loads_and_serves_without_the_project_installed_from_source(outside, tmp_path):
    uri, _ = _logged_tfidf_model(tmp_path)
    script = ("import mlflow.pyfunc, pandas as pd, stance\n"
              f"model = mlflow.pyfunc.load_model({uri!r})\n"
              "out = model.predict(pd.DataFrame({'text': ['Poland offered its MiG-29 jets to Ukraine.']}))\n"
              "print(list(out.columns)[:4], stance.__file__)\n")
    loaded = outside("python", "-c", script)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "['no_fly_zone', 'jet_transfer', 'troop_deployment', 'sanctions']" in loaded.stdout
    assert str(REPO) not in loaded.stdout  # the stance it ran is the model's own copy or the wheel, not the checkout

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["mlflow", "models", "serve", "-m", uri, "--env-manager", "local", "-h", "127.0.0.1",
                               "-p", str(port)], cwd=tmp_path, env=outside.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [["The EU adopted new sanctions."]]}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    predictions = json.loads(response.read())["predictions"]
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "mlflow models serve did not answer within 120 s"
                time.sleep(1)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    assert len(predictions) == 1
    assert {"no_fly_zone", "jet_transfer", "troop_deployment", "sanctions", "sanctions_p_support"} <= set(predictions[0])
