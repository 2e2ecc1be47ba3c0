"""No terminal escape sequence from outside reaches the terminal (issue 9, item 2).

A hostile StackShift API returns record values, explanations, statuses and error messages carrying ESC (colour,
`\\e[2J` clear screen, OSC 8 hyperlinks), BEL, CR, NUL and C1 controls. Every format but --json shows them as
visible escapes; JSON escapes them its own way. Checked on pipes and on a real terminal.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.api.server import Fault
from tests.helpers import Cli, run_on_pty

HOSTILE = "x\x1b[2J\x1b[31mred\x07\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\\r\x00\x9b1m\u202e"
RAW = ("\x1b", "\x07", "\x00", "\x9b", "\r", "\u202e")


def assert_nothing_raw(*texts: str) -> None:
    for text in texts:
        found = [repr(c) for c in RAW if c in text]
        assert not found, f"raw {found} in {text!r}"


@pytest.fixture
def hostile(api_server, isolated_env):
    """A domain on the API whose record values and explanations carry control sequences."""
    cli = Cli(api_server.env())
    assert cli("domains", "create", "example.com").exit_code == 0
    with sqlite3.connect(api_server.directory / "store" / "stackshift.db") as conn:
        conn.execute("UPDATE records SET value = ?, explanation = ? WHERE purpose = 'dkim'",
                     (f"v=DKIM1; p={HOSTILE}", f"explained {HOSTILE}"))
    return cli


@pytest.mark.parametrize("args", [
    ("domains", "records", "example.com"),
    ("domains", "records", "example.com", "--format", "plain"),
    ("domains", "records", "example.com", "--format", "csv"),
    ("domains", "records", "example.com", "--format", "zone"),
    ("domains", "show", "example.com"),
], ids=["records", "plain", "csv", "zone", "show"])
def test_piped_formats_show_control_characters_escaped(hostile, args):
    result = hostile(*args)
    assert result.exit_code == 0, result.stderr
    assert_nothing_raw(result.stdout, result.stderr)
    assert "\\x1b[2J" in result.stdout or "\\027[2J" in result.stdout  # shown, not dropped


def test_json_escapes_control_characters_and_keeps_the_value(hostile):
    result = hostile("domains", "show", "example.com", "--json")
    assert result.exit_code == 0
    assert_nothing_raw(result.stdout)
    dkim = next(r for r in result.json()["records"] if r["purpose"] == "dkim")
    assert dkim["value"] == f"v=DKIM1; p={HOSTILE}"  # the data itself is intact for scripts


def test_verify_report_escapes_explanations_from_the_api(api_server, isolated_env):
    cli = Cli(api_server.env())
    assert cli("domains", "create", "example.com").exit_code == 0
    api_server.verdicts = [{"spf": ("failed", f"api says {HOSTILE}")}]
    result = cli("domains", "verify", "example.com")
    assert result.exit_code == 3
    assert_nothing_raw(result.stdout, result.stderr)
    assert "api says x\\x1b[2J" in result.stdout


def test_an_api_error_message_is_one_escaped_line(api_server, isolated_env):
    cli = Cli(api_server.env())
    api_server.fail(Fault(status=500, body={"error": {"code": "boom", "message": f"failed {HOSTILE}"}}, method="GET"),
                    *[Fault(status=500, body={"error": {"message": f"failed {HOSTILE}"}}, method="GET")] * 4)
    result = cli("domains", "list")
    assert result.exit_code == 1
    assert_nothing_raw(result.stdout, result.stderr)
    assert "failed x\\x1b[2J" in result.stderr


def test_a_terminal_shows_escapes_not_effects(hostile, api_server, isolated_env):
    env = {**api_server.env(), "STACKSHIFT_DATA_DIR": str(isolated_env / "data"),
           "STACKSHIFT_CONFIG_DIR": str(isolated_env / "config"), "NO_COLOR": "1"}
    for args in (("domains", "records", "example.com"), ("domains", "show", "example.com")):
        code, screen = run_on_pty(*args, env=env, columns=200)
        assert code == 0, screen
        assert_nothing_raw(screen.replace("\r\n", "\n"))
