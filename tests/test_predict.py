"""Batch prediction end to end on tiny models: inputs, outputs, errors, model references, atomicity and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SEEDS, read

from stance.corpus.readers import InputError, discover, read_articles
from stance.batch.articles import article_stance
from stance.batch.tables import OutputError
from stance.batch.run import run
from stance.corpus.schema import TOPICS, VALUES
from stance.corpus.segment import segment_file

def test_mixed_folder_gives_passages_articles_errors_and_exit_2(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    result = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/out/p.jsonl"))
    assert result.exit_code == 2
    passages, articles = read(result.paths.passages), read(result.paths.articles)
    expected_seed_ids = [p.id for seed in SEEDS for p in segment_file(seed).passages]
    assert [i for i in passages["id"] if i.split(":")[0] in {s.stem for s in SEEDS}] == expected_seed_ids
    assert set(articles["doc_id"]) == {s.stem for s in SEEDS} | {"page", "t1", "t2", "c1", "p1"}
    assert list(passages.columns[:4]) == ["id", "doc_id", "index", "text"]
    for topic in TOPICS:
        assert set(passages[topic]) <= set(VALUES)
        np.testing.assert_allclose(passages[[f"{topic}_p_{v}" for v in VALUES]].sum(axis=1), 1.0)
    assert articles["passages"].sum() == len(passages) == result.passages
    t1 = articles.set_index("doc_id").loc["t1"]
    assert (t1["date"], t1["source"], t1["passages"]) == ("2022-03-01", "wire", 2)
    assert passages.set_index("id").loc["t1:1", "sanctions"] == "reject"
    errors = [json.loads(line) for line in result.paths.errors.read_text().splitlines()]
    assert {Path(e["path"]).name: e["reason"].split(" ")[0] for e in errors} == {"broken.txt": "looks",
                                                                                  "empty.txt": "empty:"}
    assert not list(result.paths.passages.parent.glob(".*")), "no parts or temporary files are left behind"


def test_each_input_kind_is_read_with_its_metadata(mixed_folder):
    files, errors = discover([mixed_folder])
    assert not errors
    found = {path.name: list(read_articles(path)) for path in files}
    html = found["page.html"][0]
    assert [p.text for p in html.passages][0] == "Allies weigh jets"
    assert "Copyright" not in " ".join(p.text for p in html.passages) and "Home |" not in html.passages[1].text
    assert (html.doc_id, html.date, html.source) == ("page", "2022-03-09", "Example Wire")
    assert [(a.doc_id, len(a.passages), a.date, a.source) for a in found["table.jsonl"]] == [
        ("t1", 2, "2022-03-01", "wire"), ("t2", 1, None, None)]
    assert [(a.doc_id, a.date, a.source) for a in found["table.csv"]] == [("c1", "2022-03-02", "desk")]
    assert [a.passages[0].id for a in found["table.parquet"]] == ["p1:0"]
    assert found["000_60cefe23ae687ba9.txt"][0].date == "2022-03-22"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("bad.jsonl", b'{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', r"bad.jsonl:line 2: invalid JSON"),
    ("cols.jsonl", b'{"doc": "a", "body": "x"}\n', r"cols.jsonl:line 1: no 'id' or 'text' column"),
    ("cols.csv", b"id,body\n1,hello\n", r"cols.csv: no 'text' column \(found \['id', 'body'\]\)"),
    ("latin.csv", b"id,text\n1,fine\n2,caf\xe9\n", r"latin.csv:line 3: not valid UTF-8"),
    ("blank.csv", b"id,text\n1,   \n", r"blank.csv:row 1: empty"),
    ("latin.txt", b"caf\xe9 au lait", r"latin.txt: not valid UTF-8"),
    ("junk.parquet", b"not parquet at all", r"junk.parquet: not a readable Parquet file"),
    ("nothing.html", b"<html><body></body></html>", r"nothing.html: no main text"),
    ("empty.jsonl", b"", r"empty.jsonl: empty"),
])
def test_bad_inputs_are_reported_naming_file_and_line(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    errors = [str(item) for item in read_articles(path) if isinstance(item, InputError)]
    assert errors and any(pytest.importorskip("re").search(expected, e) for e in errors), errors


def test_unsupported_and_missing_inputs_are_errors_and_hidden_files_skipped(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"x")
    (tmp_path / ".hidden.txt").write_text("secret")
    files, errors = discover([tmp_path, tmp_path / "missing.txt"])
    assert files == []
    assert sorted(e.reason.split(" ")[0] for e in errors) == ["no", "unsupported"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_output_format_holds_the_same_tables(compose_predict, tfidf_dir, mixed_folder, tmp_path, suffix):
    first = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/a/p.jsonl"))
    other = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/b/p{suffix}"))
    assert other.paths.articles.name == f"p.articles{suffix}"
    for kind in ("passages", "articles"):
        pd.testing.assert_frame_equal(read(getattr(first.paths, kind)), read(getattr(other.paths, kind)),
                                      check_dtype=False)


def test_plot_and_summary(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    from stance.batch.run import report

    result = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl",
                                 "plot=true"))
    assert result.paths.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(result.summary.index) == list(TOPICS)
    articles = read(result.paths.articles)
    assert result.summary.loc["sanctions", "passages reject"] == articles["sanctions_reject"].sum()
    assert f"{len(articles)} articles, {result.passages} passages" in report(result)


def test_article_stance_rule():
    support = np.array([0.0, 0.9, 0.0, 1.8, 0.9, 0.95])
    reject = np.array([0.0, 0.0, 0.7, 0.9, 0.9, 1.0])
    assert article_stance(support, reject).tolist() == ["absent", "support", "reject", "support", "mixed", "mixed"]


def test_duplicate_doc_ids_are_reported_once_classified_once(compose_predict, tfidf_dir, tmp_path):
    for sub in ("a", "b"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "same.txt").write_text("Hungary blocked the sanctions package.")
    result = run(compose_predict(f"model={tfidf_dir}", f"input={tmp_path}/in", f"output={tmp_path}/out/p.jsonl"))
    assert read(result.paths.articles)["doc_id"].tolist() == ["same"]
    assert [e.reason.split(" ")[0] for e in result.errors] == ["duplicate"]


def test_a_failing_run_leaves_no_output_and_resume_finishes_it(compose_predict, tfidf_dir, mixed_folder, tmp_path,
                                                               monkeypatch):
    from stance.models.baselines import SklearnStanceModel

    cfg = compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/p.parquet",
                          "chunk_passages=10")
    clean = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/clean.parquet"))
    original, calls = SklearnStanceModel.predict_proba, []

    def failing(self, texts):
        calls.append(len(texts))
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return original(self, texts)

    monkeypatch.setattr(SklearnStanceModel, "predict_proba", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg)
    assert not (tmp_path / "p.parquet").exists() and not (tmp_path / "p.articles.parquet").exists()
    monkeypatch.setattr(SklearnStanceModel, "predict_proba", original)
    resumed = run(compose_predict(*[f"{k}={v}" for k, v in [("model", tfidf_dir), ("input", mixed_folder),
                                                            ("output", f"{tmp_path}/p.parquet")]],
                                  "chunk_passages=10", "resume=true"))
    assert resumed.resumed_articles == 3  # page.html + the first seed, then the second seed: two chunks
    for kind in ("passages", "articles"):
        pd.testing.assert_frame_equal(read(getattr(resumed.paths, kind)), read(getattr(clean.paths, kind)))


def test_resume_refuses_other_settings(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    parts = tmp_path / ".p.jsonl.parts"
    parts.mkdir()
    (parts / "run.json").write_text(json.dumps({"model_digest": "another", "runtime": "torch", "quantize": False}))
    with pytest.raises(OutputError, match="resume with the same settings"):
        run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl", "resume=true"))


def test_bad_output_name_fails_before_work(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    with pytest.raises(OutputError, match=r"p\.xlsx: unsupported output format"):
        run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/p.xlsx"))


def _predict_command(model: Path, inputs: list[Path], output: Path, *extra: str) -> list[str]:
    listed = ",".join(f"'{path}'" for path in inputs)
    return [sys.executable, str(REPO / "scripts" / "predict.py"), f"model={model}", f"input=[{listed}]",
            f"output={output}", "chunk_passages=3", "progress=false", f"hydra.run.dir={output.parent}/hydra", *extra]


def test_resume_after_kill_gives_every_article_exactly_once(tfidf_dir, mixed_folder, tmp_path):
    """A run blocked on its last input (a FIFO nobody writes) is killed with SIGKILL, then resumed."""
    fifo = tmp_path / "zz_stalled.txt"
    os.mkfifo(fifo)
    output = tmp_path / "out" / "p.jsonl"
    killed = subprocess.Popen(_predict_command(tfidf_dir, [mixed_folder, fifo], output),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = output.parent / ".p.jsonl.parts"
    deadline = time.monotonic() + 90
    while len(list(parts.glob("articles-*.parquet"))) < 3 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read()
    assert not output.exists() and not output.with_name("p.articles.jsonl").exists()
    fifo.unlink()
    fifo.write_text("")  # now an ordinary empty file: one more input error
    done = subprocess.run(_predict_command(tfidf_dir, [mixed_folder, fifo], output, "resume=true"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "kept from the interrupted run" in done.stdout
    articles, passages = read(output.with_name("p.articles.jsonl")), read(output)
    assert articles["doc_id"].is_unique and passages["id"].is_unique
    assert set(articles["doc_id"]) == {s.stem for s in SEEDS} | {"page", "t1", "t2", "c1", "p1"}
    assert articles["passages"].sum() == len(passages)
    assert not parts.exists()


def test_stance_predict_command_runs_the_same_engine(tfidf_dir, mixed_folder, tmp_path):
    from typer.testing import CliRunner

    from stance.cli import app

    output = tmp_path / "cli" / "p.csv"
    result = CliRunner().invoke(app, ["predict", str(mixed_folder), "--output", str(output), "--model",
                                      str(tfidf_dir), "--set", "progress=false", "--set", f"output_dir={tmp_path}"])
    assert result.exit_code == 2, result.output
    assert len(read(output.with_name("p.articles.csv"))) == 10
