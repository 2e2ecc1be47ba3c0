"""The publish journal: what stackshift wrote at a DNS provider for each domain, so `unpublish` undoes exactly that.

One row per edit, written as `planned` in one transaction before the first edit is sent, then marked `applied` (or
`failed`) as each one is answered. A run stopped between the two (Ctrl-C, kill -9, a lost connection) leaves a
`planned` row whose edit may or may not have landed: `unpublish` tells by looking at the zone (the records it added
are there, or not). Rows outlive the domain (`domains delete` never touches DNS), so `unpublish NAME` works after it.

It lives in the local store (its own table, schema 4) or, for the API backend, in `publish-journal.db` in the data
directory, keyed by the API's URL. Its rows are read as hostile as any other outside data.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from stackshift_cli.errors import StoreError
from stackshift_cli.providers import ZoneRecord

PLANNED, APPLIED, FAILED, UNDONE, LEFT = "planned", "applied", "failed", "undone", "left"
_STATES = (PLANNED, APPLIED, FAILED, UNDONE, LEFT)
JOURNAL_FILE = "publish-journal.db"  # the API backend's journal, in the data directory
MAX_ROWS = 10_000  # rows of one domain stackshift reads
MAX_JSON = 64_000  # characters of one row's records

DDL = """
CREATE TABLE IF NOT EXISTS publish_journal (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    run TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    provider TEXT NOT NULL,
    zone TEXT NOT NULL,
    name TEXT NOT NULL,
    purpose TEXT,
    removed TEXT NOT NULL,
    added TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS publish_journal_by_domain ON publish_journal (scope, domain_name, id)
"""


@dataclass(frozen=True)
class Entry:
    """One edit stackshift made (or was about to make) at a provider."""

    id: int
    run: str
    domain_id: str
    domain_name: str
    provider: str
    zone: str
    name: str
    purpose: str | None
    removed: tuple[ZoneRecord, ...]
    added: tuple[ZoneRecord, ...]
    state: str
    created_at: str


class Journal:
    """The journal of one backend (`scope`: "local", or the API's URL), over a SQLite connection."""

    def __init__(self, conn: sqlite3.Connection, scope: str, path: Path, *, owns: bool = False) -> None:
        self.conn = conn
        self.scope = scope
        self.path = path
        self.owns = owns  # a connection of its own (closed by close()), not the local store's

    @classmethod
    def at(cls, path: Path, scope: str) -> Journal:
        """A journal in a file of its own (the API backend's), created on first use, private to the user."""
        from stackshift_cli.sqlitedb import private_db

        try:
            conn = private_db(path, DDL)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the publish journal {path} ({exc}).") from None
        return cls(conn, scope, path, owns=True)

    @classmethod
    def empty(cls, scope: str) -> Journal:
        """A journal with nothing in it, for reading where none was ever written (nothing is created)."""
        from stackshift_cli.sqlitedb import memory_db

        return cls(memory_db(DDL), scope, Path(":memory:"), owns=True)

    # ------------------------------------------------------------ writing

    def begin(self, run: str, domain_id: str, domain_name: str, provider: str, zone: str,
              edits: Sequence[tuple[str, str | None, Sequence[ZoneRecord], Sequence[ZoneRecord]]]) -> list[int]:
        """Record a run's edits as planned, in one transaction, before any is sent: (name, purpose, removed,
        added) each. Returns their ids, in order."""
        now = _now()
        ids = []
        with self._transaction():
            for name, purpose, removed, added in edits:
                cursor = self.conn.execute(
                    "INSERT INTO publish_journal (scope, run, domain_id, domain_name, provider, zone, name, purpose, "
                    "removed, added, state, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.scope, run, domain_id, domain_name, provider, zone, name, purpose, _dump(removed),
                     _dump(added), PLANNED, now, now))
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def mark(self, entry_id: int, state: str, error: str | None = None) -> None:
        with self._transaction():
            self.conn.execute("UPDATE publish_journal SET state = ?, error = ?, changed_at = ? WHERE id = ? AND "
                              "scope = ?", (state, error, _now(), entry_id, self.scope))

    # ------------------------------------------------------------ reading

    def entries(self, domain_name: str, states: Sequence[str] = (PLANNED, APPLIED)) -> list[Entry]:
        """The domain's edits in these states, newest first (the order they are undone in)."""
        marks = ", ".join("?" for _ in states)
        try:
            rows = self.conn.execute(
                f"SELECT id, run, domain_id, domain_name, provider, zone, name, purpose, removed, added, state, "
                f"created_at FROM publish_journal WHERE scope = ? AND domain_name = ? AND state IN ({marks}) "
                f"ORDER BY id DESC LIMIT ?", (self.scope, domain_name, *states, MAX_ROWS)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot read the publish journal in {self.path} ({exc}).") from None
        return [entry for row in rows if (entry := _entry(row, domain_name)) is not None]

    def last_provider(self, domain_name: str) -> str | None:
        """The provider the domain's records were last published through, whatever became of them."""
        entries = self.entries(domain_name, _STATES)
        return entries[0].provider if entries else None

    def close(self) -> None:
        if self.owns:
            self.conn.close()

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction that waits for another process's lock, as the store's own do."""
        from stackshift_cli.sqlitedb import transaction

        try:
            with transaction(self.conn):
                yield
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot write the publish journal in {self.path} ({exc}).") from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _dump(records: Sequence[ZoneRecord]) -> str:
    return json.dumps([r.to_json() for r in records], separators=(",", ":"))


def _load(text: object) -> tuple[ZoneRecord, ...] | None:
    """Records from a row, or None when the row is not what stackshift writes (then the row is ignored)."""
    from stackshift_cli.domain import is_dns_name

    if not isinstance(text, str) or len(text) > MAX_JSON:
        return None
    try:
        items = json.loads(text)
        records = tuple(ZoneRecord.from_json(item) for item in items) if isinstance(items, list) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if records is None or any(r.type not in ("TXT", "CNAME", "MX", "A", "AAAA") or not is_dns_name(r.name)
                              for r in records):
        return None
    return records


def _entry(row: tuple, domain_name: str) -> Entry | None:
    from stackshift_cli.domain import is_dns_name

    (entry_id, run, domain_id, name_of_domain, provider, zone, name, purpose, removed, added, state,
     created_at) = row
    removed_records, added_records = _load(removed), _load(added)
    if (removed_records is None or added_records is None or state not in _STATES or name_of_domain != domain_name
            or not all(isinstance(v, str) for v in (run, domain_id, provider, zone, name, created_at))
            or not is_dns_name(zone) or not is_dns_name(name) or not (name == zone or name.endswith("." + zone))
            or any(r.name != name for r in (*removed_records, *added_records))):
        return None
    return Entry(int(entry_id), run, domain_id, domain_name, provider, zone, name,
                 purpose if isinstance(purpose, str) else None, removed_records, added_records, state, created_at)
