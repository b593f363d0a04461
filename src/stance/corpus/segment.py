"""Split an article into passages exactly as the labeling spec defines them.

A passage is a paragraph (text between blank lines, stripped). A leading dateline — the
` date 2022-03-22 ` prefix, or a first paragraph that is only a date — is kept as the
article's date, not as text; a date line further down (e.g. under a headline) stays a passage. When the first line is a title it is passage 0 on its own.
A file without any blank line is read as one paragraph per line. Ids are `<doc_id>:<index>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

DATELINE_PREFIX = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})(?:\s+|$)")
BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y")
TITLE_MAX_WORDS = 25
SENTENCE_END = re.compile(r"[.,;:][\"'”’)]*$")


class SegmentError(ValueError):
    """An article that cannot be read as text; the message names the file."""


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    index: int
    text: str


@dataclass
class Article:
    doc_id: str
    date: str | None = None
    passages: list[Passage] = field(default_factory=list)


def parse_date(text: str) -> date | None:
    """The date a paragraph consists of, or None when it is anything more than a date."""
    cleaned = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _is_title(line: str) -> bool:
    return len(line.split()) <= TITLE_MAX_WORDS and not SENTENCE_END.search(line)


def _paragraphs(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        return []
    if not BLANK_LINE.search(text):
        return [line.strip() for line in lines if line.strip()]
    paragraphs = [p.strip() for p in BLANK_LINE.split(text)]
    first_lines = paragraphs[0].split("\n", 1) if paragraphs else []
    if len(first_lines) == 2 and _is_title(first_lines[0]):
        paragraphs[0:1] = [first_lines[0].strip(), first_lines[1].strip()]
    return [p for p in paragraphs if p]


def segment_text(text: str, doc_id: str) -> Article:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    article = Article(doc_id=doc_id)
    match = DATELINE_PREFIX.match(text)
    if match:
        article.date = match.group(1)
        text = text[match.end():]
    paragraphs = _paragraphs(text)
    leading_date = parse_date(paragraphs[0]) if paragraphs and not match else None
    if leading_date:
        article.date = leading_date.isoformat()
        del paragraphs[0]
    article.passages = [
        Passage(id=f"{doc_id}:{i}", doc_id=doc_id, index=i, text=p) for i, p in enumerate(paragraphs)
    ]
    return article


def decode_article(data: bytes, source: str) -> str:
    """Strict UTF-8 decoding with errors that name the source."""
    if b"\x00" in data:
        raise SegmentError(f"{source}: looks like a binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SegmentError(
            f"{source}: not valid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "re-save it as UTF-8"
        ) from None


def segment_file(path: str | Path) -> Article:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SegmentError(f"{path}: cannot read ({err.strerror})") from None
    return segment_text(decode_article(data, str(path)), doc_id=path.stem)
