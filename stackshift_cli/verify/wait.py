"""Running verifications: several domains at once with a bounded number in flight, and the `--wait` schedule.

No DNS here (the check is a callable, so every backend shares this loop) and no dnspython import: the CLI
loads this module before knowing whether any lookup will run.
"""

from __future__ import annotations

import contextvars
import queue
import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from collections import Counter
from typing import TYPE_CHECKING, Awaitable, Callable, Coroutine, Iterable, Sequence

from stackshift_cli.domain import FAILED, VERIFIED, Domain
from stackshift_cli.errors import ExitCode, NotFound, StackshiftError

if TYPE_CHECKING:
    from stackshift_cli.verify.processes import ProcessWorkers

DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 15 * 60.0
MIN_INTERVAL = 1.0  # --interval below this would flood the DNS servers (and the API) with re-checks
MAX_INTERVAL = 60.0
MAX_IN_FLIGHT = 8
STOP_GRACE = 0.5  # after an interrupt, how long the checks in flight get to end before the run returns anyway


class CheckControl:
    """What a check in a worker thread can learn from the run: the time by which it must end on the run's clock
    (None: only its own bound), and whether the run was interrupted. A check registers a hook (`on_cancel`) that
    stops it; the hook is called from another thread, at most once."""

    def __init__(self, deadline: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.deadline = deadline
        self.clock = clock
        self.cancelled = False
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once it passed); None without one."""
        return None if self.deadline is None else self.deadline - self.clock()

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call `hook` when the run is interrupted (at once if it already was); returns what unregisters it."""
        with self._lock:
            if not self.cancelled:
                self._hooks.append(hook)
                return lambda: self._forget(hook)
        hook()
        return lambda: None

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:
                pass  # a check that already ended cannot be stopped: nothing to do

    def _forget(self, hook: Callable[[], None]) -> None:
        with self._lock:
            if hook in self._hooks:
                self._hooks.remove(hook)


_CURRENT: contextvars.ContextVar[CheckControl | None] = contextvars.ContextVar("stackshift_check", default=None)


def current_check() -> CheckControl | None:
    """The control of the check running in this thread (None outside a Runner)."""
    return _CURRENT.get()


class _Workers:
    """Daemon threads that run `check`. Unlike concurrent.futures' pool, whose threads the interpreter joins at
    exit, a check that never ends (a DNS server that never answers) cannot keep the process alive after an
    interrupt: stopping never waits for more than STOP_GRACE.

    The Runner's workers, of any kind (these, _LoopWorkers, processes.ProcessWorkers), take the same calls:
    `start(control, domain)` a check, `new_round()` before each round, `shutdown(grace)` at the end."""

    def __init__(self, size: int, check: Callable[[Domain], Domain], start_round: Callable[[], None],
                 finish: Callable[[], None]) -> None:
        self.size = max(1, size)
        self._check = check
        self._start_round = start_round
        self._finish = finish
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self, control: CheckControl, domain: Domain) -> Future:
        future: Future = Future()
        self._queue.put((future, control, domain))
        if len(self._threads) < self.size:
            thread = threading.Thread(target=self._work, name=f"verify-{len(self._threads) + 1}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, control, domain = item
            if not future.set_running_or_notify_cancel():
                continue
            token = _CURRENT.set(control)  # the check's control, visible to it as current_check()
            try:
                result = self._check(domain)
            except BaseException as exc:  # a cancelled check ends with CancelledError: reported on its future
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                _CURRENT.reset(token)

    def new_round(self) -> None:
        self._start_round()

    def shutdown(self, grace: float = 0.0) -> None:
        try:
            self._finish()
        except Exception:
            pass  # a failing clean-up must not hide why the run ended
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class Schedule:
    """When to re-check: from `interval`, growing by `growth` up to `max_interval`, with jitter, never faster
    than `interval` (an interval above the maximum is kept as given)."""

    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    max_interval: float = MAX_INTERVAL
    growth: float = 1.5
    jitter: float = 0.2  # spreads many waiting clients so they do not query in step

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before re-check number `attempt` (1 is the first re-check)."""
        ceiling = max(self.max_interval, self.interval)
        base = min(self.interval * self.growth ** max(attempt - 1, 0), ceiling)
        jittered = base * (1 + rng.uniform(-self.jitter, self.jitter))
        return min(max(jittered, self.interval), ceiling)


@dataclass
class Progress:
    """What a display needs to know between checks, and what a run leaves: the results (kept when the run
    re-checks, or when asked; otherwise each result goes to `on_result` and is not kept) and their tally."""

    results: dict[str, Domain]  # by id, in the order given
    round: int = 0  # 0 for the first check of every domain, then one per re-check
    next_check_at: float | None = None  # monotonic time of the next round, while waiting
    deadline: float | None = None
    timed_out: bool = False
    stopped_on_failure: bool = False
    errors: int = 0  # checks that raised an unexpected error (with `isolate`)
    skipped: list[Domain] = field(default_factory=list)  # deleted while being checked (with `isolate`)
    checked: int = 0  # results stored in this run (every round)
    # (status, could not be checked) -> domains, as each domain's last result says
    statuses: Counter = field(default_factory=Counter)

    def exit_code(self) -> ExitCode:
        """What exit_code() says of the domains' last results."""
        last = {key for key, count in self.statuses.items() if count > 0}
        if any(error for _, error in last):
            return ExitCode.ERROR
        if any(status == FAILED for status, _ in last):
            return ExitCode.VERIFICATION_FAILED
        if all(status == VERIFIED for status, _ in last):
            return ExitCode.OK
        return ExitCode.VERIFICATION_PENDING


@dataclass
class Runner:
    """Checks domains concurrently and hands each result to `save` in the calling thread.

    A check is either `check`, a function run in worker threads (at most `in_flight` at once), or `check_async`,
    a coroutine run in one event loop in one worker thread (at most `in_flight` domains at once: hundreds, as
    its lookups are bounded by the DNS session, not by threads), or with `processes` above 1 in that many forked
    worker processes, each with its own loop. `start_round` is called before each round where the checks run (a
    DNS session forgets the previous round's answers there), and `finish` there after the last.

    Domains are taken from the iterable given as the run goes, and with `keep` (or a schedule, which re-checks
    them) each domain's last result is kept in the Progress; otherwise it goes to `on_result` and only the
    tally stays, so a run of any size holds a bounded number of domains.

    `check` must not touch anything the calling thread uses (the local store's SQLite connection is
    single-threaded); `save` stores a result and returns what was stored. With `isolate`, an unexpected error
    in one domain's check (a bug, not a StackshiftError such as an unreachable API) is reported on that domain
    alone: it keeps its stored status, the error goes into its explanations and `check_error`, nothing is
    stored for it, and every other domain is still checked. With `isolate`, a domain deleted while it was being
    checked (NotFound from `check` or `save`) is dropped from the run and handed to `on_skip`.

    Each check runs with a CheckControl (`current_check()` in its thread or task): with a schedule its deadline is
    the run's, so a check in flight ends by --timeout; an interrupt (KeyboardInterrupt, errors.Terminated) cancels
    every check in flight and the run re-raises at once, without waiting for them beyond STOP_GRACE.
    """

    check: Callable[[Domain], Domain] | None = None
    save: Callable[[Domain], Domain] = lambda d: d
    schedule: Schedule | None = None  # None: check once
    fail_fast: bool = False
    isolate: bool = False
    in_flight: int = MAX_IN_FLIGHT
    min_check_time: float = 0.0  # the last re-check starts at least this long before the deadline
    on_result: Callable[[Domain | None, Domain, Progress], None] = lambda old, new, progress: None
    on_error: Callable[[Domain, BaseException], None] = lambda domain, exc: None
    on_skip: Callable[[Domain, StackshiftError], None] = lambda domain, exc: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    check_async: Callable[[Domain], Awaitable[Domain]] | None = None
    start_round: Callable[[], None] = lambda: None
    finish: Callable[[], None] = lambda: None  # after the last round (or an interrupt), where start_round runs
    keep: bool = True
    processes: int = 1  # check_async in this many forked worker processes (verify/processes.py), when above 1

    def __post_init__(self) -> None:
        if (self.check is None) == (self.check_async is None):
            raise TypeError("A Runner takes one check: `check` (threads) or `check_async` (an event loop).")

    def run(self, domains: Iterable[Domain], progress: Progress | None = None) -> Progress:
        """Check every domain, and with a schedule re-check the unverified ones until done or timed out.

        Pass a Progress to keep the results checked so far when the run is interrupted (KeyboardInterrupt).
        """
        progress = progress or Progress({})
        keep = self.keep or self.schedule is not None
        if self.schedule is not None:
            progress.deadline = self.clock() + self.schedule.timeout
        workers = self._workers()
        controls: set[CheckControl] = set()
        todo: Iterable[Domain] = domains
        try:
            while True:
                workers.new_round()
                self._round(workers, todo, progress, controls, keep)
                if self.schedule is None or progress.deadline is None or progress.stopped_on_failure:
                    break
                todo = [d for d in progress.results.values() if d.status != VERIFIED]
                if not todo:
                    break
                remaining = progress.deadline - self.clock()
                latest = remaining - self.min_check_time  # the last moment a re-check can start and end in time
                if latest <= 0:
                    self.sleep(max(0.0, remaining))  # no re-check fits before the deadline: wait for it, give up
                    progress.timed_out = True
                    break
                progress.round += 1
                delay = min(self.schedule.delay(progress.round, self.rng), latest)
                progress.next_check_at = self.clock() + delay
                self.sleep(delay)
                progress.next_check_at = None
        except BaseException:
            for control in list(controls):
                control.cancel()
            workers.shutdown(grace=STOP_GRACE)
            raise
        workers.shutdown()
        return progress

    def _workers(self) -> _Workers | _LoopWorkers | ProcessWorkers:
        """Threads for `check`; for `check_async`, one event loop, or worker processes each with its own."""
        if self.check is not None:
            return _Workers(self.in_flight, self.check, self.start_round, self.finish)
        assert self.check_async is not None
        if self.processes > 1:
            from stackshift_cli.verify.processes import ProcessWorkers

            return ProcessWorkers(self.in_flight, self.processes, self.check_async, self.start_round, self.finish)
        return _LoopWorkers(self.in_flight, self.check_async, self.start_round, self.finish)

    def _round(self, workers: _Workers | _LoopWorkers | ProcessWorkers, todo: Iterable[Domain], progress: Progress,
               controls: set[CheckControl], keep: bool) -> None:
        """Check each domain of `todo` once, at most `in_flight` at a time, taking them from it as places free up."""
        waiting = iter(todo)
        submitted: dict[Future, tuple[Domain, CheckControl]] = {}
        # Each check's future puts itself here when done: the main thread wakes once per batch of results, at a
        # cost that does not grow with the number in flight (concurrent.futures.wait locks every future it is given).
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        stopped = False
        try:
            while True:
                while not stopped and len(submitted) < workers.size:
                    domain = next(waiting, None)
                    if domain is None:
                        stopped = True
                        break
                    if keep:
                        progress.results.setdefault(domain.id, domain)
                    control = CheckControl(progress.deadline, self.clock)
                    controls.add(control)
                    future = workers.start(control, domain)
                    submitted[future] = (domain, control)
                    future.add_done_callback(finished.put)
                if not submitted:
                    return
                done = [finished.get()]
                while not finished.empty():
                    done.append(finished.get_nowait())
                for future in done:
                    domain, control = submitted.pop(future)
                    controls.discard(control)
                    checked = self._stored(future, domain, progress)
                    if checked is None:
                        progress.results.pop(domain.id, None)
                        continue
                    previous = progress.results.get(checked.id) if keep else None
                    _tally(progress, previous if progress.round else None, checked)
                    if keep:
                        progress.results[checked.id] = checked
                    self.on_result(previous if keep else domain, checked, progress)
                    if self.fail_fast and checked.status == FAILED:
                        progress.stopped_on_failure = True
                        return
        finally:
            for future, (_, control) in submitted.items():  # stopped early (fail-fast, an error): not waited for
                future.cancel()
                control.cancel()
                controls.discard(control)

    def _stored(self, future: Future, domain: Domain, progress: Progress) -> Domain | None:
        """The stored result of one check; (isolated) the domain as it was, carrying the error, or None when the
        domain was deleted meanwhile."""
        try:
            try:
                result = future.result()
            except StackshiftError:
                raise
            except Exception as exc:
                if not self.isolate:
                    raise
                progress.errors += 1
                self.on_error(domain, exc)
                return unchecked(domain, exc)
            return self.save(result)
        except NotFound as exc:  # deleted by someone else while it was being checked (API: 404; store: no row)
            if not self.isolate:
                raise
            progress.skipped.append(domain)
            self.on_skip(domain, exc)
            return None


def _tally(progress: Progress, counted: Domain | None, result: Domain) -> None:
    """Count `result` as its domain's last result, in place of `counted` (what an earlier round said of it)."""
    if counted is not None:
        progress.statuses[(counted.status, bool(counted.check_error))] -= 1
    progress.statuses[(result.status, bool(result.check_error))] += 1
    progress.checked += 1


class _LoopWorkers:
    """One event loop in a daemon thread that runs the checks' coroutines, `size` domains at a time (the Runner
    submits no more). Like _Workers, it never keeps the process alive after an interrupt."""

    def __init__(self, size: int, check: Callable[[Domain], Awaitable[Domain]], start_round: Callable[[], None],
                 finish: Callable[[], None]) -> None:
        import asyncio

        self.size = max(1, size)
        self._check = check
        self._start_round = start_round
        self._finish = finish
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="verify-loop", daemon=True)
        self._thread.start()

    def start(self, control: CheckControl, domain: Domain) -> Future:
        return self._submit(self._checked(control, domain))

    async def _checked(self, control: CheckControl, domain: Domain) -> Domain:
        _CURRENT.set(control)  # visible to the check as current_check() (a task's context is its own)
        return await self._check(domain)

    def _submit(self, coroutine: Coroutine) -> Future:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def new_round(self) -> None:
        """start_round in the loop's thread (where the DNS session lives), waited for."""
        async def run() -> None:
            self._start_round()

        self._submit(run()).result()

    def shutdown(self, grace: float = 0.0) -> None:
        import asyncio

        async def stop() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=grace)
            try:
                self._finish()
            except Exception:
                pass  # a failing clean-up must not hide why the run ended

        if self.loop.is_running():
            try:
                self._submit(stop()).result(timeout=grace + 1.0)
            except Exception:
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(grace + 1.0)
        if not self._thread.is_alive():
            self.loop.close()


def unchecked(domain: Domain, exc: BaseException) -> Domain:
    """`domain` unchanged but for the error that kept it from being checked, in every record's explanation."""
    from dataclasses import replace

    from stackshift_cli.escape import visible

    error = visible(f"internal error: {type(exc).__name__}: {exc}")[:300]
    note = (f"Not checked: stackshift hit an {error}; the status shown is from the last check. This is a bug in "
            "stackshift: run again with --debug for the traceback and report it.")
    records = tuple(replace(r, explanation=note) for r in domain.records)
    return replace(domain, records=records, check_error=f"Not checked: {error}")


def exit_code(domains: Sequence[Domain]) -> ExitCode:
    """1 when a domain could not be checked at all, else 0 when every domain is verified, 3 when any failed,
    else 4 (pending)."""
    if any(d.check_error for d in domains):
        return ExitCode.ERROR
    statuses = {d.status for d in domains}
    if FAILED in statuses:
        return ExitCode.VERIFICATION_FAILED
    if statuses <= {VERIFIED}:
        return ExitCode.OK
    return ExitCode.VERIFICATION_PENDING
