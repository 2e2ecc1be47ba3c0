"""After verified: the regression rule, and the history of status changes (the rules pure, the store below).

**Regression.** A verified domain whose required record is no longer verified is `pending` at once, with an
explanation that starts "was verified since …; now …", and `failed` once `verify.regression_window` (72 h) has
passed without a repair: one flapping resolver never fails a working domain, and a record really removed does not
stay unnoticed. A domain that never was verified follows the aggregate rule as before.

**History.** Every check that changes the domain's status or a record's status appends events: the time, the
domain, the record (purpose, host, type; none for the domain's own status), old → new status, the explanation. The
local store keeps them in its `events` table, written in the same transaction as the verdicts (so no event is ever
half-written); the API backend keeps them, with the last state it saw of each domain, in `history.db` in the data
directory.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from stackshift_cli.statuses import DISABLED, FAILED, PENDING, VERIFIED

if TYPE_CHECKING:
    from stackshift_cli.domain import DnsRecord, Domain

DEFAULT_REGRESSION_WINDOW = timedelta(hours=72)
HISTORY_FILE = "history.db"  # the API backend's history, in the data directory
MAX_EVENTS = 100_000  # events one `history` reads

EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    at TEXT NOT NULL,
    purpose TEXT,
    host TEXT,
    type TEXT,
    old_status TEXT,
    new_status TEXT NOT NULL,
    explanation TEXT
);
CREATE INDEX IF NOT EXISTS events_by_domain ON events (scope, domain_id, at)
"""
STATES_DDL = """
CREATE TABLE IF NOT EXISTS domain_states (
    scope TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    status TEXT NOT NULL,
    verified_since TEXT,
    regressed_at TEXT,
    last_change_at TEXT,
    records TEXT NOT NULL,
    PRIMARY KEY (scope, domain_id)
)
"""


@dataclass(frozen=True)
class Before:
    """What a domain was before a check: its status, the regression facts, and each record's status."""

    status: str
    verified_since: datetime | None = None
    regressed_at: datetime | None = None
    last_change_at: datetime | None = None
    records: Mapping[tuple[str | None, str, str], str] = None  # type: ignore[assignment]  # (purpose, name, type)

    @classmethod
    def of(cls, domain: Domain) -> Before:
        return cls(domain.status, domain.verified_since, domain.regressed_at, domain.last_change_at,
                   {record_key(r): r.status for r in domain.records})


def record_key(record: DnsRecord) -> tuple[str | None, str, str]:
    return (record.purpose, record.name, record.type)


@dataclass(frozen=True)
class Event:
    """One status change: of the domain (`purpose`, `host` and `type` None) or of one of its records."""

    at: datetime
    domain_id: str
    domain: str
    old_status: str | None
    new_status: str
    explanation: str | None = None
    purpose: str | None = None
    host: str | None = None
    type: str | None = None
    id: int | None = None

    @property
    def is_domain(self) -> bool:
        return self.type is None

    @property
    def kind(self) -> str:
        """regression (verified, then not), verified, status (another change of the domain's status), record."""
        if not self.is_domain:
            return "record"
        if self.old_status == VERIFIED and self.new_status != VERIFIED:
            return "regression"
        return "verified" if self.new_status == VERIFIED else "status"

    def to_json(self) -> dict[str, Any]:
        from stackshift_cli.domain import format_time

        data: dict[str, Any] = {"at": format_time(self.at), "domain": self.domain, "event": self.kind,
                                "oldStatus": self.old_status, "newStatus": self.new_status,
                                "explanation": self.explanation}
        if not self.is_domain:
            data.update({"purpose": self.purpose, "host": self.host, "type": self.type})
        return data


# ---------------------------------------------------------------- the rules (pure)


def settle(checked: Domain, before: Before | None, *, now: datetime,
           window: timedelta = DEFAULT_REGRESSION_WINDOW) -> Domain:
    """The domain after a check, with the regression rule applied to the aggregate status the check gave."""
    from stackshift_cli.domain import format_time

    status = checked.status
    last_change = before.last_change_at if before is not None else None
    if status == DISABLED:
        return replace(checked, verified_since=None, regressed_at=None, explanation=None, last_change_at=last_change)
    was_verified = before is not None and (before.status == VERIFIED or before.regressed_at is not None)
    if status == VERIFIED:
        became = before.verified_since if before is not None and before.status == VERIFIED and before.verified_since \
            else now
        return replace(checked, verified_since=became, regressed_at=None, explanation=None, last_change_at=last_change)
    if not was_verified or before is None:
        return replace(checked, verified_since=None, regressed_at=None, explanation=None, last_change_at=last_change)
    regressed_at = before.regressed_at or now
    from stackshift_cli.checks import label

    broken = [r for r in checked.records if r.required and r.status != VERIFIED]
    what = "; ".join(f"{label(r.purpose)} {r.type} {r.host} is {r.status}" for r in broken[:4]) or "a check failed"
    since = format_time(before.verified_since) if before.verified_since else "before"
    deadline = regressed_at + window
    if now >= deadline:
        status, tail = FAILED, f"Not repaired within {_hours(window)} of {format_time(regressed_at)}."
    else:
        status, tail = PENDING, (f"It becomes failed at {format_time(deadline)} unless repaired (verify."
                                 f"regression_window, {_hours(window)}).")
    return replace(checked, status=status, verified_since=before.verified_since, regressed_at=regressed_at,
                   explanation=f"was verified since {since}; now {what}. {tail}", last_change_at=last_change)


def _hours(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{window.total_seconds():g} s"


def changes(before: Before | None, after: Domain, at: datetime) -> list[Event]:
    """The events a check makes: the domain's status first, then each record whose status changed (a record that
    is new since the last check counts as changed from nothing)."""
    found: list[Event] = []
    old_status = before.status if before is not None else None
    if old_status != after.status:
        found.append(Event(at, after.id, after.name, old_status, after.status, after.explanation))
    previous = before.records if before is not None and before.records is not None else {}
    for record in after.records:
        old = previous.get(record_key(record))
        if old != record.status:
            found.append(Event(at, after.id, after.name, old, record.status, record.explanation, record.purpose,
                               record.host, record.type))
    return found


def with_changes(settled: Domain, events: Sequence[Event]) -> Domain:
    return replace(settled, last_change_at=events[0].at) if events else settled


# ---------------------------------------------------------------- the store


class History:
    """Events (and, for the API backend, the last state seen of each domain) over a SQLite connection."""

    def __init__(self, conn: sqlite3.Connection, scope: str, path: Path, *, owns: bool = False) -> None:
        self.conn = conn
        self.scope = scope
        self.path = path
        self.owns = owns

    @classmethod
    def at(cls, path: Path, scope: str) -> History:
        """The API backend's history file (mode 0600, in a 0700 directory), created on first use."""
        from stackshift_cli.errors import StoreError
        from stackshift_cli.sqlitedb import private_db

        try:
            conn = private_db(path, EVENTS_DDL + ";" + STATES_DDL)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the history {path} ({exc}).") from None
        return cls(conn, scope, path, owns=True)

    def append(self, events: Iterable[Event]) -> None:
        """Insert events; the caller holds the transaction (the local store: the one that stores the verdicts)."""
        from stackshift_cli.domain import format_time

        self.conn.executemany(
            "INSERT INTO events (scope, domain_id, domain_name, at, purpose, host, type, old_status, new_status, "
            "explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(self.scope, e.domain_id, e.domain, format_time(e.at), e.purpose, e.host, e.type, e.old_status,
              e.new_status, e.explanation) for e in events])

    def events(self, domain_id: str | None = None, *, since: datetime | None = None, after_id: int = 0,
               limit: int = MAX_EVENTS) -> list[Event]:
        """Events oldest first: of one domain (or all), from `since`, with an id above `after_id`."""
        from stackshift_cli.domain import format_time

        where, params = ["scope = ?", "id > ?"], [self.scope, after_id]
        if domain_id is not None:
            where.append("domain_id = ?")
            params.append(domain_id)
        if since is not None:
            where.append("at >= ?")
            params.append(format_time(since))
        columns = "id, at, domain_id, domain_name, old_status, new_status, explanation, purpose, host, type"
        if after_id and domain_id is None and since is None:  # what watch asks after each check: the new rows
            rows = self.conn.execute(f"SELECT {columns} FROM events WHERE id > ? AND scope = ? ORDER BY id LIMIT ?",
                                     (after_id, self.scope, limit)).fetchall()
        else:
            rows = self.conn.execute(
                f"SELECT {columns} FROM (SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC "
                "LIMIT ?) ORDER BY at, id", (*params, limit)).fetchall()
        return [event for row in rows if (event := _event(row)) is not None]

    def last_id(self) -> int:
        row = self.conn.execute("SELECT max(id) FROM events WHERE scope = ?", (self.scope,)).fetchone()
        return int(row[0] or 0)

    # ------------------------------------------------------------ the API backend's last states

    def state(self, domain_id: str) -> Before | None:
        import json

        from stackshift_cli.domain import parse_time

        row = self.conn.execute("SELECT status, verified_since, regressed_at, last_change_at, records FROM "
                                "domain_states WHERE scope = ? AND domain_id = ?", (self.scope, domain_id)).fetchone()
        if row is None:
            return None
        try:
            records = {(r[0], str(r[1]), str(r[2])): str(r[3]) for r in json.loads(row[4])}
            return Before(str(row[0]), parse_time(row[1]), parse_time(row[2]), parse_time(row[3]), records)
        except (ValueError, TypeError, IndexError, KeyError):
            return None  # a state stackshift did not write: the next check starts afresh

    def save_state(self, domain: Domain) -> None:
        import json

        from stackshift_cli.domain import format_time

        records = [[r.purpose, r.name, r.type, r.status] for r in domain.records]
        self.conn.execute(
            "INSERT OR REPLACE INTO domain_states (scope, domain_id, status, verified_since, regressed_at, "
            "last_change_at, records) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.scope, domain.id, domain.status, format_time(domain.verified_since),
             format_time(domain.regressed_at), format_time(domain.last_change_at), json.dumps(records)))

    def close(self) -> None:
        if self.owns:
            self.conn.close()


def _event(row: Sequence[Any]) -> Event | None:
    """An event row, checked where it enters; one stackshift would not write is left out."""
    from stackshift_cli.domain import is_dns_name, parse_time

    event_id, at, domain_id, name, old, new, explanation, purpose, host, rtype = row
    try:
        when = parse_time(at)
    except (ValueError, TypeError):
        return None
    if when is None or not isinstance(name, str) or not is_dns_name(name) or not isinstance(new, str) \
            or len(new) > 64 or (old is not None and (not isinstance(old, str) or len(old) > 64)):
        return None
    text = explanation if isinstance(explanation, str) else None
    return Event(when, str(domain_id), name, old, new, text[:4000] if text else None,
                 purpose if isinstance(purpose, str) else None, host if isinstance(host, str) else None,
                 rtype if isinstance(rtype, str) else None, int(event_id))
