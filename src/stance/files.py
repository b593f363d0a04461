"""The project's file utilities, each written once: atomic writes, JSON Lines, digests, binary detection."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO


class JsonlError(ValueError):
    """A JSON Lines file that cannot be read; the message is `file:line: what is wrong`."""


def current_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside `path`, then rename it into place on success.

    mkstemp creates the file private (0600); it gets the mode any new file would (0666 less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    count = 0
    with atomic_write(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def looks_binary(data: bytes) -> bool:
    """NUL bytes never occur in UTF-8 text, and always in the binary files people pass by mistake."""
    return b"\x00" in data


def iter_jsonl(handle: BinaryIO) -> Iterator[tuple[int, object | None, str | None]]:
    """(line number, parsed value or None, problem or None) for every non-blank line.

    Lines are split on `\\n` only: U+2028 and U+0085 inside a JSON string are text, not line breaks.
    """
    for line_no, raw in enumerate(handle, start=1):
        if looks_binary(raw):
            yield line_no, None, "looks like a binary file (contains NUL bytes), not JSON Lines"
            return
        try:
            line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError:
            yield line_no, None, "not valid UTF-8"
            continue
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line), None
        except json.JSONDecodeError as err:
            yield line_no, None, f"invalid JSON ({err.msg} at column {err.colno})"
        except RecursionError:
            yield line_no, None, "invalid JSON (nested too deeply)"


def read_jsonl(path: str | Path) -> list[dict]:
    """Every record of a JSON Lines file; the first unreadable line raises `JsonlError` naming file and line."""
    path = Path(path)
    records = []
    with path.open("rb") as handle:
        for line_no, record, problem in iter_jsonl(handle):
            if problem is None and not isinstance(record, dict):
                problem = f"expected a JSON object, got {type(record).__name__}"
            if problem:
                raise JsonlError(f"{path}:{line_no}: {problem}")
            records.append(record)
    return records


def digest(paths: Sequence[str | Path], relative_to: Path | None = None) -> str:
    """A short SHA-256 of the files' contents (and their names relative to `relative_to`, when given):
    the same digest means the same label files, or the same saved model."""
    sha = hashlib.sha256()
    for path in map(Path, paths):
        if relative_to is not None:
            sha.update(str(path.relative_to(relative_to)).encode())
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                sha.update(block)
    return sha.hexdigest()[:16]


def folder_digest(folder: Path) -> str:
    return digest(sorted(p for p in folder.rglob("*") if p.is_file()), relative_to=folder)
