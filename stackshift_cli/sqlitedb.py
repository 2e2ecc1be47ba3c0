"""SQLite as every file of stackshift's uses it: writes that wait for another process's lock (and stay stoppable
with Ctrl-C), transactions taken up front, and private database files. The local store, the publish journal and
the history all go through these."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

BUSY_TIMEOUT_S = 30.0  # how long one statement waits, in all, for a lock another process holds
BUSY_SLICE_S = 0.1  # one wait inside SQLite; Ctrl-C is handled between two (SQLite's own wait blocks signals)
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL = 5, 6, 13
_T = TypeVar("_T")


def busy_retry(action: Callable[[], _T]) -> _T:
    """Run `action`, trying again while another process holds the lock, for BUSY_TIMEOUT_S in all.

    Each try waits at most BUSY_SLICE_S inside SQLite, where signals wait too; between two tries Python
    handles them, so Ctrl-C stops a command that waits for the lock at once (KeyboardInterrupt, exit 130).
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
            busy = code in (SQLITE_BUSY, SQLITE_LOCKED) or (not code and "locked" in str(exc))
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)  # also where a pending Ctrl-C is raised, should SQLite not have waited at all


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait instead of failing."""
    busy_retry(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (a full disk, an I/O error)
        raise
    conn.execute("COMMIT")


def private_db(path: Path, ddl: str) -> sqlite3.Connection:
    """A database file of its own (the API backend's journal and history): mode 0600 from its first byte, in a
    0700 directory, its tables made if they are missing. OSError and sqlite3.Error are the caller's to word."""
    from stackshift_cli.files import ensure_private_dir

    ensure_private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(path, timeout=BUSY_SLICE_S, isolation_level=None)
    busy_retry(lambda: conn.executescript(ddl))
    return conn


def memory_db(ddl: str) -> sqlite3.Connection:
    """An empty database in memory with these tables: reading where nothing was ever written creates nothing."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(ddl)
    return conn
