"""A user mistake ends in one `error:` line and a hint, never a traceback, unless one is asked for."""

import os
import subprocess
import sys

import pytest
from conftest import REPO, read

from stance.cli import main
from stance.files import JsonlError


def _script(name: str, *overrides: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / name), *overrides], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_predict_script_mistakes_are_one_line_with_a_hint(tmp_path, mixed_folder):
    hydra_dir = f"hydra.run.dir={tmp_path}/hydra"
    missing = _script("predict.py", f"input={mixed_folder}", hydra_dir)
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[0] == "error: the option output= is required"
    assert "Traceback" not in missing.stderr

    bad_model = _script("predict.py", "model=/no/such/model", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl",
                        hydra_dir)
    assert bad_model.returncode == 1 and "Traceback" not in bad_model.stderr
    assert bad_model.stderr.startswith("error: model=/no/such/model: not a model folder")
    assert "\nhint: model= takes best" in bad_model.stderr

    traced = _script("predict.py", "model=/no/such/model", f"input={mixed_folder}", f"output={tmp_path}/p.jsonl",
                     hydra_dir, env={"HYDRA_FULL_ERROR": "1"})
    assert traced.returncode == 1 and "Traceback" in traced.stderr and "ModelReferenceError" in traced.stderr


def test_train_script_reports_bad_labels_in_one_message(tmp_path, toy_label_files):
    toy_label_files[0].write_text('{"id": "s00:0"\n')
    files = ",".join(f"'{p}'" for p in toy_label_files)
    result = _script("train.py", f"data.files=[{files}]", f"paths.output_dir={tmp_path}", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: 1 problem(s) in the label files" in result.stderr
    assert f"{toy_label_files[0]}:1: invalid JSON" in result.stderr


def test_stance_cli_mistakes_and_debug(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": \n')
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", str(bad)])
    assert exit_info.value.code == 1
    first, hint = capsys.readouterr().err.splitlines()[:2]
    assert first.startswith(f"error: {bad}:1: invalid JSON (Expecting value")
    assert hint == "hint: `stance validate <file>` lists every problem of a label file"
    with pytest.raises(JsonlError):
        main(["--debug", "stats", str(bad)])


def test_stance_predict_takes_paths_with_quotes_and_brackets(tmp_path, tfidf_dir):
    folder = tmp_path / "it's [odd], ${x}"
    folder.mkdir()
    (folder / "a.txt").write_text("Hungary blocked the sanctions package.")
    output = tmp_path / "out's" / "p.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(folder), "--output", str(output), "--model", str(tfidf_dir), "--set", "progress=false",
              "--set", f"output_dir={tmp_path}"])
    assert exit_info.value.code == 0
    assert read(output)["doc_id"].tolist() == ["a"]
    assert read(output.with_name("p.articles.jsonl"))["file"].tolist() == [str(folder / "a.txt")]
