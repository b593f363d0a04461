import json
import subprocess
import sys
from pathlib import Path

from stance.corpus.validate import validate_files

REPO = Path(__file__).resolve().parents[1]
GOOD = {"id": "x1:0", "doc_id": "x1", "text": "Poland offered its MiG-29s.", "labels": {"jet_transfer": "support"}, "source": "test"}


def messages(path):
    return [str(p) for p in validate_files([path])]


def test_gold_label_files_are_valid():
    files = sorted(REPO.glob("labels/*.jsonl"))
    assert files and validate_files(files) == []


def test_seed_gold_covers_every_seed_passage_once():
    from stance.files import read_jsonl
    from stance.corpus.segment import segment_file

    gold_ids = [r["id"] for r in read_jsonl(REPO / "labels" / "seeds.jsonl")]
    seed_ids = [p.id for path in sorted((REPO / "seeds").glob("*.txt")) for p in segment_file(path).passages]
    assert gold_ids == seed_ids


def test_bad_stance_is_reported_with_file_and_line(write_jsonl):
    path = write_jsonl("bad.jsonl", [GOOD, {**GOOD, "id": "x1:1", "labels": {"sanctions": "maybe"}}])
    assert messages(path) == [f"{path}:2: unknown stance 'maybe' for sanctions (expected one of support, reject)"]


def test_unknown_topic_and_missing_field(write_jsonl):
    record = {k: v for k, v in GOOD.items() if k != "source"} | {"labels": {"nfz": "support"}}
    path = write_jsonl("bad.jsonl", [record])
    assert messages(path) == [
        f"{path}:1: missing field(s): source",
        f"{path}:1: unknown topic 'nfz' (expected one of no_fly_zone, jet_transfer, troop_deployment, sanctions)",
    ]


def test_duplicate_id_within_and_across_files(write_jsonl):
    first = write_jsonl("a.jsonl", [GOOD, GOOD])
    second = write_jsonl("b.jsonl", [GOOD])
    found = [str(p) for p in validate_files([first, second])]
    assert found == [
        f"{first}:2: duplicate id 'x1:0' (first at {first}:1)",
        f"{second}:1: duplicate id 'x1:0' (first at {first}:1)",
    ]


def test_broken_json_line_and_empty_text(write_jsonl):
    path = write_jsonl("bad.jsonl", ['{"id": "x1:0", "doc_id": ', {**GOOD, "id": "x1:1", "text": "  "}])
    found = messages(path)
    assert found[0].startswith(f"{path}:1: invalid JSON")
    assert found[1:] == [f"{path}:2: empty text"]


def test_seed_passage_whose_text_drifted_from_the_segmenter(write_jsonl):
    seed = {"id": "003_34c28b5bdff54a87:4", "doc_id": "003_34c28b5bdff54a87", "text": "Blinken replied:", "labels": {}, "source": "seed"}
    missing = {**seed, "id": "003_34c28b5bdff54a87:99"}
    path = write_jsonl("seed.jsonl", [seed, missing])
    assert messages(path) == [
        f"{path}:1: text of '003_34c28b5bdff54a87:4' no longer matches passage 4 of 003_34c28b5bdff54a87.txt as segmented",
        f"{path}:2: id '003_34c28b5bdff54a87:99': the segmenter gives only 6 passages for 003_34c28b5bdff54a87.txt",
    ]


def test_cli_exit_status_and_file_untouched(write_jsonl):
    path = write_jsonl("bad.jsonl", [{**GOOD, "labels": {"sanctions": "maybe"}}])
    before = path.read_bytes()
    bad = subprocess.run([sys.executable, "-m", "stance.cli", "validate", str(path)], capture_output=True, text=True)
    assert bad.returncode == 1 and f"{path}:1: unknown stance" in bad.stdout
    assert path.read_bytes() == before
    good = subprocess.run([sys.executable, "-m", "stance.cli", "validate", str(REPO / "labels" / "seeds.jsonl")], capture_output=True)
    assert good.returncode == 0


def test_empty_file_deep_nesting_invisible_text_and_bad_field_types_are_problems(write_jsonl, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    deep = '{"id": "x1:9", "doc_id": "x1", "text": ' + "[" * 100_000 + "]" * 100_000 + ', "labels": {}, "source": "t"}'
    nested_label = {**GOOD, "id": "x1:8", "labels": {"sanctions": [[[[["support"]]]]]}}
    path = write_jsonl("bad.jsonl", [
        deep, {**GOOD, "id": "x1:1", "text": "\u200b \u200b"}, {**GOOD, "id": 7, "doc_id": 7},
        {**GOOD, "id": "x1:2", "source": None}, {**GOOD, "id": "x1:3", "source": "\u2028"}, nested_label,
        json.dumps({**GOOD, "id": "x1:4", "text": "Line\u2028separated\u0085text is one line."}, ensure_ascii=False)])
    assert [str(p) for p in validate_files([empty, path])] == [
        f"{empty}:0: empty file: no records",
        f"{path}:1: invalid JSON (nested too deeply)",
        f"{path}:2: empty text",
        f"{path}:3: id must be a non-empty string, got 7",
        f"{path}:3: doc_id must be a non-empty string, got 7",
        f"{path}:4: source must be a non-empty string, got None",
        f"{path}:5: source must be a non-empty string, got '\\u2028'",
        f"{path}:6: unknown stance [[[[['support']]]]] for sanctions (expected one of support, reject)",
    ]
