"""The project's file utilities, each written once: atomic writes, JSON Lines, digests, binary detection,
walking a folder, checking a folder is writable, and an exclusive lock on an output."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import socket
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO


from stance.errors import UserError

log = logging.getLogger(__name__)


class JsonlError(UserError):
    """A JSON Lines file that cannot be read; the message is `file:line: what is wrong`."""

    hint = "`stance validate <file>` lists every problem of a label file"


class LockedError(UserError):
    """Another live process holds the lock; the message names it and what to do."""


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

    Lines are split on `\\n` only: U+2028 and U+0085 inside a JSON string are text, not line breaks. NUL bytes
    in the first line mean a binary file (read no further); in a later line, that line alone is bad.
    """
    for line_no, raw in enumerate(handle, start=1):
        if looks_binary(raw):
            if line_no == 1:
                yield line_no, None, "looks like a binary file (contains NUL bytes), not JSON Lines"
                return
            yield line_no, None, "contains NUL bytes"
            continue
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
        except ValueError as err:  # valid JSON Python will not hold, e.g. an integer of 5,000 digits
            yield line_no, None, f"unreadable JSON ({err})"


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


def walk_files(folder: Path) -> Iterator[tuple[Path, str | None]]:
    """(path, None) for every regular file under `folder`, in sorted order, hidden entries skipped, symbolic
    links followed; (path, problem) for a broken link, a link loop, a folder that cannot be listed, or a
    special file (a FIFO would block a reader forever), so that nothing is skipped without a word."""

    def visit(directory: Path, ancestors: frozenset[tuple[int, int]]) -> Iterator[tuple[Path, str | None]]:
        try:
            names = sorted(entry.name for entry in os.scandir(directory))
        except OSError as err:
            yield directory, f"cannot list folder ({err.strerror or err})"
            return
        for name in names:
            if name.startswith("."):
                continue
            path = directory / name
            try:
                info = path.stat()  # follows links
            except OSError as err:
                if err.errno == errno.ELOOP:
                    yield path, "symbolic link loop"
                elif path.is_symlink():
                    yield path, f"broken symbolic link (to {os.readlink(path)!r})"
                else:
                    yield path, f"cannot read ({err.strerror or err})"
                continue
            if stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    yield path, "symbolic link loop (links to a folder that contains it)"
                else:
                    yield from visit(path, ancestors | {key})
            elif stat.S_ISREG(info.st_mode):
                yield path, None
            else:
                yield path, "not a regular file (a FIFO, socket or device)"

    root = folder.stat()
    yield from visit(folder, frozenset({(root.st_dev, root.st_ino)}))


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be written there, raising `OSError` with the folder's
    name otherwise: better found before hours of work than after."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OSError(err.errno, f"{folder}: cannot write there ({err.strerror or err})") from None


@contextmanager
def exclusive_lock(path: Path, what: str) -> Iterator[None]:
    """Hold `path` as a lock file for the block; a second holder gets `LockedError` at once.

    An OS lock (flock), not the file's existence, is what counts: the kernel drops it when its process dies,
    so the file of a killed run is stale and simply taken over. The file records who holds it, for the message.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise LockedError(f"{what} is being written by another run ({holder}); wait for it to finish, "
                              f"or use another output (lock: {path})") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and our lock: try the new one
    try:
        if previous := os.pread(fd, 200, 0).decode("utf-8", "replace").strip():
            log.warning("%s: taking over the lock of a run that is gone (%s)", what, previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
