from pathlib import Path

import pytest

from stance.corpus.segment import SegmentError, segment_file, segment_text

REPO = Path(__file__).resolve().parents[1]


def texts(article):
    return [p.text for p in article.passages]


def test_dateline_is_metadata_not_text():
    article = segment_text(" date 2022-03-22 Biden arrived.\n\nHe met allies.\n", "doc")
    assert article.date == "2022-03-22"
    assert texts(article) == ["Biden arrived.", "He met allies."]
    assert [p.id for p in article.passages] == ["doc:0", "doc:1"]
    assert [p.index for p in article.passages] == [0, 1]


def test_headline_on_its_own_line_becomes_passage_zero():
    article = segment_text("NATO Rules Out No-Fly Zone\nThe alliance said no on Friday.\n\nMore text.", "d")
    assert texts(article) == ["NATO Rules Out No-Fly Zone", "The alliance said no on Friday.", "More text."]


def test_first_line_that_is_a_sentence_is_not_split_off():
    article = segment_text("The alliance said no.\nIt repeated that later.\n\nMore.", "d")
    assert texts(article) == ["The alliance said no.\nIt repeated that later.", "More."]


def test_crlf_trailing_whitespace_and_many_blank_lines():
    raw = "First paragraph.  \r\n\r\n\r\n   \r\n\tSecond paragraph.\t\r\n\r\n"
    assert texts(segment_text(raw, "d")) == ["First paragraph.", "Second paragraph."]


def test_article_without_blank_lines_is_one_passage_per_line():
    article = segment_text("Headline here\nFirst line.\nSecond line.\n", "d")
    assert texts(article) == ["Headline here", "First line.", "Second line."]


def test_leading_date_paragraph_is_a_dateline_but_a_later_one_is_text():
    assert segment_text("March 2, 2022\n\nBody.", "d").date == "2022-03-02"
    assert texts(segment_text("March 2, 2022\n\nBody.", "d")) == ["Body."]
    later = segment_text("A Headline\n\nMarch 2, 2022\n\nBody.", "d")
    assert later.date is None
    assert texts(later) == ["A Headline", "March 2, 2022", "Body."]


def test_empty_file_gives_zero_passages(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n")
    article = segment_file(path)
    assert article.passages == [] and article.doc_id == "empty"


def test_non_utf8_is_a_clear_error_naming_the_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Sanktionen gegen Russland: Au\xdferdem".encode("latin-1"))
    with pytest.raises(SegmentError, match=r"latin1\.txt: not valid UTF-8"):
        segment_file(path)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x89PNG\r\n\x00\x00")
    with pytest.raises(SegmentError, match="binary"):
        segment_file(path)


def test_seed_articles_give_the_67_passages_of_the_spec():
    articles = [segment_file(p) for p in sorted((REPO / "seeds").glob("*.txt"))]
    assert [len(a.passages) for a in articles] == [9, 14, 10, 6, 28]
    assert [a.date for a in articles] == ["2022-03-22", "2022-01-24", "2022-03-24", "2022-03-04", None]
    assert articles[4].passages[0].text.startswith("Why Won’t NATO Deploy Troops")


def test_seeds_are_byte_identical_to_shared_copies():
    shared = REPO.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("shared/seeds is not beside this checkout")
    ours = sorted(p.name for p in (REPO / "seeds").glob("*.txt"))
    assert ours == sorted(p.name for p in shared.glob("*.txt"))
    for name in ours:
        assert (REPO / "seeds" / name).read_bytes() == (shared / name).read_bytes()


def test_segment_command_writes_records_and_reports_bad_files(tmp_path):
    import json

    from typer.testing import CliRunner

    from stance.cli import app

    (tmp_path / "good.txt").write_text(" date 2022-03-04 Headline text\n\nBody paragraph.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    out = tmp_path / "out" / "passages.jsonl"
    result = CliRunner().invoke(app, ["segment", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 1
    assert "bad.txt: not valid UTF-8" in result.output
    assert "empty.txt: empty: no text to classify" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records == [
        {"id": "good:0", "doc_id": "good", "index": 0, "text": "Headline text", "date": "2022-03-04"},
        {"id": "good:1", "doc_id": "good", "index": 1, "text": "Body paragraph.", "date": "2022-03-04"},
    ]
