"""Input files -> articles cut into the spec's passages; anything unreadable becomes an `InputError`, never a crash.

Plain-text articles and HTML pages are one article per file (`doc_id` = file name without extension);
JSONL, CSV and Parquet tables are one article per row (`doc_id` = the `id` column). Every text goes
through `stance.corpus.segment`, so passage ids are the spec's. Tables are read in chunks, so a file of any
size streams.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from stance.corpus.segment import Passage, SegmentError, decode_article, segment_text

KINDS = {".txt": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
TABLE_COLUMNS = ("id", "text", "date", "source")
TABLE_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class InputError:
    """One input that could not be classified: a whole file, or one line (JSONL) or row (CSV, Parquet) of a table."""

    path: str
    reason: str
    where: str | None = None  # "line 3" or "row 2"

    def __str__(self) -> str:
        return f"{self.path}:{self.where}: {self.reason}" if self.where else f"{self.path}: {self.reason}"

    def record(self) -> dict:
        return {"path": self.path, "where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class InputArticle:
    doc_id: str
    file: str
    passages: list[Passage]
    date: str | None = None
    source: str | None = None


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[InputError]]:
    """Input files in a stable order: folders walked recursively (hidden entries skipped), files as given."""
    found: list[Path] = []
    errors: list[InputError] = []
    for path in map(Path, paths):
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*")
                                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            candidates = [path]
        else:
            errors.append(InputError(str(path), "no such file or directory"))
            continue
        for candidate in candidates:
            if candidate.suffix.lower() in KINDS:
                found.append(candidate)
            else:
                errors.append(InputError(str(candidate), f"unsupported file type {candidate.suffix or '(none)'!r}; "
                                                         f"expected one of {', '.join(sorted(KINDS))}"))
    return found, errors


def read_articles(path: Path) -> Iterator[InputArticle | InputError]:
    """The articles of one file, with an InputError in their place for whatever cannot be read."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        yield InputError(str(path), f"unsupported file type {path.suffix!r}")
        return
    try:
        if kind in ("text", "html"):  # one article per file: read whole
            yield from read_bytes_articles(str(path), path.read_bytes())
        else:  # tables stream from the file
            yield from _TABLE_READERS[kind](str(path), path)
    except OSError as err:
        yield InputError(str(path), f"cannot read ({err.strerror or err})")


def read_bytes_articles(path: str, data: bytes) -> Iterator[InputArticle | InputError]:
    """Like `read_articles`, for a file already read (Ray Data hands workers the bytes, not the path)."""
    kind = KINDS.get(Path(path).suffix.lower())
    if kind == "text":
        yield from _text_article(path, data)
    elif kind == "html":
        yield from _html_article(path, data)
    elif kind is None:
        yield InputError(path, f"unsupported file type {Path(path).suffix!r}")
    else:
        yield from _TABLE_READERS[kind](path, io.BytesIO(data))


def _article(doc_id: str, file: str, text: str, date: str | None, source: str | None,
             where: str | None) -> InputArticle | InputError:
    segmented = segment_text(text, doc_id)
    if not segmented.passages:
        return InputError(file, "empty: no text to classify", where)
    return InputArticle(doc_id, file, segmented.passages, date or segmented.date, source)


def _text_article(path: str, data: bytes) -> Iterator[InputArticle | InputError]:
    try:
        text = decode_article(data, path)
    except SegmentError as err:
        yield InputError(path, str(err).removeprefix(f"{path}: "))
        return
    yield _article(Path(path).stem, path, text, None, None, None)


def _empty_or_binary(path: str, head: bytes, kind: str, empty: str) -> InputError | None:
    """The error for a file that is blank or binary, caught before a parser makes a stranger one of it."""
    if not head.strip():
        return InputError(path, f"empty: {empty}")
    if b"\x00" in head:
        return InputError(path, f"looks like a binary file (contains NUL bytes), not {kind}")
    return None


def _html_article(path: str, data: bytes) -> Iterator[InputArticle | InputError]:
    """Main text by trafilatura (boilerplate, menus and footers dropped), one line per paragraph."""
    import trafilatura

    if unusable := _empty_or_binary(path, data, "HTML", "no text to classify"):
        yield unusable
        return
    document = trafilatura.bare_extraction(data, with_metadata=True)
    if document is None or not (document.text or "").strip():
        yield InputError(path, "no main text found in the HTML page")
        return
    text = document.text
    if document.title and not text.startswith(document.title):
        text = f"{document.title}\n{text}"  # a single newline keeps trafilatura's one-paragraph-per-line layout
    yield _article(Path(path).stem, path, text, document.date, document.sitename, None)


Source = Path | io.BytesIO


@contextmanager
def _binary(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def _row_article(name: str, where: str, row: dict) -> InputArticle | InputError:
    doc_id, text = row.get("id"), row.get("text")
    if doc_id is None or str(doc_id).strip() == "":
        return InputError(name, "missing 'id'", where)
    if not isinstance(text, str):
        return InputError(name, f"'text' must be a string, got {type(text).__name__}", where)
    date, source = row.get("date"), row.get("source")
    return _article(str(doc_id), name, text, str(date) if date else None, str(source) if source else None, where)


def _missing_columns(name: str, columns: Iterable[str], where: str | None) -> InputError | None:
    columns = list(columns)
    missing = [column for column in ("id", "text") if column not in columns]
    if missing:
        return InputError(name, f"no {' or '.join(repr(m) for m in missing)} column "
                                f"(found {columns}); tables need 'id' and 'text'", where)
    return None


def _read_jsonl(name: str, source: Source) -> Iterator[InputArticle | InputError]:
    seen_record = False
    with _binary(source) as handle:
        for line_no, raw in enumerate(handle, start=1):
            where = f"line {line_no}"
            if b"\x00" in raw:
                yield InputError(name, "looks like a binary file (contains NUL bytes), not JSON Lines", where)
                return
            try:
                line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError:
                yield InputError(name, "not valid UTF-8", where)
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield InputError(name, f"invalid JSON ({err.msg})", where)
                continue
            if not isinstance(record, dict):
                yield InputError(name, f"expected a JSON object, got {type(record).__name__}", where)
                continue
            if not seen_record:  # a file without the columns fails once, not once per line
                seen_record = True
                if missing := _missing_columns(name, record, where):
                    yield missing
                    return
            yield _row_article(name, where, record)
    if not seen_record:
        yield InputError(name, "empty: no records")


def _first_bad_utf8_line(source: Source) -> int | None:
    with _binary(source) as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line_no
    return None


def _read_csv(name: str, source: Source) -> Iterator[InputArticle | InputError]:
    import pandas as pd

    with _binary(source) as handle:
        head = handle.read(8192)
    if unusable := _empty_or_binary(name, head, "CSV", "no header and no rows"):
        yield unusable
        return
    row = 0
    try:
        with _binary(source) as handle:
            for chunk in pd.read_csv(handle, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                     chunksize=TABLE_CHUNK_ROWS):
                if row == 0 and (missing := _missing_columns(name, chunk.columns, None)):
                    yield missing
                    return
                columns = [c for c in TABLE_COLUMNS if c in chunk.columns]
                for record in chunk[columns].to_dict("records"):
                    row += 1
                    yield _row_article(name, f"row {row}", record)
    except UnicodeDecodeError:
        yield InputError(name, "not valid UTF-8; re-save it as UTF-8", f"line {_first_bad_utf8_line(source)}")
    except pd.errors.EmptyDataError:
        yield InputError(name, "empty: no header and no rows")
    except pd.errors.ParserError as err:
        yield InputError(name, f"malformed CSV after row {row}: {str(err).strip()}")


def _read_parquet(name: str, source: Source) -> Iterator[InputArticle | InputError]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as err:
        yield InputError(name, f"not a readable Parquet file ({err})")
        return
    names = table.schema_arrow.names
    if missing := _missing_columns(name, names, None):
        yield missing
        return
    if table.metadata.num_rows == 0:
        yield InputError(name, "empty: no rows")
        return
    row = 0
    for batch in table.iter_batches(batch_size=TABLE_CHUNK_ROWS, columns=[c for c in TABLE_COLUMNS if c in names]):
        for record in batch.to_pylist():
            row += 1
            yield _row_article(name, f"row {row}", record)


_TABLE_READERS = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}
