"""The local store: domains in SQLite under the user's data dir, DKIM private keys beside it."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Iterator

from stackshift_cli import requirements
from stackshift_cli.backends.base import resolve_ref
from stackshift_cli.config import Settings, data_dir
from stackshift_cli.domain import PENDING, DnsRecord, Domain, format_time, parse_time, utcnow
from stackshift_cli.errors import AlreadyExists, NotFound, StoreError
from stackshift_cli.files import ensure_private_dir

DB_NAME = "stackshift.db"
KEYS_DIR = "keys"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0

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
]


class LocalBackend:
    """Backend over a SQLite file; safe with several stackshift processes at once (WAL, busy timeout)."""

    kind = "local"

    def __init__(self, settings: Settings, directory: Path | None = None) -> None:
        self.settings = settings
        self.directory = directory or data_dir()
        self.path = self.directory / DB_NAME
        self.keys_dir = self.directory / KEYS_DIR
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------ connection and schema

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            ensure_private_dir(self.directory)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the data directory {self.directory}: {exc.strerror}.",
                hint="Check its permissions, or set STACKSHIFT_DATA_DIR to a writable directory.",
            ) from None
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The store {self.path} was written by a newer stackshift (schema {version}).",
                    hint="Upgrade stackshift; this version will not change that store.",
                )
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            if version < SCHEMA_VERSION:
                self._migrate(conn)
            self._check_tables(conn)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            for step in MIGRATIONS[version:SCHEMA_VERSION]:
                for statement in filter(str.strip, step.split(";")):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_tables(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"domains", "records"} <= tables:
            raise StoreError(
                f"The store {self.path} is damaged: its tables are missing.",
                hint="Move the file aside to start a new store; stackshift will not overwrite it.",
            )

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "not a database" in text or "malformed" in text or isinstance(exc, sqlite3.DatabaseError) and (
            "corrupt" in text
        ):
            return StoreError(
                f"The store {self.path} is not a readable stackshift database ({text}).",
                hint="Move the file aside to start a new store; stackshift will not overwrite it.",
            )
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return StoreError(
                f"Cannot write the store {self.path} ({text}).",
                hint="Check the permissions of the data directory, or set STACKSHIFT_DATA_DIR.",
            )
        if "locked" in text or "busy" in text:
            return StoreError(f"The store {self.path} stayed locked by another stackshift process ({text}).",
                              hint="Try again in a moment.")
        return StoreError(f"The store {self.path} could not be used ({text}).")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        try:
            with _transaction(conn):
                yield conn
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._store_error(exc) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ the Backend interface

    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool) -> tuple[Domain, bool]:
        from stackshift_cli.keys import generate_dkim_keypair, write_private_key
        from stackshift_cli.records import build_records

        existing = self._find_by_name(name)
        if existing is not None:
            return self._existing(existing, exist_ok), False
        profile = self.settings.sending_profile()
        selector = selector or profile.dkim_selector
        domain_id = "dom_" + secrets.token_hex(8)
        pem, public_key = generate_dkim_keypair()
        records = build_records(name, selector=selector, public_key_b64=public_key, inbound=inbound, profile=profile)
        key_path = write_private_key(self.keys_dir, domain_id, pem)
        created_at = utcnow()
        try:
            with self._write() as conn:
                row = conn.execute("SELECT id FROM domains WHERE name = ?", (name,)).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO domains (id, name, status, dkim_selector, inbound, key_file, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (domain_id, name, PENDING, selector, int(inbound), key_path.name, format_time(created_at)),
                    )
                    _insert_records(conn, domain_id, records)
        except BaseException:
            key_path.unlink(missing_ok=True)
            raise
        if row is not None:  # another process created it between our check and our write
            key_path.unlink(missing_ok=True)
            return self._existing(self._load(row["id"]), exist_ok), False
        return self._load(domain_id), True

    def _existing(self, domain: Domain, exist_ok: bool) -> Domain:
        if not exist_ok:
            raise AlreadyExists(
                f"{domain.name} already exists (id {domain.id}).",
                hint="Use --exist-ok to print it instead, or `stackshift domains records` to see its records.",
            )
        return domain

    def list(self, status: str | None = None) -> list[Domain]:
        sql = "SELECT id FROM domains" + (" WHERE status = ?" if status else "") + " ORDER BY created_at, rowid"
        return [self._load(row["id"]) for row in self._read(sql, (status,) if status else ())]

    def get(self, ref: str) -> Domain:
        return resolve_ref(ref, by_id=self._get_by_id, by_name=self._find_by_name, where="the local store")

    def delete(self, ref: str) -> Domain:
        domain = self.get(ref)
        with self._write() as conn:
            conn.execute("DELETE FROM domains WHERE id = ?", (domain.id,))
        if domain.dkim_key_path:
            try:
                Path(domain.dkim_key_path).unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{domain.name} was deleted, but its key file {domain.dkim_key_path} could not be removed "
                    f"({exc.strerror}).",
                    hint="Remove it by hand.",
                ) from None
        return domain

    def verify(self, domain: Domain) -> Domain:
        return self.save_check(self.check(domain))

    def check(self, domain: Domain) -> Domain:
        """Check the domain's records against DNS without storing: safe in worker threads (no SQLite use)."""
        from stackshift_cli.verify import check_domain

        return check_domain(domain, self.settings)

    def save_check(self, checked: Domain) -> Domain:
        """Store the verdicts of a check (records, aggregate status, lastCheckedAt)."""
        with self._write() as conn:
            found = conn.execute(
                "UPDATE domains SET status = ?, last_checked_at = ?, requirements = ? WHERE id = ?",
                (checked.status, format_time(checked.last_checked_at), requirements.dumps(checked.requirements),
                 checked.id),
            ).rowcount
            if not found:
                raise NotFound(f"{checked.name} was deleted while it was being checked.")
            conn.execute("DELETE FROM records WHERE domain_id = ?", (checked.id,))
            _insert_records(conn, checked.id, list(checked.records))
        return self._load(checked.id)

    def verify_window(self) -> timedelta:
        return timedelta(seconds=self.settings.duration("verify.window"))

    # ------------------------------------------------------------ rows -> Domain

    def _get_by_id(self, domain_id: str) -> Domain:
        if not self._read("SELECT 1 FROM domains WHERE id = ?", (domain_id,)):
            raise NotFound(f"No domain with id {domain_id} in the local store.",
                           hint="Run `stackshift domains list` to see your domains.")
        return self._load(domain_id)

    def _find_by_name(self, name: str) -> Domain | None:
        rows = self._read("SELECT id FROM domains WHERE name = ?", (name,))
        return self._load(rows[0]["id"]) if rows else None

    def _load(self, domain_id: str) -> Domain:
        rows = self._read("SELECT * FROM domains WHERE id = ?", (domain_id,))
        if not rows:
            raise NotFound(f"No domain with id {domain_id} in the local store.")
        row = rows[0]
        records = tuple(
            DnsRecord(
                type=r["type"], name=r["name"], host=r["host"], value=r["value"], purpose=r["purpose"],
                required=bool(r["required"]), status=r["status"], explanation=r["explanation"],
                priority=r["priority"],
            )
            for r in self._read("SELECT * FROM records WHERE domain_id = ? ORDER BY position", (domain_id,))
        )
        return Domain(
            id=row["id"],
            name=row["name"],
            status=row["status"],
            records=records,
            created_at=parse_time(row["created_at"]),
            last_checked_at=parse_time(row["last_checked_at"]),
            dkim_selector=row["dkim_selector"],
            dkim_key_path=str(self.keys_dir / row["key_file"]),
            requirements=requirements.loads(row["requirements"]),
        )


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait instead of failing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


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
