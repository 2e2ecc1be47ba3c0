"""Child processes of the bench: servers that die with it, and measured runs of a command.

A measured run is one real process: its wall time from just before the spawn to its exit, its own resource usage
from wait4(2) (user and system CPU, peak RSS, its waited-for children included), its exit code and its output, read
from a pipe (as `| jq` or `> file` would) or from a pseudo-terminal (as a person sees it).
"""

from __future__ import annotations

import ctypes
import os
import pty
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

LAUNCHER = Path(__file__).resolve().with_name("launch.py")

try:  # loaded once here: nothing but the prctl call may run between fork and exec
    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _PRCTL = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # in the child, between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


class Server:
    """A long-running child (BIND, Unbound, dnsdist, tcpdump): its output goes to a log file, it runs in its own
    session (Ctrl-C reaches only the bench, which stops it in order), and it is killed if the bench dies."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._log = open(log, "wb")
        main = threading.current_thread() is threading.main_thread()
        self.popen = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True,
                                      preexec_fn=_die_with_parent if main and _PRCTL else None)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def rss_mb(self) -> float | None:
        """The server's resident memory now (VmRSS), in MB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int | None:
        """Signal the server, wait for it (SIGKILL after `timeout`), close its log; its exit status."""
        if self.alive():
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
        self._log.close()
        return self.popen.returncode


@dataclass
class Run:
    """One measured process."""

    argv: list[str]
    returncode: int
    started: float  # time.time() just before the spawn (the clock of packet captures)
    wall: float  # seconds from just before the spawn to the exit
    user: float  # CPU seconds (the process and its waited-for children)
    system: float
    maxrss_kb: int  # peak resident set of the largest of them
    stdout: bytes
    stderr: bytes

    @property
    def cpu(self) -> float:
        return self.user + self.system

    @property
    def rss_mb(self) -> float:
        return self.maxrss_kb / 1024

    def describe(self) -> str:
        tail = (self.stderr or self.stdout).decode(errors="replace").strip().splitlines()[-8:]
        return f"`{' '.join(self.argv)}` exited {self.returncode}:\n  " + "\n  ".join(tail)


class RunTimeout(RuntimeError):
    pass


def run(argv: Sequence[str], *, env: dict[str, str], timeout: float, cwd: Path | None = None,
        keep_stdout: bool = True) -> Run:
    """Run `argv` with stdin from /dev/null and stdout and stderr on pipes that are read as fast as the child writes.

    `keep_stdout=False` reads stdout and drops it (the Run's stdout is then empty), for outputs not worth keeping."""
    started = time.time()
    t0 = time.perf_counter()
    with _launched(argv) as (launched, measured):
        proc = subprocess.Popen(launched, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            return measured(_collect(proc, argv, started, t0, t0 + timeout, keep_stdout))
        except BaseException:  # Ctrl-C, SIGTERM, a timeout: the child does not outlive its measurement
            proc.kill()
            proc.wait()
            raise


@contextmanager
def _launched(argv: Sequence[str]) -> Iterator[tuple[list[str], Callable[[Run], Run]]]:
    """`argv` run through bench/launch.py (see there: a peak RSS of the command's own, not of the bench's process),
    and a function that replaces a Run's figures with the ones the launcher measured."""
    import json
    import tempfile

    handle, result = tempfile.mkstemp(prefix="launch-", suffix=".json")
    os.close(handle)

    def measured(run: Run) -> Run:
        try:
            data = json.loads(Path(result).read_text() or "null")
        except (OSError, ValueError):
            data = None
        if not data:
            return run  # the launcher did not finish (killed): the figures of the launcher itself
        return replace(run, returncode=data["code"], started=data["started"], wall=data["wall"], user=data["user"],
                       system=data["system"], maxrss_kb=data["maxrss_kb"])

    try:
        yield [sys.executable, "-S", "-E", str(LAUNCHER), result, *argv], measured
    finally:
        os.unlink(result)


def _collect(proc: subprocess.Popen, argv: Sequence[str], started: float, t0: float, deadline: float,
             keep_stdout: bool) -> Run:
    out: list[bytes] = []
    err: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        assert proc.stdout is not None and proc.stderr is not None
        selector.register(proc.stdout, selectors.EVENT_READ, out if keep_stdout else None)
        selector.register(proc.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise RunTimeout(f"`{' '.join(argv)}` did not finish within {deadline - t0:.0f}s")
            for key, _ in selector.select(min(remaining, 1.0)):
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data is not None:
                    key.data.append(chunk)
    code, rusage, wall = _wait(proc, t0, deadline)
    proc.stdout.close()
    proc.stderr.close()
    return Run(list(argv), code, started, wall, rusage.ru_utime, rusage.ru_stime, rusage.ru_maxrss,
               b"".join(out), b"".join(err))


def run_on_pty(argv: Sequence[str], *, env: dict[str, str], timeout: float, cwd: Path | None = None,
               columns: int = 120, rows: int = 50) -> Run:
    """Run `argv` with stdin, stdout and stderr on a real pseudo-terminal of `columns` x `rows` (as
    tests/helpers.py run_on_pty does); what the terminal showed is returned as stdout."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full_env = {**env, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm"}
    started = time.time()
    t0 = time.perf_counter()
    with _launched(argv) as (launched, measured):
        proc = subprocess.Popen(launched, env=full_env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                                close_fds=True, start_new_session=True)
        os.close(slave)
        chunks: list[bytes] = []
        deadline = t0 + timeout
        try:
            _read_terminal(proc, master, chunks, argv, deadline)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            os.close(master)
        code, rusage, wall = _wait(proc, t0, deadline)
        return measured(Run(list(argv), code, started, wall, rusage.ru_utime, rusage.ru_stime, rusage.ru_maxrss,
                            b"".join(chunks), b""))


def _read_terminal(proc: subprocess.Popen, master: int, chunks: list[bytes], argv: Sequence[str],
                   deadline: float) -> None:
    """Read what the terminal shows until the child closes it."""
    with selectors.DefaultSelector() as selector:
        selector.register(master, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise RunTimeout(f"`{' '.join(argv)}` on a terminal did not finish in time")
            if not selector.select(min(remaining, 1.0)):
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)


def _wait(proc: subprocess.Popen, t0: float, deadline: float):
    """wait4 the child (killed at the deadline): its exit code, its rusage and the wall time up to its exit."""
    killer = threading.Timer(max(0.0, deadline - time.perf_counter()), proc.kill)
    killer.start()
    try:
        _, status, rusage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # so that Popen does not wait for it again
    return code, rusage, wall
