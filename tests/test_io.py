"""Atomic writing: complete files only, with the permissions any other new file would get."""

import os
import stat

import pytest

from stance.files import atomic_write


def test_written_file_has_the_umask_permissions_not_the_temp_files(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.jsonl") as handle:
            handle.write("{}\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode) == 0o644


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("new, half written")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]
