"""The one atomic writer (fsync, then rename), the run folder's lock, and stale-temp cleaning.

Every file this toolkit writes (results, cell files, weights, figures, config.json) goes through
:func:`atomic_write_with`: a temporary file ``.<name>.<host>.<pid>.<random>.tmp`` in the same
folder, flushed and fsynced, then ``os.replace``d over the target, so a reader sees the old file
or the new one, never half of it, and a later run can tell a temp file abandoned by a killed
writer (same host, process gone) from one still being written.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

try:  # POSIX; without it (Windows) the merge runs unlocked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"
STALE_SECONDS = 24 * 3600  # a temp file this old is abandoned whoever wrote it


def _new_file_mode() -> int:
    """Permissions an ordinary new file gets here (0o666 minus the umask); mkstemp gives 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def writer_host() -> str:
    """This machine's name as temp-file names carry it (no dots)."""
    return socket.gethostname().replace(".", "_") or "host"


def temp_prefix(path: Path) -> str:
    """Name prefix of ``path``'s temporary files: ``.<name>.<host>.<pid>.`` (a later run can tell
    a file abandoned by a dead writer from one another process is still writing)."""
    return f".{path.name}.{writer_host()}.{os.getpid()}."


def atomic_write_with(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(handle)`` on a temp file next to ``path``, then rename it over ``path``:
    readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    try:
        os.fchmod(fd, _new_file_mode())  # readable by whoever may read the user's other files
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """:func:`atomic_write_with` of ``payload``."""
    atomic_write_with(path, lambda handle: handle.write(payload))


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


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
