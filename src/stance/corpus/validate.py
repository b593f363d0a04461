"""Check label files against the schema without touching them: one `file:line: problem` per issue."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stance.config import MARKER, project_root
from stance.corpus.schema import SCHEMA, STANCES, TOPICS
from stance.corpus.segment import Article, SegmentError, segment_file
from stance.files import iter_jsonl

# Where the article behind a passage lives, by the record's `source`, relative to the project root.
ARTICLE_DIRS = {"seed": Path("seeds"), "authored": Path("labels") / "authored", "dev": Path("labels") / "dev" / "articles"}
KNOWN_FIELDS = {"id", "doc_id", "text", "labels", "source", "annotator", "notes"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@lru_cache(maxsize=None)
def _article(path: Path) -> Article | None:
    return segment_file(path) if path.exists() else None


def _blank(text: str) -> bool:
    """No visible character: whitespace, and format characters like the zero-width space, do not count."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp") for ch in text)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _record_problems(record: object, article_dirs: dict[str, Path]) -> Iterator[str]:
    if not isinstance(record, dict):
        yield "a record must be a JSON object"
        return
    for field in ("id", "doc_id", "source"):
        if field in record and (not isinstance(record[field], str) or _blank(record[field])):
            yield f"{field} must be a non-empty string, got {_short(record[field])}"
    missing = [f for f in SCHEMA.required_fields if f not in record]
    if missing:
        yield f"missing field(s): {', '.join(missing)}"
    unknown = sorted(set(record) - KNOWN_FIELDS)
    if unknown:
        yield f"unknown field(s): {', '.join(unknown)}"
    text = record.get("text")
    if "text" in record and (not isinstance(text, str) or _blank(text)):
        yield "empty text"
    labels = record.get("labels")
    if "labels" in record:
        if not isinstance(labels, dict):
            yield "labels must be an object mapping topic to stance"
        else:
            for topic, stance in labels.items():
                if topic not in TOPICS:
                    yield f"unknown topic {_short(topic)} (expected one of {', '.join(TOPICS)})"
                elif not isinstance(stance, str) or stance not in STANCES:
                    yield f"unknown stance {_short(stance)} for {topic} (expected one of {', '.join(STANCES)})"
    record_id, doc_id = record.get("id"), record.get("doc_id")
    if isinstance(record_id, str) and isinstance(doc_id, str):
        prefix, _, index = record_id.rpartition(":")
        if prefix != doc_id or not index.isdigit():
            yield f"id {record_id!r} is not <doc_id>:<index> for doc_id {doc_id!r}"
        elif record.get("source") in article_dirs and isinstance(text, str):
            yield from _article_problems(record_id, doc_id, int(index), text, article_dirs[record["source"]])


def _article_problems(record_id: str, doc_id: str, index: int, text: str, folder: Path) -> Iterator[str]:
    path = folder / f"{doc_id}.txt"
    try:
        article = _article(path)
    except SegmentError as err:
        yield f"article unreadable: {err}"
        return
    if article is None:
        yield f"no article {path} for doc_id {doc_id!r}"
    elif index >= len(article.passages):
        yield f"id {record_id!r}: the segmenter gives only {len(article.passages)} passages for {path.name}"
    elif article.passages[index].text != text:
        yield f"text of {record_id!r} no longer matches passage {index} of {path.name} as segmented"


def validate_files(paths: Sequence[str | Path], article_dirs: dict[str, Path] | None = None) -> list[Problem]:
    """All problems in the given files; ids must be unique across all of them.

    A passage whose `source` has an article folder (seeds, authored, dev) must match its article as segmented;
    the folders are found in the project that holds each label file.
    """
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for path in map(Path, paths):
        root = project_root(path.resolve().parent)
        if not (root / MARKER).exists():  # a label file outside any project: the one we run in
            root = project_root()
        folders = article_dirs if article_dirs is not None else {s: root / d for s, d in ARTICLE_DIRS.items()}
        try:
            handle = path.open("rb")
        except OSError as err:
            problems.append(Problem(str(path), 0, f"cannot read file ({err.strerror or err})"))
            continue
        with handle:
            lines = list(iter_jsonl(handle))
        if not lines:
            problems.append(Problem(str(path), 0, "empty file: no records"))
        for line_no, record, problem in lines:
            where = f"{path}:{line_no}"
            if problem:
                problems.append(Problem(str(path), line_no, problem))
                continue
            try:
                problems.extend(Problem(str(path), line_no, m) for m in _record_problems(record, folders))
            except RecursionError:  # parsed, but too deep to inspect
                problems.append(Problem(str(path), line_no, "a record nested too deeply to check"))
            record_id = record.get("id") if isinstance(record, dict) else None
            if isinstance(record_id, str):
                if record_id in first_seen:
                    problems.append(Problem(str(path), line_no, f"duplicate id {record_id!r} (first at {first_seen[record_id]})"))
                else:
                    first_seen[record_id] = where
    return problems
