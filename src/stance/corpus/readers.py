"""Input files -> articles cut into the spec's passages; anything unreadable becomes an `InputError`, never a crash.

Plain-text articles and HTML pages are one article per file (`doc_id` = file name without extension);
JSONL, CSV and Parquet tables are one article per row (`doc_id` = the `id` column). Every text goes
through `stance.corpus.segment`, so passage ids are the spec's. Tables are read in chunks, so a file of any
size streams.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from stance.corpus.segment import Passage, SegmentError, decode_article, segment_text
from stance.files import iter_jsonl, looks_binary, walk_files

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
        path = printable(self.path)
        return f"{path}:{self.where}: {self.reason}" if self.where else f"{path}: {self.reason}"

    def record(self) -> dict:
        return {"path": printable(self.path), "where": self.where, "reason": printable(self.reason)}


def printable(name: str) -> str:
    """A file name whose bytes are not UTF-8 (held as surrogates by Python) with those bytes as `\\xe9` escapes,
    so that it can be written to any output."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class InputArticle:
    doc_id: str
    file: str
    passages: list[Passage]
    date: str | None = None
    source: str | None = None


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[InputError]]:
    """Input files in a stable order: folders walked recursively (hidden entries skipped, links followed, broken
    links and loops reported), files as given."""
    found: list[Path] = []
    errors: list[InputError] = []
    for path in map(Path, paths):
        if path.is_dir():
            candidates = []
            for candidate, problem in walk_files(path):
                if problem:
                    errors.append(InputError(str(candidate), problem))
                else:
                    candidates.append(candidate)
        elif path.exists():
            candidates = [path]
        elif path.is_symlink():
            errors.append(InputError(str(path), "broken symbolic link or link loop"))
            continue
        else:
            errors.append(InputError(str(path), "no such file or directory"))
            continue
        for candidate in candidates:
            if _not_text(str(candidate)):  # its name could be written to no output
                errors.append(InputError(str(candidate), "file name is not valid UTF-8; rename the file"))
            elif candidate.suffix.lower() in KINDS:
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
    elif kind in ("text", "html"):  # one article per file: read whole
        try:
            data = path.read_bytes()
        except OSError as err:
            yield InputError(str(path), f"cannot read ({err.strerror or err})")
            return
        yield from read_bytes_articles(str(path), data)
    else:  # tables stream from the file
        yield from _guarded(str(path), _TABLE_READERS[kind](str(path), path))


def read_bytes_articles(path: str, data: bytes) -> Iterator[InputArticle | InputError]:
    """Like `read_articles`, for a file already read (Ray Data hands workers the bytes, not the path)."""
    kind = KINDS.get(Path(path).suffix.lower())
    if kind == "text":
        yield from _guarded(path, _text_article(path, data))
    elif kind == "html":
        yield from _guarded(path, _html_article(path, data))
    elif kind is None:
        yield InputError(path, f"unsupported file type {Path(path).suffix!r}")
    else:
        yield from _guarded(path, _TABLE_READERS[kind](path, io.BytesIO(data)))


def _guarded(path: str, items: Iterator[InputArticle | InputError]) -> Iterator[InputArticle | InputError]:
    """Whatever a parser raises ends this input with an error, never the batch: one file must not stop the rest."""
    try:
        yield from items
    except Exception as err:  # noqa: BLE001 - parsers raise anything on hostile input
        reason = err.strerror if isinstance(err, OSError) and err.strerror else f"{type(err).__name__}: {err}"
        yield InputError(path, f"cannot read ({reason}); the rest of this file is skipped")


def _not_text(*values: str | None) -> bool:
    """A lone surrogate (JSON's "\\ud800") is a valid Python string but no text: no file format can hold it."""
    try:
        for value in values:
            if value is not None:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _article(doc_id: str, file: str, text: str, date: str | None, source: str | None,
             where: str | None) -> InputArticle | InputError:
    if _not_text(doc_id, text, date, source):
        return InputError(file, "contains a lone surrogate (like \\ud800), not text", where)
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
    if looks_binary(head):
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
    """One table row as an article, or that row's error: whatever goes wrong, the rest of the table is read."""
    try:
        return _checked_row_article(name, where, row)
    except Exception as err:  # noqa: BLE001 - e.g. an integer id too long for str(), a segmenter surprise
        return InputError(name, f"cannot read this row ({type(err).__name__}: {err})", where)


def _checked_row_article(name: str, where: str, row: dict) -> InputArticle | InputError:
    doc_id, text = row.get("id"), row.get("text")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int, type(None))):
        return InputError(name, f"'id' must be a string or an integer, got {type(doc_id).__name__}", where)
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
        for line_no, record, problem in iter_jsonl(handle):
            where = f"line {line_no}"
            if problem:
                yield InputError(name, problem, where)
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


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """The csv module's field limit (128 KiB, shorter than a long article) raised for the block only."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_csv(name: str, source: Source) -> Iterator[InputArticle | InputError]:
    """Row by row with the csv module, so a malformed or undecodable row is one error and every other row is read.

    Undecodable bytes are kept as surrogates (`surrogateescape`) and caught per row, with the row's first line.
    """
    with _binary(source) as handle:
        head = handle.read(8192)
    if unusable := _empty_or_binary(name, head, "CSV", "no header and no rows"):
        yield unusable
        return
    with _binary(source) as handle, _csv_field_limit(min(sys.maxsize, 2**31 - 1)):
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield from _csv_rows(name, csv.reader(text))
        finally:
            text.detach()  # leave the caller's handle open


def _csv_rows(name: str, reader) -> Iterator[InputArticle | InputError]:
    header = next(reader, None)
    if header is None:
        yield InputError(name, "empty: no header and no rows")
        return
    if _not_text(*header):
        yield InputError(name, "header is not valid UTF-8; re-save the file as UTF-8", "line 1")
        return
    if missing := _missing_columns(name, header, None):
        yield missing
        return
    columns = {column: header.index(column) for column in TABLE_COLUMNS if column in header}
    row = bad = 0
    while True:
        where = f"line {reader.line_num + 1}"
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            bad += 1
            yield InputError(name, f"malformed CSV row ({err})", where)
            continue
        if not fields:  # a blank line
            continue
        bad += 1  # until it proves good
        if _not_text(*fields):
            yield InputError(name, "not valid UTF-8; re-save it as UTF-8", where)
            continue
        if len(fields) > len(header):
            yield InputError(name, f"malformed CSV row: {len(fields)} fields, the header has {len(header)}", where)
            continue
        row, bad = row + 1, bad - 1
        fields += [""] * (len(header) - len(fields))
        yield _row_article(name, f"row {row}", {column: fields[i] for column, i in columns.items()})
    if row == 0 and bad == 0:
        yield InputError(name, "empty: a header and no rows")


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
