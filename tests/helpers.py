"""Running the real CLI from tests: in-process through Typer's CliRunner, or as a real process on a pty."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from stackshift_cli.cli.app import app


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """Runs `stackshift ARGS` in-process with separate stdout and stderr (both piped, not a TTY)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = dict(env or {})
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        result = self.runner.invoke(app, list(args), input=input, env={**self.env, **(env or {})},
                                    catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)


def stackshift_command() -> list[str]:
    """The installed console script when there is one, else the module (same code either way)."""
    script = shutil.which("stackshift")
    return [script] if script else [sys.executable, "-m", "stackshift_cli"]


def run_process(*args: str, env: dict[str, str] | None = None, input: str | None = None,
                timeout: float = 60) -> Result:
    """Runs the real `stackshift` executable as a separate process, stdin/stdout/stderr piped."""
    proc = subprocess.run([*stackshift_command(), *args], capture_output=True, text=True, input=input,
                          env={**os.environ, **(env or {})}, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _pty_output(master: int, proc: subprocess.Popen, timeout: float, describe: Callable[[], str]) -> Iterator[bytes]:
    """What `proc` shows on the terminal whose master side is `master`, chunk by chunk, until it closes it. When
    nothing comes for `timeout` seconds, kills `proc` and raises TimeoutError with the message `describe()`."""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise TimeoutError(describe())
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return
        if not data:
            return
        yield data


def run_on_pty(*args: str, env: dict[str, str] | None = None, columns: int = 80, timeout: float = 60,
               input: bytes | None = None) -> tuple[int, str]:
    """Runs `stackshift` with stdin, stdout and stderr on a real pseudo-terminal of `columns` width.

    Returns the exit code and everything the terminal showed (stdout and stderr interleaved).
    """
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm", **(env or {})}
    proc = subprocess.Popen([*stackshift_command(), *args], stdin=slave, stdout=slave, stderr=slave,
                            env=full_env, close_fds=True)
    os.close(slave)
    if input:
        os.write(master, input)
    chunks = list(_pty_output(master, proc, timeout,
                              lambda: f"stackshift {' '.join(args)} did not finish within {timeout}s"))
    os.close(master)
    code = proc.wait(timeout=timeout)
    return code, b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")


def type_at_hidden_prompt(args: list[str], prompt: bytes, typed: bytes, *, env: dict[str, str] | None = None,
                          timeout: float = 30) -> tuple[int, str]:
    """Runs `stackshift ARGS` with a pty as its controlling terminal (so getpass can hide input on it), and types
    `typed` once `prompt` has shown and echo is off (getpass discards anything typed before).

    Returns the exit code and everything the terminal showed.
    """
    import fcntl
    import termios

    master, slave = pty.openpty()

    def make_controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([*stackshift_command(), *args], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, **(env or {}), "TERM": "xterm"}, preexec_fn=make_controlling_tty,
                            close_fds=True)
    os.close(slave)
    shown, typed_yet = b"", False
    for data in _pty_output(master, proc, timeout, lambda: shown.decode(errors="replace")):
        shown += data
        if not typed_yet and prompt in shown:
            deadline = time.monotonic() + timeout
            while termios.tcgetattr(master)[3] & termios.ECHO:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise TimeoutError(f"the prompt never turned echo off: {shown.decode(errors='replace')}")
                time.sleep(0.01)
            os.write(master, typed)
            typed_yet = True
    os.close(master)
    return proc.wait(timeout=timeout), shown.decode(errors="replace")
