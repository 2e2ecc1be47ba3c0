"""Running the real `stackshift` as a separate process with bounds, signals, and a terminal for the verify tests."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass

from tests.helpers import stackshift_command


@dataclass
class Ended:
    """How a process ended: its exit code (None when it had to be killed), output, and seconds it ran."""

    code: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def hung(self) -> bool:
        return self.code is None


def lab_env(dnslab, isolated_env, resolver: str | None = None) -> dict[str, str]:
    """The environment of a stackshift process on the local store of this test, querying `resolver` (default: the
    lab's) and the lab's authoritative port."""
    return {"STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": resolver or dnslab.resolver,
            "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port), "STACKSHIFT_DATA_DIR": str(isolated_env / "data"),
            "STACKSHIFT_CONFIG_DIR": str(isolated_env / "config")}


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """`stackshift ARGS` with stdout and stderr piped, in its own session (so a hang can be killed whole)."""
    return subprocess.Popen([*stackshift_command(), *args], env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen, *, within: float, started: float | None = None) -> Ended:
    """Wait up to `within` seconds for `proc`; one that is still running then is killed and reported hung."""
    started = time.monotonic() if started is None else started
    try:
        stdout, stderr = proc.communicate(timeout=max(0.0, started + within - time.monotonic()))
        return Ended(proc.returncode, stdout, stderr, time.monotonic() - started)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return Ended(None, stdout, stderr, time.monotonic() - started)


def run(*args: str, env: dict[str, str], within: float) -> Ended:
    started = time.monotonic()
    return finish(start(*args, env=env), within=within, started=started)


def wait_until(condition, *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


_CONTROLLING_TERMINAL = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                         "os.execvp(sys.argv[1], sys.argv[1:])")


class Terminal:
    """`stackshift ARGS` on a real pseudo-terminal that is its controlling terminal (so typing Ctrl-C sends
    SIGINT, as for a person), read by a background loop into `raw`; `screen()` replays it on a small emulator."""

    def __init__(self, *args: str, env: dict[str, str], columns: int = 160, rows: int = 50) -> None:
        self.columns, self.rows = columns, rows
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

        # In a new session, the pty (its stdin) becomes its controlling terminal, then stackshift replaces it.
        command = [sys.executable, "-c", _CONTROLLING_TERMINAL, *stackshift_command(), *args]
        self.proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave,
                                     env={**os.environ, **env, "COLUMNS": str(columns), "LINES": str(rows),
                                          "TERM": "xterm"},
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self.master = master
        self.raw = b""

    def pump(self, seconds: float) -> bool:
        """Read what the program writes for up to `seconds`; False once the terminal is closed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return False
            if not data:
                return False
            self.raw += data
        return True

    def wait_for(self, text: str, *, within: float) -> None:
        deadline = time.monotonic() + within
        while text not in self.raw.decode("utf-8", "replace"):
            if time.monotonic() > deadline or not self.pump(0.1) and text not in self.raw.decode("utf-8", "replace"):
                raise AssertionError(f"{text!r} never appeared on the terminal:\n{self.screen()}")

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, *, within: float) -> int | None:
        """Read until the program ends (None when it is still running after `within` seconds: killed)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.pump(min(0.2, max(0.0, deadline - time.monotonic()))):
            if self.proc.poll() is not None:
                self.pump(0.2)
                break
        try:
            return self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None
        finally:
            self.modes = termios.tcgetattr(self.master)  # the terminal's settings as the program left them
            os.close(self.master)

    def screen(self) -> str:
        return replay(self.raw.decode("utf-8", "replace"), self.columns)


_CSI = re.compile(r"\x1b\[([?0-9;]*)([A-Za-z])")


def replay(text: str, columns: int) -> str:
    """What a terminal shows after `text`: the lines of its buffer (scrolled-off lines kept), trailing blanks
    dropped. Understands what the CLI writes (text, CR, LF, cursor up/down/column, erase in line and below,
    colours); any other escape sequence fails the test rather than be misread."""
    lines: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":
            match = _CSI.match(text, i)
            if match is None:
                if text.startswith("\x1b]", i):  # OSC (a window title, a hyperlink): skip to its end
                    end = min((p for p in (text.find("\x07", i), text.find("\x1b\\", i)) if p >= 0), default=-1)
                    i = end + (1 if text[end] == "\x07" else 2) if end >= 0 else len(text)
                    continue
                raise AssertionError(f"unexpected escape sequence {text[i:i + 8]!r}")
            params, final = match.groups()
            number = int(params) if params.isdigit() else None
            if final == "m" or params.startswith("?"):
                pass  # colours; cursor visibility and other modes
            elif final == "A":
                row = max(0, row - (number or 1))
            elif final == "B":
                row += number or 1
            elif final == "C":
                col += number or 1
            elif final == "D":
                col = max(0, col - (number or 1))
            elif final == "G":
                col = (number or 1) - 1
            elif final == "K":
                while len(lines) <= row:
                    lines.append([])
                line = lines[row]
                if number in (None, 0):
                    del line[col:]
                elif number == 1:
                    line[:col + 1] = [" "] * min(len(line), col + 1)
                else:
                    line.clear()
            elif final == "J" and number in (None, 0):
                while len(lines) <= row:
                    lines.append([])
                del lines[row][col:]
                del lines[row + 1:]
            else:
                raise AssertionError(f"unexpected escape sequence {match.group(0)!r}")
            i = match.end()
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0  # the pty turns LF into CR LF (onlcr)
        elif ch == "\b":
            col = max(0, col - 1)
        elif ch in "\x07\x0e\x0f":
            pass
        else:
            if col >= columns:
                row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            if len(line) < col:
                line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    while len(lines) <= row:
        lines.append([])
    return "\n".join("".join(line).rstrip() for line in lines).rstrip("\n")
