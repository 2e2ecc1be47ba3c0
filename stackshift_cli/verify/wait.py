"""Running verifications: several domains at once with a bounded number in flight, and the `--wait` schedule.

No DNS here (the check is a callable, so both backends share this loop) and no dnspython import: the CLI
loads this module before knowing whether any lookup will run.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Sequence

from stackshift_cli.domain import FAILED, VERIFIED, Domain
from stackshift_cli.errors import ExitCode, StackshiftError

DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 15 * 60.0
MAX_INTERVAL = 60.0
MAX_IN_FLIGHT = 8


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
    """What a display needs to know between checks."""

    results: dict[str, Domain]  # by id, in the order given
    checks: int = 0  # checks finished in this run
    round: int = 0  # 0 for the first check of every domain, then one per re-check
    next_check_at: float | None = None  # monotonic time of the next round, while waiting
    deadline: float | None = None
    timed_out: bool = False
    stopped_on_failure: bool = False
    errors: int = 0  # checks that raised an unexpected error (with `isolate`)


@dataclass
class Runner:
    """Checks domains in worker threads and hands each result to `save` in the calling thread.

    `check` must not touch anything the calling thread uses (the local store's SQLite connection is
    single-threaded); `save` stores a result and returns what was stored. With `isolate`, an unexpected error
    in one domain's check (a bug, not a StackshiftError such as an unreachable API) is reported on that domain
    alone: it keeps its stored status, the error goes into its explanations and `check_error`, nothing is
    stored for it, and every other domain is still checked.
    """

    check: Callable[[Domain], Domain]
    save: Callable[[Domain], Domain] = lambda d: d
    schedule: Schedule | None = None  # None: check once
    fail_fast: bool = False
    isolate: bool = False
    in_flight: int = MAX_IN_FLIGHT
    on_result: Callable[[Domain | None, Domain, Progress], None] = lambda old, new, progress: None
    on_wait: Callable[[Progress], None] = lambda progress: None
    on_error: Callable[[Domain, BaseException], None] = lambda domain, exc: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def run(self, domains: Sequence[Domain], progress: Progress | None = None) -> Progress:
        """Check every domain, and with a schedule re-check the unverified ones until done or timed out.

        Pass a Progress to keep the results checked so far when the run is interrupted (KeyboardInterrupt).
        """
        progress = progress or Progress({})
        progress.results.update({d.id: d for d in domains})
        if self.schedule is not None:
            progress.deadline = self.clock() + self.schedule.timeout
        todo = list(domains)
        with ThreadPoolExecutor(max_workers=max(1, min(self.in_flight, len(todo)))) as pool:
            try:
                while todo:
                    self._round(pool, todo, progress)
                    todo = [d for d in progress.results.values() if d.status != VERIFIED]
                    if not todo or self.schedule is None or progress.stopped_on_failure:
                        break
                    remaining = progress.deadline - self.clock()
                    if remaining <= 0:
                        progress.timed_out = True
                        break
                    progress.round += 1
                    delay = min(self.schedule.delay(progress.round, self.rng), remaining)
                    progress.next_check_at = self.clock() + delay
                    self.on_wait(progress)
                    self.sleep(delay)
                    progress.next_check_at = None
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return progress

    def _round(self, pool: ThreadPoolExecutor, todo: list[Domain], progress: Progress) -> None:
        submitted: dict[Future, Domain] = {pool.submit(self.check, d): d for d in todo}
        pending: set[Future] = set(submitted)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    checked = self._stored(future, submitted[future], progress)
                    old = progress.results.get(checked.id)
                    progress.results[checked.id] = checked
                    progress.checks += 1
                    self.on_result(old, checked, progress)
                    if self.fail_fast and checked.status == FAILED:
                        progress.stopped_on_failure = True
                        return
        finally:
            for future in pending:
                future.cancel()

    def _stored(self, future: Future, domain: Domain, progress: Progress) -> Domain:
        """The stored result of one check, or (isolated) the domain as it was, carrying the error."""
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
