"""Global behaviour: --version, --json placement, --quiet, --debug, colour, terminals, start-up cost."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

from stackshift_cli import __version__
from tests.helpers import run_on_pty, run_process, stackshift_command


def test_version(local_cli):
    result = local_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"stackshift {__version__}"


def test_json_works_at_the_root_and_after_the_command(local_cli):
    local_cli("domains", "create", "example.com")
    assert local_cli("--json", "domains", "list").json() == local_cli("domains", "list", "--json").json()


def test_quiet_keeps_data_and_drops_messages(local_cli):
    result = local_cli("--quiet", "domains", "create", "example.com")
    assert result.exit_code == 0 and result.stderr == "" and len(result.stdout.splitlines()) == 4
    assert local_cli("domains", "create", "q.example", env={"STACKSHIFT_QUIET": "1"}).stderr == ""


def test_usage_errors_are_one_line_and_exit_2():
    result = run_process("domains", "create")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "Error: Missing argument 'NAME'."
    unknown = run_process("domains", "list", "--colour")
    assert unknown.exit_code == 2 and "No such option" in unknown.stderr and "Traceback" not in unknown.stderr


def test_debug_shows_a_traceback_for_errors_and_none_without():
    assert "Traceback" not in run_process("domains", "show", "missing.example").stderr
    debug = run_process("--debug", "domains", "show", "missing.example")
    assert debug.exit_code == 5 and "Traceback" in debug.stderr and "NotFound" in debug.stderr
    env_debug = run_process("domains", "show", "missing.example", env={"STACKSHIFT_DEBUG": "1"})
    assert "Traceback" in env_debug.stderr


def test_installed_command_and_module_agree():
    created = run_process("domains", "create", "example.com", "--json")
    assert created.exit_code == 0, created.stderr
    module = subprocess.run([sys.executable, "-m", "stackshift_cli", "domains", "show", "example.com", "--json"],
                            capture_output=True, text=True)
    assert module.returncode == 0 and json.loads(module.stdout)["id"] == created.json()["id"]


def test_terminal_records_show_a_table_then_unwrapped_copy_lines():
    created = run_process("domains", "create", "example.com", "--json").json()
    dkim_value = created["records"][1]["value"]
    code, screen = run_on_pty("domains", "records", "example.com", columns=40)
    assert code == 0
    assert "Copy-ready" in screen
    assert f"stackshift._domainkey\tTXT\t{dkim_value}" in screen.splitlines()  # one line, whatever the width
    assert "\x1b[" not in screen.split("Copy-ready")[1]  # never coloured
    assert "Host" in screen.split("Copy-ready")[0]  # the table comes first


def test_colour_on_a_terminal_and_none_with_no_color():
    run_process("domains", "create", "example.com")
    code, coloured = run_on_pty("domains", "list", env={"NO_COLOR": ""}, columns=160)
    assert code == 0 and "\x1b[" in coloured and "example.com" in coloured
    for env, args in (({"NO_COLOR": "1"}, []), ({"NO_COLOR": ""}, ["--no-color"])):
        code, plain = run_on_pty(*args, "domains", "list", env=env, columns=160)
        assert code == 0 and "\x1b[" not in plain and "example.com" in plain


def test_terminal_delete_asks_and_no_keeps_the_domain():
    run_process("domains", "create", "example.com")
    code, screen = run_on_pty("domains", "delete", "example.com", input=b"n\n")
    assert code == 2 and "Delete example.com" in screen and "nothing was deleted" in screen
    assert len(run_process("domains", "list", "--json").json()) == 1
    code, screen = run_on_pty("domains", "delete", "example.com", input=b"y\n")
    assert code == 0 and "does not change DNS" in screen
    assert run_process("domains", "list", "--json").json() == []


def test_ctrl_c_at_the_prompt_exits_130_and_keeps_the_domain():
    run_process("domains", "create", "example.com")
    master, slave = pty.openpty()
    proc = subprocess.Popen([*stackshift_command(), "domains", "delete", "example.com"], stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    screen = b""
    while b"[y/N]: " not in screen:  # the trailing space is written once input() is reading
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, screen
        screen += os.read(master, 4096)
    time.sleep(0.3)  # a signal that lands before readline waits is only seen at the next keypress
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    os.close(master)
    assert len(run_process("domains", "list", "--json").json()) == 1


def test_list_json_starts_light():
    """`domains list --json` imports neither cryptography, Rich's table, dnspython nor httpx."""
    code = (
        "import sys, io, contextlib\n"
        "from stackshift_cli.cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = run(['domains', 'list', '--json'])\n"
        "heavy = [m for m in ('cryptography', 'rich.table', 'rich.console', 'dns.resolver', 'httpx',\n"
        "                      'publicsuffixlist', 'pydantic') if m in sys.modules]\n"
        "print(rc, ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0"], proc.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly_with_exit_0(local_cli, isolated_env):
    """`stackshift domains list | head -1`: head has what it wanted; no error line, no traceback, exit 0."""
    assert local_cli("domains", "create", "example.com").exit_code == 0
    proc = subprocess.Popen([*stackshift_command(), "domains", "records", "example.com", "--format", "plain"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert stderr == b""


def test_end_of_input_at_the_prompt_is_a_cancellation_not_an_interrupt():
    """Ctrl-D (end of input) at the delete prompt cancels: exit 2 and "nothing was deleted", not 130."""
    run_process("domains", "create", "example.com")
    code, screen = run_on_pty("domains", "delete", "example.com", input=b"\x04")
    assert code == 2, screen
    assert "Cancelled; nothing was deleted." in screen and "Interrupted" not in screen
    assert len(run_process("domains", "list", "--json").json()) == 1


def test_force_color_paints_piped_messages_and_no_color_wins():
    result = run_process("domains", "show", "missing.example", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert result.exit_code == 5 and result.stderr.startswith("\x1b[31mError: \x1b[0m")
    result = run_process("domains", "show", "missing.example", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert result.stderr.startswith("Error: ")


def test_a_dumb_terminal_gets_no_escape_sequences():
    run_process("domains", "create", "ex.com")
    code, screen = run_on_pty("domains", "list", env={"TERM": "dumb", "NO_COLOR": ""}, columns=200)
    assert code == 0 and "Using the local backend" in screen  # a table was drawn
    assert "\x1b[" not in screen
