"""The local store: domains in SQLite under the user's data dir, DKIM private keys beside it.

TAB reads the store's names without this module (namecache.local_store_rows); the domain model, keys, records and
DNS modules are imported by the methods that use them.
"""

from __future__ import annotations

import builtins
import errno
import os
import re
import sqlite3
import stat
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from stackshift_cli.backends.base import Backend, resolve_ref
from stackshift_cli.config import Settings, data_dir
from stackshift_cli.configfile import DB_NAME
from stackshift_cli.errors import AlreadyExists, NotFound, StoreError
from stackshift_cli.escape import quoted
from stackshift_cli.files import ensure_private_dir, os_error_hint, warn_if_open
from stackshift_cli.names import LOCAL_ID as _LOCAL_ID, is_local_id
from stackshift_cli.history import EVENTS_DDL
from stackshift_cli.publish.journal import DDL as JOURNAL_DDL
from stackshift_cli.sqlitedb import BUSY_SLICE_S, BUSY_TIMEOUT_S
from stackshift_cli.sqlitedb import SQLITE_BUSY as _SQLITE_BUSY, SQLITE_FULL as _SQLITE_FULL
from stackshift_cli.sqlitedb import SQLITE_LOCKED as _SQLITE_LOCKED, busy_retry as _busy_retry
from stackshift_cli.sqlitedb import memory_db, transaction as _transaction
from stackshift_cli.statuses import MISSING

if TYPE_CHECKING:
    from stackshift_cli.domain import DnsRecord, Domain
    from stackshift_cli.output import Ui
    from stackshift_cli.history import Before, History
    from stackshift_cli.publish.journal import Journal
    from stackshift_cli.rotation import Rotation
    from stackshift_cli.verify import Session

KEYS_DIR = "keys"
SCHEMA_VERSION = 6
EACH_PAGE = 500  # domains read at a time by `each` (verify --all)
SQLITE_HEADER = b"SQLite format 3\x00"
DATA_DIR_ENV = "STACKSHIFT_DATA_DIR"
MOVE_ASIDE = "Move the file aside to start a new store; stackshift will not overwrite it."

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS = [
    """
    CREATE TABLE domains (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        dkim_selector TEXT NOT NULL,
        inbound INTEGER NOT NULL,
        key_file TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_checked_at TEXT
    );
    CREATE TABLE records (
        domain_id TEXT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        purpose TEXT,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        host TEXT NOT NULL,
        value TEXT NOT NULL,
        priority INTEGER,
        required INTEGER NOT NULL,
        status TEXT NOT NULL,
        explanation TEXT,
        PRIMARY KEY (domain_id, position)
    );
    """,
    # 2: the bulk-sender requirements the last check showed (JSON), for `domains show`
    """
    ALTER TABLE domains ADD COLUMN requirements TEXT;
    """,
    # 3: listings read the domains in the order they were created as they stream, without sorting them first
    """
    CREATE INDEX IF NOT EXISTS domains_by_created ON domains (created_at);
    """,
    # 4: the publish journal (publish/journal.py): what `domains publish` wrote at DNS providers
    JOURNAL_DDL,
    # 5: DKIM key rotation (rotation.py): which key file signs (1: <id>.pem, N: <id>.gN.pem), and the rotation
    """
    ALTER TABLE domains ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE dkim_rotations (
        id INTEGER PRIMARY KEY,
        domain_id TEXT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        phase TEXT NOT NULL,
        old_selector TEXT NOT NULL,
        new_selector TEXT NOT NULL,
        old_generation INTEGER NOT NULL,
        new_generation INTEGER NOT NULL,
        key_size INTEGER NOT NULL,
        overlap_s REAL NOT NULL,
        publish INTEGER NOT NULL,
        early INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        seen_at TEXT,
        wait_s REAL,
        ready_at TEXT,
        activated_at TEXT,
        revoked_at TEXT,
        done_at TEXT
    );
    CREATE INDEX dkim_rotations_by_domain ON dkim_rotations (domain_id, id);
    """,
    # 6: history (history.py): the regression facts of each domain, and every status change as an event
    """
    ALTER TABLE domains ADD COLUMN verified_since TEXT;
    ALTER TABLE domains ADD COLUMN regressed_at TEXT;
    ALTER TABLE domains ADD COLUMN last_change_at TEXT;
    ALTER TABLE domains ADD COLUMN status_explanation TEXT;
    """ + EVENTS_DDL,
]
# A domain's rotation is its newest row; the rows before it are the rotations it finished (an abort deletes the
# newest row, which makes the one before it current again, exactly as it was).
_CURRENT_ROTATION = "(SELECT max(id) FROM dkim_rotations WHERE domain_id = ?)"
_ROTATION_COLUMNS = ("phase, old_selector, new_selector, old_generation, new_generation, key_size, overlap_s, publish, "
                     "early, started_at, seen_at, wait_s, ready_at, activated_at, revoked_at, done_at")

_CHANGED_OUTSIDE = "The store was changed outside stackshift: fix or delete that row with sqlite3, or restore a backup."

# A listing reads the domains and their records in two passes over one snapshot, both in the order the domains were
# created (the domains_by_created index, then each domain's records by the records' primary key): a few statements
# in all, whatever the number of domains, and rows are handed on as they are read.
_DOMAIN_COLUMNS = "d.id, d.name, d.status, d.dkim_selector, d.key_file, d.created_at, d.last_checked_at, d.requirements"
_RECORD_COLUMNS = ("r.domain_id, r.type, r.name, r.host, r.value, r.purpose, r.required, r.status, r.explanation, "
                   "r.priority")
_RECORD_STATUS_COLUMNS = "r.domain_id, r.purpose, r.status"  # enough for the check statuses of a table row
_ORDER = "ORDER BY d.created_at, d.rowid"
# A row stackshift would refuse (LocalBackend._check_row), found before a listing prints anything.
_REFUSED = ("NOT (typeof(d.id) = 'text' AND length(d.id) = 20 AND substr(d.id, 1, 4) = 'dom_' "
            "AND ltrim(substr(d.id, 5), '0123456789abcdef') = '' AND typeof(d.key_file) = 'text' "
            "AND d.key_file = d.id || '.pem')")


class LocalBackend(Backend):
    """Backend over a SQLite file; safe with several stackshift processes at once (WAL, busy retries).

    Reading never creates anything: without a store every read finds nothing. The first write creates the
    store, whole (schema and WAL mode) or not at all.
    """

    name = "local"
    where = "the local store"
    keeps_private_keys = True

    @classmethod
    def open(cls, settings: Settings, ui: Ui) -> LocalBackend:
        return cls(settings)

    def __init__(self, settings: Settings, directory: Path | None = None) -> None:
        self.settings = settings
        self.directory = directory or data_dir()
        self.path = self.directory / DB_NAME
        self.keys_dir = self.directory / KEYS_DIR
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------ connection and schema

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection for writing: the store is created if there is none."""
        conn = self._connection(create=True)
        assert conn is not None
        return conn

    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        """The open store; None when there is none and `create` is false."""
        if self._conn is None:
            if not self._store_exists():
                if not create:
                    return None
                self._create_store()
            self._conn = self._open()
        return self._conn

    def _store_exists(self) -> bool:
        """Whether there is a store; an error when something is there that is not an SQLite database.

        Looks without changing anything: an empty file (or a link to one) stays as it is.
        """
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            if os.path.islink(self.path):
                raise StoreError(f"The store {self.path} is not a stackshift store: it is a link to "
                                 f"{quoted(os.readlink(self.path))}, which does not exist.", hint=MOVE_ASIDE) from None
            return False
        except OSError as exc:
            raise StoreError(f"Cannot use the store {self.path}: {exc.strerror}.",
                             hint=os_error_hint(exc, DATA_DIR_ENV)) from None
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise StoreError(f"The store {self.path} is not a stackshift store: it is {kind}.", hint=MOVE_ASIDE)
        if info.st_size == 0:
            raise StoreError(f"The store {self.path} is not a stackshift store: it is an empty file.",
                             hint=MOVE_ASIDE)
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(f"Cannot read the store {self.path}: {exc.strerror}.",
                             hint=os_error_hint(exc, DATA_DIR_ENV)) from None
        if header != SQLITE_HEADER:
            raise StoreError(f"The store {self.path} is not a stackshift store: it is not an SQLite database.",
                             hint=MOVE_ASIDE)
        return True

    def _ensure_directory(self) -> None:
        try:
            ensure_private_dir(self.directory)
        except OSError as exc:
            raise StoreError(f"Cannot create the data directory {self.directory}: {exc.strerror}.",
                             hint=os_error_hint(exc, DATA_DIR_ENV)) from None

    def _warn_if_open(self) -> None:
        warn_if_open([self.directory, self.keys_dir], "DKIM private keys")

    def _create_store(self) -> None:
        """Make a new store under a temporary name (mode 0600) and link it into place: whole, or not at all."""
        from stackshift_cli.keys import ORPHAN_AGE_S

        self._ensure_directory()
        self._warn_if_open()
        _remove_old_temporaries(self.directory.glob(f".{DB_NAME}.*.tmp*"), ORPHAN_AGE_S)  # from a process killed here
        tmp = ""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{DB_NAME}.", suffix=".tmp", dir=self.directory)
            os.close(fd)
            conn = sqlite3.connect(tmp, timeout=BUSY_SLICE_S, isolation_level=None)
            try:
                self._migrate(conn)
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process created the store meanwhile: use that one
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                    raise
                if not os.path.lexists(self.path):  # a file system without hard links
                    os.rename(tmp, self.path)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None
        except OSError as exc:
            raise StoreError(f"Cannot create the store {self.path}: {exc.strerror}.",
                             hint=os_error_hint(exc, DATA_DIR_ENV)) from None
        finally:
            if tmp:
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(tmp + suffix).unlink(missing_ok=True)

    def _open(self) -> sqlite3.Connection:
        self._warn_if_open()
        try:
            conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=rw", uri=True, timeout=BUSY_SLICE_S,
                                   isolation_level=None)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL's recommended level: a commit is not synced to disk on its own (the log is, at each checkpoint),
            # so a killed process loses nothing and the store is never corrupt; only a power loss or OS crash may
            # undo the last commits. verify --all commits a verdict per domain: a sync each cost more than the check.
            conn.execute("PRAGMA synchronous = NORMAL")
            version = _busy_retry(lambda: conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The store {self.path} was written by a newer stackshift (schema {version}).",
                    hint="Upgrade stackshift; this version will not change that store.",
                )
            if _busy_retry(lambda: conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                _busy_retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchall())
            if version < SCHEMA_VERSION:
                self._migrate(conn)
            self._check_tables(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._store_error(exc) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            for step in MIGRATIONS[version:SCHEMA_VERSION]:
                for statement in filter(str.strip, step.split(";")):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_tables(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in _busy_retry(
            lambda: conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall())}
        if not {"domains", "records"} <= tables:
            raise StoreError(
                f"The store {self.path} is damaged: its tables are missing.",
                hint=MOVE_ASIDE,
            )

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code == _SQLITE_FULL or "disk is full" in text or ("disk I/O error" in text and self._disk_full()):
            return StoreError(f"Cannot write the store {self.path}: No space left on device ({text}).",
                              hint=os_error_hint(OSError(errno.ENOSPC, ""), DATA_DIR_ENV))
        if "not a database" in text or "malformed" in text or isinstance(exc, sqlite3.DatabaseError) and (
            "corrupt" in text
        ):
            return StoreError(f"The store {self.path} is not a readable stackshift database ({text}).", hint=MOVE_ASIDE)
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return StoreError(
                f"Cannot write the store {self.path} ({text}).",
                hint="Check the permissions of the data directory, or set STACKSHIFT_DATA_DIR.",
            )
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text:
            return StoreError(f"The store {self.path} stayed locked by another stackshift process for "
                              f"{BUSY_TIMEOUT_S:.0f}s ({text}).", hint="Try again in a moment.")
        return StoreError(f"The store {self.path} could not be used ({text}).")

    def _disk_full(self) -> bool:
        try:
            return os.statvfs(self.directory).f_bavail == 0
        except OSError:
            return False

    @contextmanager
    def _write(self, *, sweep: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (the store is created if there is none). With `sweep` (creates, which are where
        orphans come from) it begins by sweeping orphan keys: under the write lock, so the rows it sees are the
        committed ones."""
        from stackshift_cli.keys import sweep_orphans

        conn = self.conn
        try:
            with _transaction(conn):
                if sweep:
                    sweep_orphans(self.keys_dir, lambda ids: _stored_ids(conn, ids),
                                  lambda: conn.execute("SELECT count(*) FROM domains").fetchone()[0])
                yield conn
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a query; none when there is no store (which reading never creates)."""
        conn = self._connection(create=False)
        if conn is None:
            return []
        try:
            return _busy_retry(lambda: conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None

    def journal(self, *, create: bool = True) -> Journal:
        from stackshift_cli.publish.journal import Journal

        conn = self._connection(create=create)
        return Journal(conn, "local", self.path) if conn is not None else Journal.empty("local")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ the Backend interface

    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool,
               key_size: int | None = None) -> tuple[Domain, bool]:
        import secrets

        from stackshift_cli.domain import PENDING, format_time, utcnow
        from stackshift_cli.keys import KEY_BITS, generate_dkim_keypair, install_key, key_path, write_pending_key
        from stackshift_cli.records import build_records

        existing = self._find_by_name(name)
        if existing is not None:
            return self._existing(existing, exist_ok), False
        profile = self.settings.sending_profile()
        selector = selector or profile.dkim_selector
        domain_id = "dom_" + secrets.token_hex(8)
        pem, public_key = generate_dkim_keypair(key_size or KEY_BITS)
        records = build_records(name, selector=selector, public_key_b64=public_key, inbound=inbound, profile=profile)
        self._connection(create=True)
        # The key gets its real name only once its row is committed: a create that fails, is interrupted or is
        # killed leaves at most a temporary file, which a later write sweeps.
        pending = write_pending_key(self.keys_dir, domain_id, pem)
        created_at = utcnow()
        try:
            with self._write(sweep=True) as conn:
                row = conn.execute("SELECT id FROM domains WHERE name = ?", (name,)).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO domains (id, name, status, dkim_selector, inbound, key_file, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (domain_id, name, PENDING, selector, int(inbound), f"{domain_id}.pem",
                         format_time(created_at)),
                    )
                    _insert_records(conn, domain_id, records)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        if row is not None:  # another process created it between our check and our write
            pending.unlink(missing_ok=True)
            return self._existing(self._load(row["id"]), exist_ok), False
        try:
            install_key(self.keys_dir, domain_id)
        except OSError as exc:  # the row is stored: a later write puts the key in place (sweep_orphans)
            raise StoreError(
                f"{name} was created (id {domain_id}), but its DKIM private key could not be moved to "
                f"{key_path(self.keys_dir, domain_id)} ({exc.strerror}).",
                hint="The next `stackshift domains create` or `delete` retries; it is kept as " + pending.name + ".",
            ) from None
        return self._load(domain_id), True

    def _existing(self, domain: Domain, exist_ok: bool) -> Domain:
        if not exist_ok:
            raise AlreadyExists(
                f"{domain.name} already exists (id {domain.id}).",
                hint="Use --exist-ok to print it instead, or `stackshift domains records` to see its records.",
            )
        return domain

    def list(self, status: str | None = None) -> list[Domain]:
        return [self._domain(row, records) for row, records in self._rows(status)]

    def listing(self, status: str | None = None, *, records: bool = True) -> Iterator[dict[str, Any]]:
        """Each domain's JSON object, built from its rows as they are read: the object Domain.to_json makes of
        what `list` returns, without the model objects in between (a listing of 100,000 domains is read in
        seconds and in bounded memory)."""
        for row, rows in self._rows(status, records=records):
            yield _domain_json(row, rows, with_records=records)

    def listing_json(self, status: str | None = None) -> Iterator[str]:
        """What `listing` yields, each object as one line of JSON (`json.dumps(obj, ensure_ascii=False)`), written
        straight from the rows: the same text, in about half the time of building the objects and encoding them."""
        for row, rows in self._rows(status):
            yield _json_line(row, rows)

    def each(self, select: Callable[[str, str], bool]) -> tuple[int, Iterator[Domain]]:
        """See Backend.each: the ids and statuses are read first (one pass, every row checked as `list` checks it;
        only the rowids of the domains chosen are kept, 8 bytes each), then the domains chosen are read EACH_PAGE
        at a time, each page in its own short read (saving a verdict meanwhile is a write on the same
        connection). A domain deleted meanwhile is left out."""
        from array import array

        chosen = array("q")
        conn = self._connection(create=False)
        if conn is None:
            return 0, iter(())
        try:
            rows = _busy_retry(lambda: conn.execute(
                f"SELECT d.id, d.status, d.key_file, d.name, d.rowid FROM domains d {_ORDER}"))
            rows.row_factory = None
            for domain_id, status, key_file, name, rowid in rows:  # as they are read: never all of them at once
                self._check_row(domain_id, key_file, name)
                if select(domain_id, status):
                    chosen.append(rowid)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None
        return len(chosen), self._pages(chosen)

    def _pages(self, rowids: Sequence[int]) -> Iterator[Domain]:
        for start in range(0, len(rowids), EACH_PAGE):
            page = rowids[start:start + EACH_PAGE]
            marks = ", ".join("?" * len(page))
            rows = {row[-1]: tuple(row)[:-1] for row in self._read(
                f"SELECT {_DOMAIN_COLUMNS}, d.rowid FROM domains d WHERE d.rowid IN ({marks})", tuple(page))}
            ids = tuple(row[0] for row in rows.values())
            records: dict[str, builtins.list[tuple]] = {}
            for record in self._read(f"SELECT {_RECORD_COLUMNS} FROM records r WHERE r.domain_id IN "
                                     f"({', '.join('?' * len(ids))}) ORDER BY r.domain_id, r.position", ids):
                records.setdefault(record[0], []).append(tuple(record))
            for rowid in page:
                row = rows.get(rowid)
                if row is not None:
                    yield self._domain(row, records.get(row[0], ()))

    def get(self, ref: str) -> Domain:
        return resolve_ref(ref, by_id=self._load, by_name=self._find_by_name, where=self.where)

    def delete(self, ref: str) -> Domain:
        from stackshift_cli.keys import key_path

        domain = self.get(ref)
        # from the id and generations _load checked, never from a stored path
        rotation = domain.dkim_rotation
        generations = {1, self.key_generation(domain), *((rotation.old_generation, rotation.new_generation)
                                                         if rotation is not None else ())}
        paths = [key_path(self.keys_dir, domain.id, g) for g in sorted(generations)]
        with self._write() as conn:
            conn.execute("DELETE FROM domains WHERE id = ?", (domain.id,))
            conn.execute("DELETE FROM events WHERE scope = 'local' AND domain_id = ?", (domain.id,))
        try:
            for path in paths:
                path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{domain.name} was deleted, but its key file {path} could not be removed ({exc.strerror}).",
                hint="Remove it by hand.",
            ) from None
        return domain

    def check(self, domain: Domain, *, nameservers: Sequence[str] | None = None) -> Domain:
        """Check the domain's records against DNS without storing: safe in worker threads (no SQLite use)."""
        from stackshift_cli.verify import check_domain

        return check_domain(domain, self.settings, nameservers=nameservers)

    async def check_async(self, domain: Domain, session: Session) -> Domain:
        """The check within a bulk run's DNS session; no SQLite use either."""
        return await session.check(domain)

    def save_check(self, checked: Domain) -> Domain:
        """Store the verdicts of a check (records, aggregate status, lastCheckedAt) and return the domain as stored:
        `checked` with its time as the store keeps it (to the second), without reading it back (verify --all
        saves hundreds a second)."""
        from dataclasses import replace

        from stackshift_cli import requirements
        from stackshift_cli.domain import format_time, parse_time, utcnow
        from stackshift_cli.history import History, changes, settle, with_changes

        at = parse_time(format_time(checked.last_checked_at or utcnow()))
        assert at is not None
        with self._write() as conn:
            before = self._before(conn, checked)
            if before is None:
                raise NotFound(f"{checked.name} was deleted while it was being checked.")
            checked = self._status_follows_signing_key(conn, checked, at)
            settled = settle(checked, before, now=at, window=self._regression_window())
            events = changes(before, settled, at)
            settled = with_changes(settled, events)
            conn.execute(
                "UPDATE domains SET status = ?, last_checked_at = ?, requirements = ?, verified_since = ?, "
                "regressed_at = ?, last_change_at = ?, status_explanation = ? WHERE id = ?",
                (settled.status, format_time(at), requirements.dumps(settled.requirements),
                 format_time(settled.verified_since), format_time(settled.regressed_at),
                 format_time(settled.last_change_at), settled.explanation, settled.id),
            )
            conn.execute("DELETE FROM records WHERE domain_id = ?", (checked.id,))
            _insert_records(conn, checked.id, list(settled.records))
            History(conn, "local", self.path).append(events)  # in the same transaction: never half-written
        return replace(settled, last_checked_at=at, check_statuses={})

    def _before(self, conn: sqlite3.Connection, domain: Domain) -> Before | None:
        """The domain as stored before a check (None when it was deleted meanwhile), its times checked."""
        from stackshift_cli.domain import parse_time
        from stackshift_cli.history import Before

        row = conn.execute("SELECT status, verified_since, regressed_at, last_change_at FROM domains WHERE id = ?",
                           (domain.id,)).fetchone()
        if row is None:
            return None
        try:
            times = [parse_time(v) for v in tuple(row)[1:]]
        except (ValueError, TypeError):
            times = [None, None, None]  # a time stackshift did not write: the regression facts start afresh
        records = {(p, n, t): s for p, n, t, s in conn.execute(
            "SELECT purpose, name, type, status FROM records WHERE domain_id = ?", (domain.id,))}
        return Before(str(row[0]), times[0], times[1], times[2], records)

    def _status_follows_signing_key(self, conn: sqlite3.Connection, checked: Domain, at: datetime) -> Domain:
        """While a key rotation waits for a record (the new one, staged or ready; the old one's revocation, revoked),
        that record is required to move the rotation on, but the domain's mail authenticates with the key that
        signs: the domain's status is the aggregate of the other records (so a rotation is no regression, and a
        stalled one never fails a working domain)."""
        from dataclasses import replace

        from stackshift_cli.domain import DISABLED, aggregate_status
        from stackshift_cli.rotation import READY, REVOKED, STAGED

        row = conn.execute(f"SELECT phase, new_selector, old_selector FROM dkim_rotations WHERE id = "
                           f"{_CURRENT_ROTATION}", (checked.id,)).fetchone()
        if row is None or row[0] not in (STAGED, READY, REVOKED) or checked.status == DISABLED:
            return checked
        waiting = f"{row[2] if row[0] == REVOKED else row[1]}._domainkey.{checked.name}"  # the record it waits for
        others = [r for r in checked.records if r.name != waiting]
        window = timedelta(seconds=self.settings.duration("verify.window"))
        return replace(checked, status=aggregate_status(others, checked.created_at or at, at, window))

    def _regression_window(self) -> timedelta:
        from datetime import timedelta

        return timedelta(seconds=self.settings.duration("verify.regression_window"))

    def history(self) -> History:
        from stackshift_cli.history import History

        conn = self._connection(create=False)
        return History(conn, "local", self.path) if conn is not None else _empty_history("local")

    # ------------------------------------------------------------ rows -> Domain

    def _find_by_name(self, name: str) -> Domain | None:
        rows = self._read("SELECT id FROM domains WHERE name = ?", (name,))
        return self._load(rows[0]["id"]) if rows else None

    def _check_row(self, domain_id: object, key_file: object, name: object) -> None:
        """A row is data from outside: its id must be an id stackshift makes, its key file `<id>.pem`."""
        if type(domain_id) is str and _LOCAL_ID.fullmatch(domain_id) and key_file == domain_id + ".pem":
            return  # the usual case, first and cheap: a listing checks every row
        if not is_local_id(domain_id):
            problem = f"whose id {quoted(repr(domain_id))} is not a stackshift domain id"
        elif key_file != f"{domain_id}.pem":
            problem = f"whose key file is {quoted(repr(key_file))}, not '{domain_id}.pem'"
        else:
            return
        raise StoreError(
            f"The store {self.path} has a row for {quoted(repr(name))} {problem}; stackshift will not use it.",
            hint="The store was changed outside stackshift: fix or delete that row with sqlite3, or restore a backup.",
        )

    def _load(self, domain_id: str) -> Domain:
        """One domain, with the file of the key that signs and its key rotation."""
        from dataclasses import replace

        from stackshift_cli.keys import key_path

        from stackshift_cli.domain import parse_time

        rows = self._read(f"SELECT {_DOMAIN_COLUMNS}, d.key_generation, d.verified_since, d.regressed_at, "
                          "d.last_change_at, d.status_explanation FROM domains d WHERE d.id = ?", (domain_id,))
        if not rows:
            raise NotFound(f"No domain with id {domain_id} in {self.where}.",
                           hint="Run `stackshift domains list` to see your domains.")
        row = tuple(rows[0])
        domain = self._domain(row[:-5], [tuple(r) for r in self._read(
            f"SELECT {_RECORD_COLUMNS} FROM records r WHERE r.domain_id = ? ORDER BY r.position", (domain_id,))])
        generation = self._generation(row[-5], domain)
        try:
            verified_since, regressed_at, last_change_at = (parse_time(v) for v in row[-4:-1])
        except (ValueError, TypeError):
            raise StoreError(f"The store {self.path} has a time that is not one for {domain.name}; stackshift will "
                             "not use it.", hint=_CHANGED_OUTSIDE) from None
        explanation = row[-1] if isinstance(row[-1], str) else None
        return replace(domain, dkim_key_path=str(key_path(self.keys_dir, domain_id, generation)),
                       dkim_rotation=self.rotation(domain), verified_since=verified_since, regressed_at=regressed_at,
                       last_change_at=last_change_at, explanation=explanation[:4000] if explanation else None)

    # ------------------------------------------------------------ DKIM key rotation (rotation.py)

    def key_generation(self, domain: Domain) -> int:
        rows = self._read("SELECT key_generation FROM domains WHERE id = ?", (domain.id,))
        return self._generation(rows[0][0] if rows else 1, domain)

    def _generation(self, value: object, domain: Domain) -> int:
        from stackshift_cli.keys import MAX_GENERATION

        if type(value) is int and 1 <= value <= MAX_GENERATION:
            return value
        raise StoreError(f"The store {self.path} has a key generation {quoted(repr(value))} for {domain.name}; "
                         "stackshift will not use it.", hint=_CHANGED_OUTSIDE)

    def rotation(self, domain: Domain) -> Rotation | None:
        """The domain's key rotation, checked where it enters (a row stackshift would not write is an error)."""
        rows = self._read(f"SELECT {_ROTATION_COLUMNS} FROM dkim_rotations WHERE id = {_CURRENT_ROTATION}",
                          (domain.id,))
        return _rotation(rows[0], domain, self.path) if rows else None

    def stage_rotation(self, domain: Domain, rotation: Rotation, records: Sequence[DnsRecord], pem: bytes) -> None:
        """Stage a rotation in one transaction (its row, the domain's records with the new one), the new key
        written before under its temporary name and given its real name after (as `create` does)."""
        from stackshift_cli.keys import install_key, write_pending_key

        pending = write_pending_key(self.keys_dir, domain.id, pem, rotation.new_generation)
        try:
            with self._write() as conn:
                conn.execute(f"INSERT INTO dkim_rotations (domain_id, {_ROTATION_COLUMNS}) VALUES "
                             f"(?, {', '.join('?' * 16)})", (domain.id, *_rotation_row(rotation)))
                self._replace_records(conn, domain, records)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        install_key(self.keys_dir, domain.id, rotation.new_generation)

    def save_rotation(self, domain: Domain, rotation: Rotation, records: Sequence[DnsRecord] | None = None, *,
                      signing: tuple[str, int] | None = None) -> None:
        """One move of a rotation, in one transaction: its row, and when given the domain's records and the selector
        and key generation that sign."""
        with self._write() as conn:
            found = conn.execute(f"UPDATE dkim_rotations SET ({_ROTATION_COLUMNS}) = ({', '.join('?' * 16)}) "
                                 f"WHERE id = {_CURRENT_ROTATION}", (*_rotation_row(rotation), domain.id)).rowcount
            if not found:
                raise NotFound(f"The key rotation of {domain.name} was ended by another process meanwhile.")
            if records is not None:
                self._replace_records(conn, domain, records)
            if signing is not None:
                conn.execute("UPDATE domains SET dkim_selector = ?, key_generation = ? WHERE id = ?",
                             (signing[0], signing[1], domain.id))

    def abort_rotation(self, domain: Domain, rotation: Rotation, records: Sequence[DnsRecord]) -> None:
        """Undo a staged (or ready) rotation: its row and the new record go in one transaction, then its key."""
        from stackshift_cli.keys import destroy_key, key_path, temp_key_path

        with self._write() as conn:
            conn.execute(f"DELETE FROM dkim_rotations WHERE id = {_CURRENT_ROTATION}", (domain.id,))
            self._replace_records(conn, domain, records)
        destroy_key(key_path(self.keys_dir, domain.id, rotation.new_generation))
        temp_key_path(self.keys_dir, domain.id, rotation.new_generation).unlink(missing_ok=True)

    def _replace_records(self, conn: sqlite3.Connection, domain: Domain, records: Sequence[DnsRecord]) -> None:
        conn.execute("DELETE FROM records WHERE domain_id = ?", (domain.id,))
        _insert_records(conn, domain.id, list(records))

    def _domain(self, row: tuple, records: Sequence[tuple]) -> Domain:
        """The Domain of a row of _DOMAIN_COLUMNS and its rows of _RECORD_COLUMNS; the row is checked first."""
        from stackshift_cli import requirements
        from stackshift_cli.domain import DnsRecord, Domain, parse_time
        from stackshift_cli.keys import key_path

        domain_id, name, status, selector, key_file, created_at, last_checked_at, stored_requirements = row
        self._check_row(domain_id, key_file, name)
        return Domain(
            id=domain_id,
            name=name,
            status=status,
            records=tuple(
                DnsRecord(type=rtype, name=rname, host=host, value=value, purpose=purpose, required=bool(required),
                          status=rstatus, explanation=explanation, priority=priority)
                for _, rtype, rname, host, value, purpose, required, rstatus, explanation, priority in records
            ),
            created_at=parse_time(created_at),
            last_checked_at=parse_time(last_checked_at),
            dkim_selector=selector,
            dkim_key_path=str(key_path(self.keys_dir, domain_id)),
            requirements=requirements.loads(stored_requirements),
        )

    def _checked(self, row: tuple | None) -> tuple | None:
        """A row of _DOMAIN_COLUMNS once _check_row accepts it (None stays None)."""
        if row is not None:
            self._check_row(row[0], row[4], row[1])
        return row

    def _rows(self, status: str | None, *, records: bool = True) -> Iterator[tuple[tuple, Sequence[tuple]]]:
        """(row of _DOMAIN_COLUMNS, its rows of _RECORD_COLUMNS, or of _RECORD_STATUS_COLUMNS without `records`) of
        every domain, oldest first, optionally only those with `status`; nothing when there is no store.

        Both passes read one snapshot (a read transaction), so a write meanwhile cannot make them disagree. A row
        stackshift refuses (_check_row) is looked for first, so that error comes before any domain is handed on,
        as it did when a listing was read whole; each row is still checked as it comes."""
        conn = self._connection(create=False)
        if conn is None:
            return
        where, params = (" WHERE d.status = ?", (status,)) if status else ("", ())
        record_columns = _RECORD_COLUMNS if records else _RECORD_STATUS_COLUMNS
        own = not conn.in_transaction  # inside another listing's snapshot (or a write), read in that one
        try:
            if own:
                _busy_retry(lambda: conn.execute("BEGIN"))
            try:
                and_where = where.replace(" WHERE", " AND")
                if _busy_retry(lambda: conn.execute(
                        f"SELECT 1 FROM domains d WHERE {_REFUSED}{and_where} LIMIT 1", params).fetchone()):
                    self._check_row(*conn.execute(f"SELECT d.id, d.key_file, d.name FROM domains d WHERE {_REFUSED}"
                                                  f"{and_where} {_ORDER} LIMIT 1", params).fetchone())
                domains = _busy_retry(lambda: conn.execute(
                    f"SELECT {_DOMAIN_COLUMNS} FROM domains d{where} {_ORDER}", params))
                domains.row_factory = None  # plain tuples: a listing makes no use of names
                record_rows = _busy_retry(lambda: conn.execute(
                    f"SELECT {record_columns} FROM domains d JOIN records r ON r.domain_id = d.id{where} "
                    f"{_ORDER}, r.position", params))
                record_rows.row_factory = None
                # Both come in the same order: each record belongs to the current domain or to one after it.
                row = self._checked(next(domains, None))
                mine: list[tuple] = []
                for record in record_rows:
                    while row is not None and record[0] != row[0]:
                        yield row, mine
                        row, mine = self._checked(next(domains, None)), []
                    mine.append(record)
                while row is not None:
                    yield row, mine
                    row, mine = self._checked(next(domains, None)), []
            finally:
                if own:
                    try:
                        conn.execute("ROLLBACK")  # ends the read transaction (nothing was written)
                    except sqlite3.Error:
                        pass
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None


def _domain_json(row: tuple, records: Sequence[tuple], *, with_records: bool = True) -> dict[str, Any]:
    """Domain.to_json of the Domain that LocalBackend._domain makes of these rows (checked already), or without
    "records" when they are rows of _RECORD_STATUS_COLUMNS."""
    check_fields = _check_fields()
    checks: dict[str, Any] = {}
    listed: list[dict[str, Any]] = []
    for record in records:
        if with_records:
            _, rtype, name, host, value, purpose, required, status, explanation, priority = record
            data = {"type": rtype, "name": name, "host": host, "value": value, "status": status,
                    "required": bool(required), "explanation": explanation, "purpose": purpose}
            if priority is not None or rtype == "MX":
                data["priority"] = priority
            listed.append(data)
        else:
            _, purpose, status = record
        field = check_fields.get(purpose) if type(purpose) is str else None
        if field is not None and field not in checks:
            checks[field] = status  # a check's status is its first record's (Domain.check_status)
    domain_id, name, status, selector, _, created_at, last_checked_at, _ = row
    data = {"id": domain_id, "name": name, "status": status}
    for field in check_fields.values():
        data[field] = checks.get(field, MISSING)
    if with_records:
        data["records"] = listed
    data["createdAt"] = stored_time(created_at)
    data["lastCheckedAt"] = stored_time(last_checked_at)
    data["dkimSelector"] = selector
    return data


def _json_line(row: tuple, records: Sequence[tuple]) -> str:
    """json.dumps(_domain_json(row, records), ensure_ascii=False), written out for the types stackshift stores (text,
    whole numbers, NULL); a row holding any other type (a store changed by hand) goes through json itself. Every
    string goes through json's own escaping (encode_basestring), and the keys come in Domain.to_json's order."""
    from json.encoder import encode_basestring as quote

    check_fields = _check_fields()
    checks: dict[str, str] = {}
    listed = []
    for _, rtype, name, host, value, purpose, required, status, explanation, priority in records:
        if not (type(rtype) is str and type(name) is str and type(host) is str and type(value) is str
                and type(status) is str and (explanation is None or type(explanation) is str)
                and (purpose is None or type(purpose) is str) and (priority is None or type(priority) is int)):
            return _encoded(row, records)
        if purpose in check_fields and check_fields[purpose] not in checks:
            checks[check_fields[purpose]] = status  # a check's status is its first record's
        text = (f'{{"type": {quote(rtype)}, "name": {quote(name)}, "host": {quote(host)}, "value": {quote(value)}, '
                f'"status": {quote(status)}, "required": {"true" if required else "false"}, '
                f'"explanation": {"null" if explanation is None else quote(explanation)}, '
                f'"purpose": {"null" if purpose is None else quote(purpose)}')
        if priority is not None or rtype == "MX":
            text += f', "priority": {"null" if priority is None else int.__repr__(priority)}}}'
        else:
            text += "}"
        listed.append(text)
    domain_id, name, status, selector, _, created_at, last_checked_at, _ = row
    if not (type(name) is str and type(status) is str and (selector is None or type(selector) is str)):
        return _encoded(row, records)
    created, checked = stored_time(created_at), stored_time(last_checked_at)
    found = tuple(checks.get(field, MISSING) for field, _ in _check_keys())
    statuses = _STATUSES.get(found)
    if statuses is None:  # a few combinations of a few words: each written once
        statuses = ", ".join(f"{key}: {quote(word)}" for (_, key), word in zip(_check_keys(), found))
        if len(_STATUSES) < 4096:
            _STATUSES[found] = statuses
    return (f'{{"id": {quote(domain_id)}, "name": {quote(name)}, "status": {quote(status)}, {statuses}, '
            f'"records": [{", ".join(listed)}], "createdAt": {"null" if created is None else quote(created)}, '
            f'"lastCheckedAt": {"null" if checked is None else quote(checked)}, '
            f'"dkimSelector": {"null" if selector is None else quote(selector)}}}')


def _encoded(row: tuple, records: Sequence[tuple]) -> str:
    """_json_line's text through json itself, for rows holding types it does not write out."""
    from stackshift_cli.output import compact_json

    return compact_json(_domain_json(row, records))


_STATUSES: dict[tuple[str, ...], str] = {}  # the check statuses of a domain -> their part of its JSON line


@lru_cache(maxsize=1)
def _check_keys() -> list[tuple[str, str]]:
    """Each check's status field, and its key as JSON writes it."""
    from json.encoder import encode_basestring

    return [(field, encode_basestring(field)) for field in _check_fields().values()]


@lru_cache(maxsize=1)
def _check_fields() -> dict[str, str]:
    from stackshift_cli.domain import CHECK_FIELDS

    return CHECK_FIELDS


_CANONICAL_TIME = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def stored_time(value: object) -> str | None:
    """format_time(parse_time(value)): a stored time as JSON shows it. A time in the form format_time writes is
    itself when it is a real moment (checked by datetime, without formatting it again, which costs more)."""
    if value is None:
        return None
    if type(value) is str and _CANONICAL_TIME.fullmatch(value):
        try:
            datetime.fromisoformat(value[:-1] + "+00:00")
        except ValueError:
            return None
        return value
    from stackshift_cli.domain import format_time, parse_time

    return format_time(parse_time(value))


def _stored_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """Which of `ids` have a row (asked in chunks, so a large store is never read whole)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(row[0] for row in conn.execute(f"SELECT id FROM domains WHERE id IN ({marks})", chunk))
    return found


def _remove_old_temporaries(paths: Iterable[Path], age_s: float) -> None:
    for path in paths:
        try:
            if time.time() - path.lstat().st_mtime >= age_s:
                path.unlink()
        except OSError:
            continue


def _insert_records(conn: sqlite3.Connection, domain_id: str, records: list[DnsRecord]) -> None:
    conn.executemany(
        "INSERT INTO records (domain_id, position, purpose, type, name, host, value, priority, required, status,"
        " explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (domain_id, i, r.purpose, r.type, r.name, r.host, r.value, r.priority, int(r.required), r.status,
             r.explanation)
            for i, r in enumerate(records)
        ],
    )


def _rotation_row(rotation: Rotation) -> tuple:
    from stackshift_cli.domain import format_time

    r = rotation
    return (r.phase, r.old_selector, r.new_selector, r.old_generation, r.new_generation, r.key_size,
            r.overlap.total_seconds(), int(r.publish), int(r.early), format_time(r.started_at),
            format_time(r.seen_at), r.wait.total_seconds() if r.wait is not None else None, format_time(r.ready_at),
            format_time(r.activated_at), format_time(r.revoked_at), format_time(r.done_at))


def _rotation(row: Sequence[Any], domain: Domain, path: Path) -> Rotation:
    """A rotation row, checked as outside data: its phase, selectors, generations, sizes and times."""
    from datetime import timedelta

    from stackshift_cli.domain import parse_time
    from stackshift_cli.errors import UsageError
    from stackshift_cli.keys import MAX_GENERATION
    from stackshift_cli.records import normalize_selector
    from stackshift_cli.rotation import KEY_SIZES, PHASES, Rotation

    (phase, old_selector, new_selector, old_generation, new_generation, key_size, overlap_s, publish, early,
     started_at, seen_at, wait_s, ready_at, activated_at, revoked_at, done_at) = tuple(row)
    problem = None
    try:
        times = [parse_time(t) if t is not None else None for t in (started_at, seen_at, ready_at, activated_at,
                                                                     revoked_at, done_at)]
        selectors_ok = all(isinstance(v, str) and normalize_selector(v) == v for v in (old_selector, new_selector))
    except (UsageError, ValueError, TypeError):
        times, selectors_ok = [], False
    if phase not in PHASES:
        problem = f"the phase {quoted(repr(phase))}"
    elif not selectors_ok or old_selector == new_selector:
        problem = "selectors that are not valid"
    elif not all(type(g) is int and 1 <= g <= MAX_GENERATION for g in (old_generation, new_generation)) \
            or old_generation == new_generation:
        problem = "key generations that are not valid"
    elif key_size not in KEY_SIZES or not isinstance(overlap_s, (int, float)) or not 0 <= overlap_s <= 3650 * 86400:
        problem = "a key size or overlap that is not valid"
    elif not times or times[0] is None or (wait_s is not None and not (isinstance(wait_s, (int, float))
                                                                       and 0 <= wait_s <= 30 * 86400)):
        problem = "times that are not valid"
    if problem:
        raise StoreError(f"The store {path} has a DKIM key rotation for {domain.name} with {problem}; stackshift "
                         "will not use it.", hint=_CHANGED_OUTSIDE)
    started = times[0]
    assert started is not None
    return Rotation(phase, old_selector, new_selector, old_generation, new_generation, key_size,
                    timedelta(seconds=overlap_s), bool(publish), started, times[1],
                    timedelta(seconds=wait_s) if wait_s is not None else None, times[2], times[3], times[4], times[5],
                    bool(early))


def _empty_history(scope: str) -> History:
    """A history with nothing in it, for reading where there is no store (nothing is created)."""
    from stackshift_cli.history import History

    return History(memory_db(EVENTS_DDL), scope, Path(":memory:"), owns=True)
