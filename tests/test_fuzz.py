"""Property-based: whatever bytes, JSON or CSV arrive, the readers and the validator never crash, report every bad
input, and lose no good row. Example counts stay modest so the default run stays fast."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.corpus.readers import KINDS, InputArticle, InputError, read_articles, read_bytes_articles
from stance.corpus.validate import validate_files

# No example database: a test run writes nothing into the checkout.
FUZZ = settings(max_examples=75, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Good texts: anything printable or spacing but NUL and lone surrogates, after a word, so that the segmenter
# keeps a passage (a text that is only a date would become a dateline and no passage).
good_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80).map(
    lambda text: f"Passage {text}")
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                         max_size=3), max_leaves=10)
# Rows that must each become exactly one error entry.
bad_jsonl_row = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    st.builds(lambda text: json.dumps({"id": "x", "text": text}), st.integers() | st.none() | st.lists(st.integers())),
    st.just('{"id": "s", "text": "lone \\ud800 surrogate"}'),
    st.just('{"id": ' + "9" * 5000 + ', "text": "an id longer than str() allows"}'),
    st.just('{"id": "n", "text": ' + "[" * 5000 + "]" * 5000 + "}"),
    st.binary(max_size=20).map(lambda raw: b"\xff" + raw.replace(b"\n", b"")),  # not UTF-8
    st.text(max_size=20).map(lambda text: "{" + text.replace("\n", " ")),  # not JSON
)


def _items(items) -> tuple[list[InputArticle], list[InputError]]:
    items = list(items)
    assert all(isinstance(item, (InputArticle, InputError)) for item in items)
    return [i for i in items if isinstance(i, InputArticle)], [i for i in items if isinstance(i, InputError)]


@FUZZ
@given(data=st.binary(max_size=300), kind=st.sampled_from(sorted(KINDS)))
def test_random_bytes_never_crash_a_reader(tmp_path, data, kind):
    path = tmp_path / f"random{kind}"
    path.write_bytes(data)
    from_path, from_bytes = _items(read_articles(path)), _items(read_bytes_articles(str(path), data))
    assert [a.doc_id for a in from_path[0]] == [a.doc_id for a in from_bytes[0]]
    assert from_path[1] == from_bytes[1]
    assert from_path[0] or from_path[1], "an input gives articles or errors, never nothing"


@FUZZ
@given(rows=st.lists(st.one_of(good_text.map(lambda t: ("good", t)), bad_jsonl_row.map(lambda r: ("bad", r))),
                     max_size=12))
def test_random_jsonl_rows_are_each_classified_or_reported_once(tmp_path, rows):
    rows = [("good", "Passage one")] + rows  # the first record decides whether the columns are there
    lines, good = [], []
    for number, (kind, row) in enumerate(rows, start=1):
        if kind == "good":
            good.append(f"r{number}")
            row = json.dumps({"id": f"r{number}", "text": row})
        lines.append(row if isinstance(row, bytes) else row.encode("utf-8"))
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    articles, errors = _items(read_articles(path))
    assert [a.doc_id for a in articles] == good
    assert sorted(e.where for e in errors) == sorted(f"line {n}" for n, (kind, _) in enumerate(rows, 1) if kind == "bad")


@FUZZ
@given(rows=st.lists(st.one_of(good_text.map(lambda t: ("good", t)), st.sampled_from(["latin", "wide"]).map(
    lambda kind: (kind, ""))), max_size=12), header_extra=st.booleans())
def test_random_csv_rows_are_each_classified_or_reported_once(tmp_path, rows, header_extra):
    header = ["id", "text", "date"] if header_extra else ["id", "text"]
    out = io.BytesIO()
    out.write(",".join(header).encode() + b"\r\n")
    good = []
    for number, (kind, text) in enumerate(rows, start=1):
        if kind == "good":
            good.append(f"r{number}")
            buffer = io.StringIO()
            csv.writer(buffer).writerow([f"r{number}", text])
            out.write(buffer.getvalue().encode("utf-8"))
        elif kind == "latin":
            out.write(f"r{number},caf".encode() + b"\xe9\r\n")
        else:
            out.write(f"r{number},a,b,c,d".encode() + b"\r\n")
    path = tmp_path / "rows.csv"
    path.write_bytes(out.getvalue())
    articles, errors = _items(read_articles(path))
    assert [a.doc_id for a in articles] == good
    bad = [kind for kind, _ in rows if kind != "good"]
    if not rows:
        assert [e.reason for e in errors] == ["empty: a header and no rows"]
    else:
        assert len(errors) == len(bad) and all(e.where.startswith("line ") for e in errors)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash_the_validator(tmp_path, data):
    path = tmp_path / "labels.jsonl"
    path.write_bytes(data)
    assert validate_files([path], article_dirs={}), "random bytes are never a valid label file"


@FUZZ
@given(values=st.lists(json_values, min_size=1, max_size=8))
def test_every_random_json_line_is_reported_by_the_validator(tmp_path, values):
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(value) + "\n" for value in values), encoding="utf-8")
    problems = validate_files([path], article_dirs={})
    assert {p.line for p in problems} == set(range(1, len(values) + 1))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_empty_input_of_every_kind_is_reported(tmp_path, kind):
    path = tmp_path / f"empty{kind}"
    path.write_bytes(b"")
    assert _items(read_articles(path))[1]
