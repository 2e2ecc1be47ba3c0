"""Local stores of N benchmark domains, as `stackshift domains create` would leave them, built fast and cached.

A store is built by writing rows with the store's own schema (`stackshift_cli.backends.local.MIGRATIONS` and
SCHEMA_VERSION), each domain with the records `build_records` makes (domains.records) and one DKIM key shared by all
(every `keys/<id>.pem` is a hard link to one file, mode 0600), so 100,000 domains take seconds instead of 100,000 RSA
key generations. The store is then opened once by the real CLI (`domains show`), which checks it and brings it to the
current schema if stackshift's migrations went further.

Stores are cached under `<cache>/stores/`, keyed by N, the schema version and a fingerprint of what create would
store (the records of domain 1, the key): a change to either builds them again. Runs never touch the cached store:
`copy()` gives each run its own (verify writes its verdicts), with every domain just created (`created_at` now,
as if `create` had just run, so a missing record is pending, not failed, whatever the age of the cache).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench import deps, domains

STORE_FORMAT = 2  # bump when what this module writes changes
KEY_LINKS = 50_000  # domains whose key files are links to one copy of the key
DB_NAME = "stackshift.db"


def _schema() -> tuple[int, list[str]]:
    from stackshift_cli.backends.local import MIGRATIONS, SCHEMA_VERSION

    return SCHEMA_VERSION, MIGRATIONS


def fingerprint(keys: domains.Keys) -> str:
    """What the stores' content depends on: the schema, the records create makes, the key."""
    version, migrations = _schema()
    sample = [r.to_json() for r in domains.records(1, keys)]
    text = json.dumps([STORE_FORMAT, version, migrations, sample, keys.public_b64], sort_keys=True)
    return f"schema{version}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def cached(count: int, cache: Path, keys: domains.Keys, tree: Path, log=print) -> Path:
    """The data directory of a cached store of `count` domains (d000001.bench ...), built if missing; `tree` is
    the stackshift source tree under test (its schema and records are the ones stored)."""
    directory = cache / "stores" / f"n{count}-{fingerprint(keys)}"
    if (directory / ".complete").exists():
        return directory
    with deps.cache_lock(cache, f"store-{count}"):
        if (directory / ".complete").exists():  # built by another bench meanwhile
            return directory
        _build_cached(directory, count, keys, tree, log)
    return directory


def _build_cached(directory: Path, count: int, keys: domains.Keys, tree: Path, log) -> None:
    started = time.perf_counter()
    building = directory.with_name(directory.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        build(building, count, keys, tree)
        (building / ".complete").write_text(f"{count}\n")
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(building, directory)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    log(f"bench: built a store of {count:,} domains in {time.perf_counter() - started:.1f} s ({directory})")


def build(directory: Path, count: int, keys: domains.Keys, tree: Path) -> None:
    """Write a store of `count` domains into the new data directory `directory`, and have the CLI of `tree` read it."""
    version, migrations = _schema()
    directory.mkdir(mode=0o700, parents=True)
    os.chmod(directory, 0o700)
    key_dir = directory / "keys"
    key_dir.mkdir(mode=0o700)
    os.chmod(key_dir, 0o700)
    path = directory / DB_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN")
        for step in migrations[:version]:
            for statement in filter(str.strip, step.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        base = int(time.time()) - count  # one creation a second, oldest first, ending now
        for start in range(1, count + 1, 5000):
            rows, record_rows = [], []
            shared_key = _key_file(directory, keys.pem, start // KEY_LINKS)
            for i in range(start, min(start + 5000, count + 1)):
                domain_id = domains.domain_id(i)
                created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + i))
                rows.append((domain_id, domains.domain_name(i), "pending", domains.SELECTOR, 0, f"{domain_id}.pem",
                             created))
                for position, r in enumerate(domains.records(i, keys)):
                    record_rows.append((domain_id, position, r.purpose, r.type, r.name, r.host, r.value, r.priority,
                                        int(r.required), r.status, r.explanation))
                os.link(shared_key, key_dir / f"{domain_id}.pem")
            conn.executemany("INSERT INTO domains (id, name, status, dkim_selector, inbound, key_file, created_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO records (domain_id, position, purpose, type, name, host, value, priority,"
                             " required, status, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", record_rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if count:  # the CLI under test reads it (and would migrate it, were its schema ahead of MIGRATIONS)
        check = subprocess.run([sys.executable, "-m", "stackshift_cli", "domains", "show", domains.domain_name(1),
                                "--json"], env=cli_env(directory), cwd=tree, capture_output=True, text=True)
        if check.returncode != 0 or json.loads(check.stdout).get("name") != domains.domain_name(1):
            raise RuntimeError(f"stackshift does not read the bench store {directory}: {check.stderr[-1000:]}")
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    if stored != version:
        raise RuntimeError(f"the bench store {directory} has schema {stored} after the check, not {version}: "
                           f"is {tree} the tree whose stackshift_cli the bench imported?")


def _key_file(directory: Path, pem: bytes, index: int) -> Path:
    """The `index`-th copy of the shared key, in `<directory>/.bench-keys` (ext4 allows 65,000 links to a file)."""
    path = directory / ".bench-keys" / f"shared-{index}.pem"
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    return path


def copy(source: Path, destination: Path, *, fresh: bool = True) -> Path:
    """A store of its own for one run: the database copied, the key files linked. With `fresh`, every domain is
    made just created (created_at now), as it would be right after `create`."""
    destination.mkdir(mode=0o700, parents=True)
    os.chmod(destination, 0o700)
    for suffix in ("", "-wal"):
        if (source / (DB_NAME + suffix)).exists():
            shutil.copyfile(source / (DB_NAME + suffix), destination / (DB_NAME + suffix))
            os.chmod(destination / (DB_NAME + suffix), 0o600)
    keys_dir = destination / "keys"
    keys_dir.mkdir(mode=0o700)
    os.chmod(keys_dir, 0o700)
    names = sorted(os.listdir(source / "keys"))
    pem = (source / "keys" / names[0]).read_bytes() if names else b""
    for index, name in enumerate(names):  # links to copies of their own: the cached store's files keep their count
        os.link(_key_file(destination, pem, index // KEY_LINKS), keys_dir / name)
    if fresh:
        conn = sqlite3.connect(destination / DB_NAME, isolation_level=None)
        try:
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            conn.execute("UPDATE domains SET created_at = ?", (now,))
        finally:
            conn.close()
    return destination


def cli_env(data_dir: Path, config_dir: Path | None = None) -> dict[str, str]:
    """The environment of a stackshift run on the store in `data_dir`: nothing from the caller's STACKSHIFT_*
    settings, no colour, and DNS that goes nowhere unless a world is given (world.env() adds it)."""
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes and CI images) would make every run compile stackshift's
    # modules from source: an installed package has its bytecode compiled once, at install time.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSHIFT_") and k not in (
        "NO_COLOR", "FORCE_COLOR", "PYTHONDONTWRITEBYTECODE")}
    env.update({
        "STACKSHIFT_DATA_DIR": str(data_dir),
        "STACKSHIFT_CONFIG_DIR": str(config_dir or data_dir / "config"),
        "STACKSHIFT_BACKEND": "local",
        "STACKSHIFT_NAMESERVERS": "127.0.0.1:9",  # refused at once (the discard port): never the system's resolver
        "NO_COLOR": "1",
        "COLUMNS": "120",
    })
    return env
