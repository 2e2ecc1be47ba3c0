"""Bulk checks across cores: worker processes, each with its own event loop and DNS session.

The checks of `verify --all` are CPU-bound in one process once their lookups are concurrent (the GIL), and a
machine has more cores. `ProcessWorkers` forks `count` workers when a run starts; the Runner (verify/wait.py)
submits domains as it does to its one event loop, each goes to the worker with the fewest in flight, and the
results come back through a pipe to a reader thread that completes the Runner's futures. The parent keeps
everything else: reading the store, saving each verdict, the report, the display and the exit code.

Workers ignore Ctrl-C (the terminal sends it to the whole process group; the parent decides), exit when told or
when their pipe closes (the parent died), and never touch the parent's files: they only send DNS queries and
results.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from stackshift_cli.domain import Domain
    from stackshift_cli.verify.wait import CheckControl

MAX_PROCESSES = 8


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.load = 0
        self.alive = True
        self.send_lock = threading.Lock()


class ProcessWorkers:
    """`count` forked worker processes running `check_async(domain)` with at most `size` domains in flight in all
    (the Runner submits no more); `start_round` and `finish` run in every worker (its DNS session's round)."""

    def __init__(self, size: int, count: int, check_async: Callable[[Domain], Awaitable[Domain]],
                 start_round: Callable[[], None], finish: Callable[[], None]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # a forked child would write out what is still buffered
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        self.size = max(1, size)
        self._workers: list[_Worker] = []
        self._futures: dict[int, tuple[Future, _Worker]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        try:
            for _ in range(count):
                here, there = context.Pipe()
                process = context.Process(target=_serve, args=(there, here, check_async, start_round, finish),
                                          name="stackshift-verify", daemon=True)
                process.start()
                there.close()
                self._workers.append(_Worker(process, here))
        except BaseException:
            self.shutdown()
            raise
        self._reader = threading.Thread(target=self._read, name="verify-results", daemon=True)
        self._reader.start()

    def start(self, control: CheckControl, domain: Domain) -> Future:
        """Check `domain` in the least busy worker, within the time the control leaves (the run's deadline)."""
        remaining = control.remaining()
        future: Future = Future()
        with self._lock:
            alive = [w for w in self._workers if w.alive]
            if not alive:
                future.set_exception(RuntimeError("every verify worker process has ended"))
                return future
            worker = min(alive, key=lambda w: w.load)
            ident = next(self._ids)
            self._futures[ident] = (future, worker)
            worker.load += 1
        try:
            with worker.send_lock:
                worker.conn.send(("check", ident, domain, remaining))
        except (OSError, ValueError) as exc:  # the worker is gone
            self._settle(ident, False, RuntimeError(f"a verify worker process is gone ({exc})"))
        return future

    def new_round(self) -> None:
        """Start a round in every worker (the Runner's start_round, which each worker holds)."""
        for worker in self._workers:
            try:
                with worker.send_lock:
                    worker.conn.send(("round",))
            except (OSError, ValueError):
                pass

    def shutdown(self, grace: float = 0.0) -> None:
        """Stop every worker: told to stop, given `grace` (at least a second) to close its session (finish, in the
        worker), then killed."""
        for worker in self._workers:
            try:
                with worker.send_lock:
                    worker.conn.send(("stop",))
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + max(1.0, grace)
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
            worker.conn.close()
        with self._lock:
            pending, self._futures = self._futures, {}
        for future, _ in pending.values():
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the run stopped before this check ended"))

    def _read(self) -> None:
        """In a thread: each result as its worker sends it; a worker that ends fails what it still had."""
        from multiprocessing.connection import wait

        open_conns = {worker.conn: worker for worker in self._workers}
        while open_conns:
            try:
                ready = wait(list(open_conns))
            except (OSError, ValueError):
                return
            for ready_conn in ready:
                worker = open_conns[ready_conn]  # type: ignore[index]
                try:
                    ident, ok, payload = worker.conn.recv()
                except (EOFError, OSError, ValueError):
                    del open_conns[worker.conn]
                    self._fail(worker)
                    continue
                self._settle(ident, bool(ok), payload)

    def _settle(self, ident: int, ok: bool, payload: Any) -> None:
        with self._lock:
            future, worker = self._futures.pop(ident, (None, None))
            if worker is not None:
                worker.load -= 1
        if future is None or not future.set_running_or_notify_cancel():
            return
        if ok:
            future.set_result(payload)
        else:
            future.set_exception(payload)

    def _fail(self, worker: _Worker) -> None:
        with self._lock:
            worker.alive = False
            mine = [ident for ident, (_, owner) in self._futures.items() if owner is worker]
        for ident in mine:
            self._settle(ident, False, RuntimeError("a verify worker process ended before its checks did"))


def _serve(conn: Connection, parent_end: Connection, check_async: Callable[[Domain], Awaitable[Domain]],
           start_round: Callable[[], None], finish: Callable[[], None]) -> None:
    """A worker's life: checks as the parent sends them, in one event loop, until told to stop."""
    import asyncio

    parent_end.close()  # the parent's end of this pipe, inherited: closed, so that the parent's exit is seen
    sys.stdout = sys.stderr = open(os.devnull, "w")  # the parent's streams are the parent's to write
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        asyncio.run(_serve_loop(conn, check_async, start_round))
    finally:
        try:
            finish()
        except Exception:
            pass


async def _serve_loop(conn: Connection, check_async: Callable[[Domain], Awaitable[Domain]],
                      start_round: Callable[[], None]) -> None:
    import asyncio

    from stackshift_cli.verify.wait import _CURRENT, CheckControl

    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    tasks: set[asyncio.Task] = set()

    def send(message: tuple) -> None:
        try:
            conn.send(message)
        except (OSError, ValueError):
            stop()
        except Exception as exc:  # a result or error that cannot be pickled
            conn.send((message[0], False, RuntimeError(f"{type(exc).__name__}: {exc}")))

    async def check(ident: int, domain: Domain, remaining: float | None) -> None:
        _CURRENT.set(CheckControl(None if remaining is None else time.monotonic() + remaining))
        try:
            result = await check_async(domain)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            send((ident, False, exc))
            return
        send((ident, True, result))

    def stop() -> None:
        if not stopped.done():
            stopped.set_result(None)

    def readable() -> None:
        try:
            while conn.poll():
                message = conn.recv()
                if message[0] == "check":
                    task = loop.create_task(check(*message[1:]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif message[0] == "round":
                    start_round()
                else:
                    stop()
                    return
        except (EOFError, OSError, ValueError):  # the parent is gone
            stop()

    loop.add_reader(conn.fileno(), readable)
    try:
        await stopped
    finally:
        loop.remove_reader(conn.fileno())
        for task in tasks:
            task.cancel()
