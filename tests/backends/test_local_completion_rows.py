"""namecache.local_store_rows: the local store's names for TAB, read without creating or changing anything."""

from __future__ import annotations

import subprocess
import sys

from stackshift_cli.configfile import DB_NAME
from stackshift_cli.namecache import local_store_rows as completion_rows


def test_no_store_gives_no_rows_and_creates_nothing(tmp_path):
    directory = tmp_path / "data"
    directory.mkdir()
    assert completion_rows(directory) == []
    assert list(directory.iterdir()) == []
    assert completion_rows(tmp_path / "missing") == [] and not (tmp_path / "missing").exists()


def test_rows_are_name_id_status_oldest_first(local_cli, data_dir):
    created = [local_cli("domains", "create", name, "--json").json() for name in ("b.example", "a.example")]
    assert completion_rows(data_dir) == [(d["name"], d["id"], "pending") for d in created]


def test_a_file_that_is_not_a_store_gives_no_rows_and_is_left_as_it_is(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not sqlite")
    assert completion_rows(tmp_path) == []
    assert (tmp_path / DB_NAME).read_bytes() == b"not sqlite"


def test_rows_are_read_as_the_store_holds_them_for_namecache_to_check(local_cli, data_dir):
    import sqlite3

    assert local_cli("domains", "create", "ok.example").exit_code == 0
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        conn.execute("UPDATE domains SET name = 'bad name;rm'")
    conn.close()
    assert [row[0] for row in completion_rows(data_dir)] == ["bad name;rm"]


def test_reading_the_rows_imports_nothing_heavy(local_cli, data_dir):
    assert local_cli("domains", "create", "ok.example").exit_code == 0
    code = ("import sys\nfrom pathlib import Path\nfrom stackshift_cli.namecache import local_store_rows as completion_rows\n"
            f"rows = completion_rows(Path({str(data_dir)!r}))\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('cryptography', 'dns', 'httpx', 'rich', 'idna')"
            " or m in ('stackshift_cli.keys', 'stackshift_cli.records') or m.startswith('stackshift_cli.verify')]\n"
            "print(len(rows), heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1 []"
