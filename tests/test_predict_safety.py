"""Batch prediction never loses or overwrites data: locked outputs, outputs apart from inputs, every bad row
an error entry and every good one classified, problems found before the model loads."""

import json
import logging
import os
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import read

from stance.batch.run import run
from stance.batch.summary import MAX_MONTHS, Totals, monthly, save_plot
from stance.batch.tables import OutputError, OutputPaths
from stance.corpus.readers import InputArticle, InputError, discover, read_articles
from stance.corpus.schema import STANCES, TOPICS
from stance.files import LockedError, exclusive_lock


def _errors(result) -> dict[str, str]:
    return {f"{os.path.basename(e['path'])}:{e['where']}": e["reason"]
            for e in map(json.loads, result.paths.errors.read_text().splitlines())}


def test_a_second_run_on_the_same_output_is_refused(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    output = tmp_path / "out" / "p.jsonl"
    with exclusive_lock(OutputPaths.beside(output).lock, str(output)):  # another run, in the middle of its work
        with pytest.raises(LockedError, match=rf"{output} is being written by another run \(pid {os.getpid()}"):
            run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={output}"))
    assert not output.exists()


def test_a_stale_lock_of_a_dead_run_is_taken_over(compose_predict, tfidf_dir, mixed_folder, tmp_path, caplog):
    output = tmp_path / "out" / "p.jsonl"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = OutputPaths.beside(output).lock
    lock.parent.mkdir()
    lock.write_text(f"pid {dead.stdout.strip()} on {os.uname().nodename}\n")  # a killed run's file, unlocked
    with caplog.at_level(logging.WARNING):
        result = run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={output}"))
    assert len(read(result.paths.articles)) == 10
    assert f"taking over the lock of a run that is gone (pid {dead.stdout.strip()}" in caplog.text
    assert not lock.exists()


def test_the_lock_is_held_across_processes(tmp_path):
    lock = tmp_path / ".p.jsonl.lock"
    holder = subprocess.Popen([sys.executable, "-c", f"""
from pathlib import Path
import sys, time
from stance.files import exclusive_lock
with exclusive_lock(Path({str(lock)!r}), "p.jsonl"):
    print("held", flush=True)
    time.sleep(30)
"""], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=rf"pid {holder.pid} on"):
            with exclusive_lock(lock, "p.jsonl"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive_lock(lock, "p.jsonl"):  # its process is gone: the kernel released the lock
        pass


def test_outputs_never_overwrite_or_lie_inside_inputs(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    table = mixed_folder / "table.jsonl"
    before = table.read_bytes()
    with pytest.raises(OutputError, match="table.jsonl: is also an input"):
        run(compose_predict(f"model={tfidf_dir}", f"input={table}", f"output={table}"))
    with pytest.raises(OutputError, match=r"out/p.jsonl: lies inside the input folder"):
        run(compose_predict(f"model={tfidf_dir}", f"input={mixed_folder}", f"output={mixed_folder}/out/p.jsonl"))
    assert table.read_bytes() == before
    assert not (mixed_folder / "out").exists() or not any((mixed_folder / "out").iterdir())


def test_unwritable_outputs_fail_before_the_model_loads(compose_predict, mixed_folder, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    for option in (f"output={tmp_path}/a_file/p.jsonl", f"errors={tmp_path}/a_file/errors.jsonl"):
        with pytest.raises(OutputError, match="a_file: cannot write there"):  # no model is named: it never loads
            run(compose_predict("model=/no/such/model", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl",
                                option))


def test_csv_bad_rows_are_errors_with_their_line_and_every_good_row_is_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'id,text,date\n'
                     b'a,Hungary blocked the sanctions package.,2022-03-01\n'
                     b'b,caf\xe9 au lait,2022-03-01\n'
                     b'c,too,many,fields,here\n'
                     b'd,"NATO ruled out a no-fly zone,\nagain.",\n'
                     b'\n'
                     b'e,Poland offered jets.\n')
    items = list(read_articles(path))
    assert [item.doc_id for item in items if isinstance(item, InputArticle)] == ["a", "d", "e"]
    assert [(e.where, e.reason.split(";")[0]) for e in items if isinstance(e, InputError)] == [
        ("line 3", "not valid UTF-8"), ("line 4", "malformed CSV row: 5 fields, the header has 3")]


def test_hostile_jsonl_rows_become_errors_and_resume_gets_past_them(compose_predict, tfidf_dir, tmp_path,
                                                                    monkeypatch):
    from stance.models.baselines import SklearnStanceModel

    (tmp_path / "in").mkdir()
    rows = [json.dumps({"id": f"g{i}", "text": "Hungary blocked the sanctions package."}) for i in range(6)]
    rows[1] = '{"id": "s1", "text": "lone \\ud800 surrogate"}'
    rows[3] = '{"id": "n1", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    rows[4] = '{"id": {"nested": 1}, "text": "an id that is an object"}'
    (tmp_path / "in" / "rows.jsonl").write_text("\n".join(rows) + "\n")
    cfg = [f"model={tfidf_dir}", f"input={tmp_path}/in", f"output={tmp_path}/out/p.jsonl", "chunk_passages=1"]
    original, calls = SklearnStanceModel.predict_proba, []

    def failing(self, texts):
        calls.append(texts)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original(self, texts)

    monkeypatch.setattr(SklearnStanceModel, "predict_proba", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(compose_predict(*cfg))
    monkeypatch.setattr(SklearnStanceModel, "predict_proba", original)
    result = run(compose_predict(*cfg, "resume=true"))
    assert result.exit_code == 2
    assert read(result.paths.articles)["doc_id"].tolist() == ["g0", "g2", "g5"]
    errors = _errors(result)
    assert errors["rows.jsonl:line 2"].startswith("contains a lone surrogate")
    assert errors["rows.jsonl:line 4"] == "invalid JSON (nested too deeply)"
    assert errors["rows.jsonl:line 5"].startswith("'id' must be a string or an integer")


def test_a_rerun_without_resume_warns_that_it_discards_parts(compose_predict, tfidf_dir, mixed_folder, tmp_path,
                                                            monkeypatch, caplog):
    from stance.models.baselines import SklearnStanceModel

    cfg = [f"model={tfidf_dir}", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl", "chunk_passages=10"]
    original = SklearnStanceModel.predict_proba
    calls = []
    monkeypatch.setattr(SklearnStanceModel, "predict_proba",
                        lambda self, texts: calls.append(1) or (original(self, texts) if len(calls) < 2 else 1 / 0))
    with pytest.raises(ZeroDivisionError):
        run(compose_predict(*cfg))
    monkeypatch.setattr(SklearnStanceModel, "predict_proba", original)
    with caplog.at_level(logging.WARNING):
        run(compose_predict(*cfg))
    assert "discarding 1 committed chunk(s) of an interrupted run, as resume=true was not given" in caplog.text


def test_link_loops_broken_links_and_fifos_are_input_errors(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("Hungary blocked the sanctions package.")
    (folder / "sub" / "up").symlink_to(folder)  # a folder loop
    (folder / "self.txt").symlink_to(folder / "self.txt")  # a file loop
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "linked").symlink_to(folder / "sub")  # a link to a folder is followed
    os.mkfifo(folder / "pipe.txt")
    files, errors = discover([folder])
    assert [p.relative_to(folder).as_posix() for p in files] == ["linked/a.txt", "sub/a.txt"]
    assert {os.path.relpath(e.path, folder): e.reason.split(" (")[0] for e in errors} == {
        "gone.txt": "broken symbolic link", "self.txt": "symbolic link loop", "pipe.txt": "not a regular file",
        "linked/up": "symbolic link loop", "sub/up": "symbolic link loop"}


def test_plot_of_dates_across_centuries_is_fast_and_keeps_the_busy_months(tmp_path):
    columns = [f"{topic}_{stance}" for topic in TOPICS for stance in STANCES]
    dates = ["1900-01-01", "2100-06-01", "2022-03-01", "2022-03-05", "2022-04-01", "not a date", "2023-01-02"]
    by_date = pd.DataFrame([[1] * len(columns)] * len(dates), index=dates, columns=columns)
    months, hidden = monthly(by_date)
    assert (str(months.index[0]), str(months.index[-1]), len(months)) == ("2022-03", "2023-01", 11)
    assert hidden == 2 * len(columns)
    start = time.monotonic()
    save_plot(Totals(articles=7, passages=56, by_date=by_date), tmp_path / "p.png")
    assert time.monotonic() - start < 10 and (tmp_path / "p.png").stat().st_size < 500_000
    wide = pd.DataFrame([[1] * len(columns)] * 600, index=pd.date_range("1950-01-01", periods=600, freq="MS")
                        .strftime("%Y-%m-%d"), columns=columns)
    assert len(monthly(wide)[0]) == MAX_MONTHS


def test_every_bad_input_at_once_beside_10000_good_articles(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    """The issue's acceptance run: each good article classified exactly once, each bad input one error entry."""
    folder = mixed_folder  # five seeds, a page, three tables, a binary and an empty file
    good = [{"id": f"g{i}", "text": f"Hungary blocked sanctions package {i}."} for i in range(10_000)]
    lines = [json.dumps(row) for row in good]
    lines[10:10] = ['{"id": "s1", "text": "lone \\ud800"}', '{"id": "n1", "text": ' + "[" * 50_000 + "]" * 50_000 + "}",
                    '{"id": "x", "text": ', b"\xff\xfe not utf-8".decode("latin-1")]
    (folder / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "rows.csv").write_bytes(b"id,text\nc9,Poland offered jets.\nc10,caf\xe9\nc11,a,b,c\nc12,More troops.\n")
    (folder / "loop").symlink_to(folder)
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    result = run(compose_predict(f"model={tfidf_dir}", f"input={folder}", f"output={tmp_path}/out/p.parquet"))
    articles = read(result.paths.articles)
    expected = {f"g{i}" for i in range(10_000)} | {"c9", "c12"} | {"000_60cefe23ae687ba9", "page", "t1", "t2", "c1",
                                                                   "p1"}
    assert articles["doc_id"].is_unique and expected <= set(articles["doc_id"])
    assert len(articles) == len(expected) + 4  # the other four seeds
    errors = _errors(result)
    assert {key for key in errors if key.startswith(("many", "rows"))} == {
        "many.jsonl:line 11", "many.jsonl:line 12", "many.jsonl:line 13", "many.jsonl:line 14",
        "rows.csv:line 3", "rows.csv:line 4"}
    assert {"loop:None", "gone.txt:None", "broken.txt:None", "empty.txt:None"} <= set(errors)


def test_an_unexpected_failure_is_one_error_and_the_other_rows_are_read(tmp_path, monkeypatch):
    from stance.corpus import readers

    original = readers.segment_text

    def fragile(text, doc_id):
        if "boom" in text:
            raise IndexError("a segmenter bug")
        return original(text, doc_id)

    monkeypatch.setattr(readers, "segment_text", fragile)
    table = tmp_path / "t.jsonl"
    table.write_text("".join(json.dumps({"id": f"r{i}", "text": text}) + "\n"
                             for i, text in enumerate(["Fine.", "boom", "Also fine."])))
    single = tmp_path / "boom.txt"
    single.write_text("boom")
    articles, errors = [], []
    for path in (table, single):
        for item in read_articles(path):
            (errors if isinstance(item, InputError) else articles).append(item)
    assert [a.doc_id for a in articles] == ["r0", "r2"]
    assert [(os.path.basename(e.path), e.where, e.reason) for e in errors] == [
        ("t.jsonl", "line 2", "cannot read this row (IndexError: a segmenter bug)"),
        ("boom.txt", None, "cannot read (IndexError: a segmenter bug); the rest of this file is skipped")]


def test_a_file_name_that_is_not_utf8_is_an_error_and_the_run_finishes(compose_predict, tfidf_dir, tmp_path):
    folder = tmp_path / "in"
    (folder / os.fsdecode(b"sub\xe9")).mkdir(parents=True)
    (folder / os.fsdecode(b"sub\xe9") / "a.txt").write_text("Hungary blocked the sanctions package.")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Poland offered jets.")
    (folder / "ok.txt").write_text("Poland offered jets.")
    result = run(compose_predict(f"model={tfidf_dir}", f"input={folder}", f"output={tmp_path}/out/p.jsonl"))
    assert read(result.paths.articles)["doc_id"].tolist() == ["ok"]
    assert {os.path.relpath(e["path"], str(folder)): e["reason"]
            for e in map(json.loads, result.paths.errors.read_text().splitlines())} == {
        "caf\\xe9.txt": "file name is not valid UTF-8; rename the file",
        "sub\\xe9/a.txt": "file name is not valid UTF-8; rename the file"}
