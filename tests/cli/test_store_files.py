"""The local store's files: rows are not paths, directory modes, no orphan keys, reads that write nothing, Ctrl-C.

Every test runs the real CLI (in-process or as a real `stackshift` process) against a real SQLite store.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import run_process, stackshift_command

KEY_NAME = re.compile(r"^dom_[0-9a-f]{16}\.pem$")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every path under `root`: its kind, mode and (for files) a digest of its bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[str(path)] = ("link", 0, os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[str(path)] = ("dir", stat.S_IMODE(info.st_mode), "")
        else:
            found[str(path)] = ("file", stat.S_IMODE(info.st_mode), hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def _files_and_rows(root: Path, db: Path) -> tuple[dict, list]:
    """Every path under `root` but the store's own files (SQLite rewrites them on reading), and the store's rows."""
    files = {k: v for k, v in _snapshot(root).items() if not Path(k).name.startswith(db.name)}
    with sqlite3.connect(db) as conn:
        rows = [conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in ("domains", "records")]
    conn.close()
    return files, rows


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr and "Internal error" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def _popen(*args: str, env: dict[str, str] | None = None, umask: int | None = None) -> subprocess.Popen:
    return subprocess.Popen([*stackshift_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "STACKSHIFT_BACKEND": "local", **(env or {})},
                            preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def _run(*args: str, env: dict[str, str] | None = None, umask: int | None = None) -> tuple[int, str, str]:
    proc = _popen(*args, env=env, umask=umask)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    """Take the store's write lock (BEGIN IMMEDIATE) in this process, as another stackshift would."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=10)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _wait_for_new_file(directory: Path, before: set[str], timeout: float = 60) -> None:
    """Wait until a file that is not in `before` appears in `directory` (the key a create writes first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if directory.is_dir() and {p.name for p in directory.iterdir()} - before:
            return
        time.sleep(0.02)
    raise AssertionError(f"no new file appeared in {directory} within {timeout}s")


def _age(path: Path, seconds: float = 120) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


# ---------------------------------------------------------------- 1. rows are not paths


@pytest.mark.parametrize(("new_id", "key_file"), [
    (None, "../../precious.txt"),
    (None, "{tmp}/precious.txt"),
    (None, "dom_0123456789abcdef.pem"),  # another domain's key
    ("../../precious", "../../precious.pem"),
    ("dom_0123456789ABCDEF", "dom_0123456789ABCDEF.pem"),
])
def test_a_row_that_names_another_file_is_refused_and_nothing_is_deleted(local_cli, data_dir, tmp_path, new_id,
                                                                         key_file):
    created = local_cli("domains", "create", "example.com", "--json").json()
    own_key = data_dir / "keys" / f"{created['id']}.pem"
    precious = tmp_path / ("precious.pem" if new_id else "precious.txt")
    precious.write_text("do not touch\n")
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        conn.execute("UPDATE domains SET id = ?, key_file = ?",
                     (new_id or created["id"], key_file.format(tmp=tmp_path)))
        conn.execute("UPDATE records SET domain_id = ?", (new_id or created["id"],))
    conn.close()
    before = _files_and_rows(tmp_path, data_dir / "stackshift.db")
    for args in (["domains", "delete", "example.com", "--yes"], ["domains", "show", "example.com", "--json"],
                 ["domains", "show", "example.com"], ["domains", "list", "--json"],
                 ["domains", "records", "example.com"]):
        result = local_cli(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert len(_error_lines(result.stderr)) == 1, result.stderr
        assert "stackshift will not use it" in result.stderr
        assert str(precious) not in result.stdout and "precious" not in result.stdout
        assert result.stdout == ""
    assert precious.read_text() == "do not touch\n"
    assert own_key.exists()
    assert _files_and_rows(tmp_path, data_dir / "stackshift.db") == before  # nothing deleted or written


def test_show_prints_the_key_path_built_from_the_id(local_cli, data_dir):
    created = local_cli("domains", "create", "example.com", "--json").json()
    shown = local_cli("domains", "show", created["id"], "--json").json()
    assert shown["dkimPrivateKeyPath"] == str(data_dir / "keys" / f"{created['id']}.pem")
    text = local_cli("domains", "show", "example.com").stdout
    assert str(data_dir / "keys" / f"{created['id']}.pem") in text


def test_a_row_whose_id_is_a_number_is_one_error_line(local_cli, data_dir):
    local_cli("domains", "create", "example.com")
    with sqlite3.connect(data_dir / "stackshift.db") as conn:
        conn.execute("UPDATE domains SET id = 42")
    result = local_cli("domains", "list", "--json")
    assert result.exit_code == 1
    assert len(_error_lines(result.stderr)) == 1 and "stackshift will not use it" in result.stderr


# ---------------------------------------------------------------- 2. directory modes


def test_missing_directories_and_their_parents_are_created_0700_under_umask_000(tmp_path):
    data = tmp_path / "a" / "b" / "data"
    config = tmp_path / "c" / "d" / "config"
    env = {"STACKSHIFT_DATA_DIR": str(data), "STACKSHIFT_CONFIG_DIR": str(config)}
    code, _, err = _run("domains", "create", "example.com", env=env, umask=0)
    assert code == 0, err
    code, _, err = _run("config", "set", "sending.dmarc_policy", "reject", env=env, umask=0)
    assert code == 0, err
    for directory in (tmp_path / "a", tmp_path / "a" / "b", data, data / "keys",
                      tmp_path / "c", tmp_path / "c" / "d", config):
        assert _mode(directory) == 0o700, directory
    for path in [*data.rglob("*"), *config.rglob("*")]:
        if path.is_file():
            assert _mode(path) == 0o600, path
    assert "Warning" not in err


def test_existing_directories_keep_their_mode_and_an_open_one_is_warned_about_once(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    shared_config = tmp_path / "shared-config"
    shared_config.mkdir()
    shared_config.chmod(0o1777)
    env = {"STACKSHIFT_DATA_DIR": str(shared), "STACKSHIFT_CONFIG_DIR": str(shared_config)}
    code, _, err = _run("domains", "create", "example.com", env=env)
    assert code == 0, err
    assert _mode(shared) == 0o1777 and _mode(shared / "keys") == 0o700
    warnings = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and str(shared) in warnings[0], err
    (shared / "keys").chmod(0o755)  # both directories that hold keys are open now: still one line
    for args in (["domains", "list"], ["domains", "create", "other.example"], ["domains", "show", "example.com"]):
        code, _, err = _run(*args, env=env)
        assert code == 0, err
        assert len([line for line in err.splitlines() if line.startswith("Warning:")]) == 1, err
    assert _mode(shared) == 0o1777 and _mode(shared / "keys") == 0o755
    code, _, err = _run("config", "set", "sending.dmarc_policy", "reject", env=env)
    assert code == 0, err
    assert _mode(shared_config) == 0o1777
    warnings = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and str(shared_config) in warnings[0], err


def test_a_private_existing_directory_gives_no_warning(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o711)
    data.chmod(0o711)  # others may pass through, not read or write: private enough
    code, _, err = _run("domains", "create", "example.com", env={"STACKSHIFT_DATA_DIR": str(data)})
    assert code == 0, err
    assert "Warning" not in err and _mode(data) == 0o711


# ---------------------------------------------------------------- 3. no orphan key files


def test_a_create_killed_while_another_process_holds_the_lock_leaves_no_key(data_dir):
    keys = data_dir / "keys"
    first = run_process("domains", "create", "first.example", "--json", env={"STACKSHIFT_BACKEND": "local"})
    assert first.exit_code == 0, first.stderr
    first_key = f"{first.json()['id']}.pem"
    holder = _hold_write_lock(data_dir / "stackshift.db")
    try:
        proc = _popen("domains", "create", "example.com")
        _wait_for_new_file(keys, {first_key})
        time.sleep(0.3)  # into the wait for the lock
        proc.kill()
        proc.wait(timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [p.name for p in keys.iterdir() if KEY_NAME.match(p.name)] == [first_key]
    leftovers = [p for p in keys.iterdir() if p.name != first_key]
    assert leftovers and all(not KEY_NAME.match(p.name) for p in leftovers)  # only a temporary name
    # What the killed process left is swept by a later write once it is older than a minute.
    for path in leftovers:
        _age(path)
    other = run_process("domains", "create", "other.example", "--json", env={"STACKSHIFT_BACKEND": "local"})
    assert other.exit_code == 0, other.stderr
    assert sorted(p.name for p in keys.iterdir()) == sorted([first_key, f"{other.json()['id']}.pem"])


def test_orphans_older_than_a_minute_are_swept_at_a_write_and_nothing_else(local_cli, data_dir):
    keys = data_dir / "keys"
    kept = local_cli("domains", "create", "example.com", "--json").json()["id"]
    old_orphan, young_orphan = keys / "dom_00000000000000aa.pem", keys / "dom_00000000000000bb.pem"
    old_temp, young_temp = keys / ".dom_00000000000000cc.pem.tmp", keys / ".dom_00000000000000dd.pem.tmp"
    unrelated = [keys / "notes.txt", keys / "dom_short.pem", keys / "backup.pem"]
    for path in (old_orphan, young_orphan, old_temp, young_temp, *unrelated):
        path.write_text("x")
    for path in (old_orphan, old_temp, *unrelated, keys / f"{kept}.pem"):
        _age(path)
    everything = {p.name for p in keys.iterdir()}
    for args in (["domains", "list"], ["domains", "show", "example.com"], ["domains", "records", "example.com"]):
        assert local_cli(*args).exit_code == 0
    assert {p.name for p in keys.iterdir()} == everything  # reads sweep nothing
    added = local_cli("domains", "create", "other.example", "--json").json()["id"]
    assert {p.name for p in keys.iterdir()} == everything - {old_orphan.name, old_temp.name} | {f"{added}.pem"}


def test_a_key_left_under_its_temporary_name_after_the_commit_is_put_in_place(local_cli, data_dir):
    """A create killed between its commit and the rename leaves the temp of a domain that exists: kept."""
    keys = data_dir / "keys"
    domain_id = local_cli("domains", "create", "example.com", "--json").json()["id"]
    (keys / f"{domain_id}.pem").rename(keys / f".{domain_id}.pem.tmp")
    _age(keys / f".{domain_id}.pem.tmp")
    assert local_cli("domains", "create", "other.example").exit_code == 0
    assert (keys / f"{domain_id}.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert not (keys / f".{domain_id}.pem.tmp").exists()


class _Tmpfs:
    """A real tmpfs of `size` bytes mounted at `path` (needs root)."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)

    def fill(self) -> Path:
        filler = self.path / "filler"
        with open(filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        return filler

    def unmount(self) -> None:
        if subprocess.run(["umount", str(self.path)]).returncode:
            subprocess.run(["umount", "-l", str(self.path)], check=True)


def _assert_disk_full_error(code: int, err: str) -> None:
    assert code == 1, err
    assert len(_error_lines(err)) == 1, err
    assert "No space left on device" in err, err
    assert "permission" not in err.lower() and "space" in err.splitlines()[-1].lower(), err


def test_a_full_disk_is_reported_as_such_and_leaves_no_key(tmp_path):
    """Needs root: mounts an 88 KiB tmpfs (too small for a store in use) and a 512 KiB one that is then filled."""
    small = _Tmpfs(tmp_path / "small", "88k")
    try:
        env = {"STACKSHIFT_DATA_DIR": str(small.path / "data")}
        code, _, err = _run("domains", "create", "example.com", env=env)
        _assert_disk_full_error(code, err)
        keys = small.path / "data" / "keys"
        assert not keys.exists() or list(keys.iterdir()) == []
        code, out, err = _run("domains", "list", "--json", env=env)  # no half-made store is left behind
        assert (code, out) == (0, "[]\n"), err
    finally:
        small.unmount()
    disk = _Tmpfs(tmp_path / "disk", "512k")
    try:
        env = {"STACKSHIFT_DATA_DIR": str(disk.path / "data")}
        code, out, err = _run("domains", "create", "example.com", "--json", env=env)
        assert code == 0, err
        keys_before = sorted(p.name for p in (disk.path / "data" / "keys").iterdir())
        filler = disk.fill()
        code, _, err = _run("domains", "create", "other.example", env=env)  # SQLite's files cannot grow
        _assert_disk_full_error(code, err)
        assert sorted(p.name for p in (disk.path / "data" / "keys").iterdir()) == keys_before
        filler.unlink()
        # With the store open elsewhere its shared-memory file stays, so the key file is what cannot be written.
        reader = sqlite3.connect(disk.path / "data" / "stackshift.db")
        try:
            reader.execute("SELECT count(*) FROM domains").fetchall()
            filler = disk.fill()
            code, _, err = _run("domains", "create", "other.example", env=env)
            _assert_disk_full_error(code, err)
            assert "DKIM private key" in err
            assert sorted(p.name for p in (disk.path / "data" / "keys").iterdir()) == keys_before
        finally:
            reader.close()
        filler.unlink()
        code, out, err = _run("domains", "list", "--json", env=env)
        assert code == 0 and '"example.com"' in out and "other.example" not in out, err
        code, _, err = _run("domains", "create", "other.example", env=env)
        assert code == 0, err
    finally:
        disk.unmount()


# ---------------------------------------------------------------- 4. read-only commands do not write


def test_read_only_commands_on_a_fresh_machine_create_nothing(local_cli, isolated_env, data_dir):
    before = _snapshot(isolated_env)
    assert local_cli("domains", "list").stdout == ""
    assert local_cli("domains", "list", "--json").json() == []
    assert local_cli("domains", "list", "--status", "verified", "--json").json() == []
    for args in (["domains", "show", "example.com"], ["domains", "records", "example.com"],
                 ["domains", "show", "dom_0123456789abcdef", "--json"], ["domains", "verify", "example.com"],
                 ["domains", "delete", "example.com", "--yes"]):
        result = local_cli(*args)
        assert result.exit_code == 5 and "No domain" in result.stderr, (args, result.stderr)
    assert local_cli("domains", "verify", "--all").exit_code == 0
    assert _snapshot(isolated_env) == before
    assert not data_dir.exists()


@pytest.mark.parametrize("shape", ["empty file", "symlink to an empty file", "symlinked data dir"])
def test_an_empty_file_is_not_a_store_and_is_left_as_it_is(local_cli, data_dir, tmp_path, shape):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    empty = elsewhere / "stackshift.db"
    empty.touch()
    if shape == "symlinked data dir":
        data_dir.symlink_to(elsewhere)
    else:
        data_dir.mkdir(mode=0o700)
        if shape == "empty file":
            empty = data_dir / "stackshift.db"
            empty.touch()
        else:
            (data_dir / "stackshift.db").symlink_to(empty)
    before = _snapshot(tmp_path)
    for args in (["domains", "list"], ["domains", "list", "--json"], ["domains", "show", "example.com"],
                 ["domains", "records", "example.com"], ["domains", "create", "example.com"],
                 ["domains", "delete", "example.com", "--yes"]):
        result = local_cli(*args)
        assert result.exit_code == 1, (args, result.stderr)
        assert len(_error_lines(result.stderr)) == 1 and "is not a stackshift store" in result.stderr
        assert result.stdout == ""
    assert empty.read_bytes() == b""
    assert _snapshot(tmp_path) == before


# ---------------------------------------------------------------- 5. Ctrl-C while waiting for the lock


def test_ctrl_c_while_another_process_holds_the_lock_stops_at_once(data_dir):
    keys = data_dir / "keys"
    first = run_process("domains", "create", "first.example", env={"STACKSHIFT_BACKEND": "local"})
    assert first.exit_code == 0, first.stderr
    before = {p.name for p in keys.iterdir()}
    holder = _hold_write_lock(data_dir / "stackshift.db")
    try:
        proc = _popen("domains", "create", "example.com")
        _wait_for_new_file(keys, before)
        time.sleep(1.0)  # well into the wait for the lock
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert took < 10, f"took {took:.1f}s to stop"
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "Traceback" not in err
    assert {p.name for p in keys.iterdir()} == before  # its key file is gone too
    listed = run_process("domains", "list", "--json", env={"STACKSHIFT_BACKEND": "local"}).json()
    assert [d["name"] for d in listed] == ["first.example"]
