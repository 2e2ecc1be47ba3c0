"""Publishing adds no weight to the light commands: `domains list --json` imports neither lexicon nor dnspython
(nor requests), by the quick path or the full CLI, even with a publish journal in the store."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import Cli

PROBE = """
import sys
{run}
heavy = sorted(m for m in ("lexicon", "dns", "requests", "httpx", "rich") if m in sys.modules)
print("heavy:" + ",".join(heavy), file=sys.stderr)
"""
QUICK = "from stackshift_cli.cli.quick import quick_list\nquick_list(['domains', 'list', '--json'])"
FULL = "from stackshift_cli.cli.app import run\nrun(['--debug', 'domains', 'list', '--json'])"


@pytest.fixture
def store_with_journal(isolated_env):
    cli = Cli({"STACKSHIFT_BACKEND": "local"})
    assert cli("domains", "create", "example.com").exit_code == 0
    import sqlite3

    with sqlite3.connect(isolated_env / "data" / "stackshift.db") as conn:  # a journal row, as publish leaves one
        conn.execute("INSERT INTO publish_journal (scope, run, domain_id, domain_name, provider, zone, name, "
                     "removed, added, state, created_at, changed_at) VALUES ('local', 'r', 'dom_0', 'example.com', "
                     "'rfc2136', 'example.com', 'example.com', '[]', '[]', 'applied', 'x', 'x')")


@pytest.mark.parametrize("run", [QUICK, FULL], ids=["quick", "full"])
def test_domains_list_json_imports_neither_lexicon_nor_dnspython(store_with_journal, run):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(run=run)], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "STACKSHIFT_BACKEND": "local"})
    assert '"example.com"' in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "heavy:", proc.stderr
