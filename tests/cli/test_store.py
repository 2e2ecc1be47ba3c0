"""The local store: key files and permissions, corruption and read-only dirs, many processes at once."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import run_process


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_store_and_keys_are_private(local_cli, data_dir):
    data = local_cli("domains", "create", "example.com", "--json").json()
    key_path = Path(local_cli("domains", "show", "example.com", "--json").json()["dkimPrivateKeyPath"])
    assert key_path.parent == data_dir / "keys"
    assert _mode(data_dir) == 0o700 and _mode(key_path.parent) == 0o700 and _mode(key_path) == 0o600
    assert key_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (data_dir / "stackshift.db").exists()
    assert data["id"] in key_path.name


def test_private_key_is_never_printed(local_cli, data_dir):
    local_cli("domains", "create", "example.com", "--inbound")
    key_path = next((data_dir / "keys").glob("*.pem"))
    secret_lines = [line for line in key_path.read_text().splitlines() if "-----" not in line]
    outputs = []
    for args in (["domains", "create", "example.com", "--exist-ok"], ["domains", "records", "example.com"],
                 ["domains", "records", "example.com", "--format", "zone"], ["domains", "show", "example.com"],
                 ["domains", "show", "example.com", "--json"], ["domains", "list", "--json"],
                 ["--debug", "domains", "show", "example.com"], ["domains", "delete", "example.com", "--yes"]):
        result = local_cli(*args)
        outputs.append(result.stdout + result.stderr)
    joined = "\n".join(outputs)
    assert "PRIVATE KEY" not in joined
    assert not any(line in joined for line in secret_lines)


def test_delete_removes_the_key_file(local_cli, data_dir):
    local_cli("domains", "create", "example.com")
    assert len(list((data_dir / "keys").glob("*.pem"))) == 1
    assert local_cli("domains", "delete", "example.com", "--yes").exit_code == 0
    assert list((data_dir / "keys").glob("*.pem")) == []


def test_schema_version_is_recorded(local_cli, data_dir):
    from stackshift_cli.backends.local import SCHEMA_VERSION

    local_cli("domains", "create", "example.com")
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_from_a_newer_version_is_left_alone(local_cli, data_dir):
    local_cli("domains", "create", "example.com")
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    before = _digest(data_dir / "stackshift.db")
    result = local_cli("domains", "list")
    assert result.exit_code == 1 and "newer stackshift" in result.stderr
    assert _digest(data_dir / "stackshift.db") == before


@pytest.mark.parametrize("garbage", [b"this is not a database\n" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_store_is_reported_and_never_overwritten(local_cli, data_dir, garbage):
    data_dir.mkdir(mode=0o700)
    db = data_dir / "stackshift.db"
    db.write_bytes(garbage)
    for args in (["domains", "list"], ["domains", "create", "example.com"], ["domains", "show", "example.com"]):
        result = local_cli(*args)
        assert result.exit_code == 1, result.stderr
        assert "Move the file aside" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 2  # the error and what to do
    assert db.read_bytes() == garbage
    assert not (data_dir / "keys").exists() or list((data_dir / "keys").iterdir()) == []


def test_unreadable_store_path_is_an_error(local_cli, data_dir):
    (data_dir / "stackshift.db").mkdir(parents=True)
    result = local_cli("domains", "list")
    assert result.exit_code == 1 and str(data_dir / "stackshift.db") in result.stderr


def _as_unprivileged(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI in a child that has dropped root, so that file permissions apply to it."""
    # The same command runs once as root against a scratch store first, so that every module is imported
    # before root is dropped: the interpreter may live where the unprivileged user cannot read.
    code = (
        "import os, sys, tempfile, traceback\n"
        "from stackshift_cli.cli.app import run\n"
        "real = os.environ['STACKSHIFT_DATA_DIR']\n"
        "os.environ['STACKSHIFT_DATA_DIR'] = tempfile.mkdtemp()\n"
        "run(['domains', 'create', 'warm-up.example'])\n"
        "os.environ['STACKSHIFT_DATA_DIR'] = real\n"
        "if os.geteuid() == 0:\n"
        "    os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        f"sys.exit(run({args!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)
    return proc.returncode, proc.stderr


def test_read_only_data_dir_is_an_error_and_changes_nothing(local_cli, tmp_path):
    # A directory that the unprivileged user can enter but not write, holding a valid store.
    base = Path(tempfile.mkdtemp(prefix="stackshift-ro-"))
    try:
        base.chmod(0o755)
        data = base / "data"
        env = {"STACKSHIFT_DATA_DIR": str(data), "STACKSHIFT_CONFIG_DIR": str(base / "config")}
        assert local_cli("domains", "create", "example.com", env=env).exit_code == 0
        for path in [data, *data.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = {p: _digest(p) for p in data.rglob("*") if p.is_file()}
        code, stderr = _as_unprivileged(["domains", "create", "other.example"], env)
        assert code == 1, stderr
        assert "Traceback" not in stderr and str(data) in stderr
        assert {p: _digest(p) for p in data.rglob("*") if p.is_file()} == before
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o700)
        subprocess.run(["rm", "-rf", str(base)], check=True)


def test_many_processes_at_once_lose_nothing(data_dir):
    """8 processes create 25 domains each against one store; all 200 are there, intact."""
    script = (
        "import sys\n"
        "from stackshift_cli.cli.app import run\n"
        "worker = int(sys.argv[1])\n"
        "for i in range(25):\n"
        "    code = run(['domains', 'create', f'd{i}-w{worker}.example', '--json'])\n"
        "    if code: sys.exit(code)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for w in range(8)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    listed = run_process("domains", "list", "--json").json()
    assert len(listed) == 200
    assert {d["name"] for d in listed} == {f"d{i}-w{w}.example" for i in range(25) for w in range(8)}
    assert all(len(d["records"]) == 4 and d["status"] == "pending" for d in listed)
    assert len(list((data_dir / "keys").glob("*.pem"))) == 200
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_store_of_schema_1_is_migrated_in_place(local_cli, data_dir):
    from stackshift_cli.backends.local import MIGRATIONS

    data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO domains (id, name, status, dkim_selector, inbound, key_file, created_at) "
                     "VALUES ('dom_0123456789abcdef', 'example.com', 'pending', 'stackshift', 0, "
                     "'dom_0123456789abcdef.pem', '2026-01-01T00:00:00Z')")
        conn.execute("PRAGMA user_version = 1")
    result = local_cli("domains", "show", "example.com", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["met"] for r in result.json()["bulkSenderRequirements"]] == [None] * 4
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 6
        assert "requirements" in [row[1] for row in conn.execute("PRAGMA table_info(domains)")]
        assert "domains_by_created" in [row[1] for row in conn.execute("PRAGMA index_list(domains)")]
        assert "publish_journal_by_domain" in [row[1] for row in conn.execute("PRAGMA index_list(publish_journal)")]
        assert "key_generation" in [row[1] for row in conn.execute("PRAGMA table_info(domains)")]
        assert "events_by_domain" in [row[1] for row in conn.execute("PRAGMA index_list(events)")]


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"a": 1}', "[" + '{"requirement": "spf"},' * 3 + "{}]",
                                    '[{"requirement": "spf", "met": "yes", "description": 1, "detail": []}]'])
def test_stored_requirements_that_are_not_valid_are_ignored(local_cli, data_dir, stored):
    local_cli("domains", "create", "example.com")
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        conn.execute("UPDATE domains SET requirements = ?", (stored,))
    result = local_cli("domains", "show", "example.com", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["requirement"] for r in result.json()["bulkSenderRequirements"]] == [
        "spf", "dkim", "dmarc", "alignment"]
