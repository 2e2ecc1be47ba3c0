"""Stopping `verify` with a signal: SIGTERM like Ctrl-C (summary, exit 143), and a terminal left clean."""

from __future__ import annotations

import re
import signal
import termios
import time

from tests.dnslab.hostile import silent, under
from tests.verify.procs import Terminal, finish, lab_env, start, wait_until

LIVE_HEADER = re.compile(r"^\s*Domain\s+Record\s+Status\s+Explanation\s*$")  # the live table's header line


def create(lab_cli, name: str) -> None:
    assert lab_cli("domains", "create", name).exit_code == 0


def checked(lab_cli, name: str) -> bool:
    return lab_cli("domains", "show", name, "--json").json()["lastCheckedAt"] is not None


def test_sigterm_during_wait_prints_the_summary_like_ctrl_c_and_exits_143(zone, lab_cli, dnslab, isolated_env):
    create(lab_cli, zone)
    proc = start("domains", "verify", zone, "--wait", "--interval", "30s", env=lab_env(dnslab, isolated_env))
    wait_until(lambda: checked(lab_cli, zone), within=20, what="the first check to be stored")
    time.sleep(0.3)  # waiting for the next check
    proc.send_signal(signal.SIGTERM)
    ended = finish(proc, within=10)
    assert not ended.hung, ended.stderr
    assert ended.code == 143, ended.stderr
    lines = ended.stdout.splitlines()
    assert lines[0].startswith(f"{zone}\tpending\t") and len(lines) == 5
    assert [line.split("\t")[2] for line in lines[1:]] == ["missing"] * 4
    assert ended.stderr.rstrip().splitlines()[-1] == "Error: Terminated."
    assert "Traceback" not in ended.stderr


def test_ctrl_c_on_a_terminal_leaves_no_line_of_the_live_table(zone, lab_cli, dnslab, isolated_env):
    create(lab_cli, zone)
    terminal = Terminal("domains", "verify", zone, "--wait", "--interval", "30s", env=lab_env(dnslab, isolated_env))
    terminal.wait_for("Next check in", within=20)
    terminal.pump(0.5)  # a few refreshes of the live table
    terminal.type(b"\x03")  # Ctrl-C, typed: the terminal sends SIGINT (and would echo ^C)
    code = terminal.finish(within=10)
    screen = terminal.screen()
    assert code == 130, screen
    lines = screen.splitlines()
    assert lines[0] == f"{zone}: pending", screen  # the summary starts where the live table was
    assert lines[-1] == "Error: Interrupted."
    assert not [line for line in lines if LIVE_HEADER.match(line) or "Next check in" in line
                or "Ctrl-C stops" in line or "^C" in line], screen
    assert terminal.modes[3] & termios.ECHO  # echo is on again


def test_ctrl_c_on_a_terminal_clears_the_progress_bar_of_verify_all(hostile, lab_cli, dnslab, isolated_env):
    hostile.rule(under("deep.test"), silent())
    create(lab_cli, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.deep.test")
    assert lab_cli("config", "set", "dns.timeout", "1s").exit_code == 0
    resolver = f"{hostile.address[0]}:{hostile.address[1]}"
    terminal = Terminal("domains", "verify", "--all", env=lab_env(dnslab, isolated_env, resolver))
    terminal.wait_for("Verifying", within=20)
    wait_until(lambda: hostile.received(under("deep.test")), within=10, what="the check to start")
    terminal.pump(0.5)
    terminal.type(b"\x03")
    code = terminal.finish(within=5)
    screen = terminal.screen()
    assert code == 130, screen
    lines = screen.splitlines()
    assert lines[0] == "Using the local backend, profile default.", screen
    assert lines[-1] == "Error: Interrupted."
    assert not [line for line in lines if "Verifying" in line or "^C" in line], screen
    assert terminal.modes[3] & termios.ECHO
