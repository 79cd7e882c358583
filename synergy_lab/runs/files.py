"""A folder lock, temp-file paths for writers that want a file name, and cleaning of abandoned
temp files.

Every atomic write (:func:`synergy_lab.results.atomic_write_with`) names its temporary file
``.<name>.<host>.<pid>.<random>.tmp`` so that a later run can tell a file abandoned by a killed
writer (same host, process gone) from one still being written.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synergy_lab.results import temp_prefix, writer_host

try:  # POSIX; without it (Windows) the merge runs unlocked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"
STALE_SECONDS = 24 * 3600  # a temp file this old is abandoned whoever wrote it


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temp path next to ``path`` for a writer that wants a file name; renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_tmp(folder: Path) -> list[Path]:
    """Remove temp files left by dead writers in ``folder`` (and one level below); return them."""
    removed = []
    now = time.time()
    for tmp in [*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")]:
        parts = tmp.name.split(".")
        # .<name...>.<host>.<pid>.<random>.tmp: host and pid sit 3rd and 4th from the end.
        # Every writer tags its temp files so; an untagged one is a leftover of an older version.
        tagged = len(parts) >= 6 and parts[-3].isdigit()
        stale = not tagged
        if tagged and parts[-4] == writer_host():
            stale = not _pid_alive(int(parts[-3]))
        try:
            stale = stale or now - tmp.stat().st_mtime > STALE_SECONDS
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # its writer finished meanwhile
            continue
    return removed


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock (``fcntl.flock``) on ``folder/.lock`` while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(folder / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
