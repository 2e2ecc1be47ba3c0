"""The --wait schedule and the Runner's rounds, on a fake clock (no real sleeps, no DNS).

The schedule starts at the interval, backs off to at most 60s with jitter, never faster than the interval. The
Runner (stackshift_cli/verify/wait.py) takes its `clock` and `sleep` as arguments: here both are a FakeTime, and
each check is a function of the fake time (a record "published" at some second is found by every check that
starts from then on), so the rounds, the delays between them and the time-out are asserted exactly.
"""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest

from stackshift_cli.domain import FAILED, PENDING, VERIFIED, Domain
from stackshift_cli.verify.wait import Progress, Runner, Schedule


def test_delays_start_at_the_interval_and_back_off_to_at_most_a_minute():
    schedule, rng = Schedule(interval=10), random.Random(1)
    delays = [schedule.delay(attempt, rng) for attempt in range(1, 40)]
    assert all(10 <= d <= 60 for d in delays)
    assert delays[0] <= 12 and max(delays[-5:]) > 45


def test_delays_are_jittered():
    schedule = Schedule(interval=10)
    assert len({round(schedule.delay(4, random.Random(seed)), 3) for seed in range(10)}) > 1


def test_an_interval_above_the_maximum_is_kept():
    schedule = Schedule(interval=90)
    assert all(schedule.delay(a, random.Random(a)) == 90 for a in range(1, 10))


@pytest.mark.parametrize("interval", [1, 10, 45], ids=lambda i: f"interval-{i}s")
def test_each_delay_is_the_interval_grown_by_half_per_attempt_within_20_percent_jitter(interval):
    """Re-check n waits interval * 1.5**(n-1), jittered by at most 20%, never below the interval nor above 60s."""
    schedule = Schedule(interval=interval)
    for seed in range(20):
        rng = random.Random(seed)
        for attempt in range(1, 15):
            base = min(interval * 1.5 ** (attempt - 1), 60)
            delay = schedule.delay(attempt, rng)
            assert min(max(base * 0.8, interval), 60) <= delay <= min(max(base * 1.2, interval), 60)


# ---------------------------------------------------------------- the Runner on a fake clock


class FakeTime:
    """The Runner's clock and sleep: sleeping moves the clock, and each sleep is recorded with the time it began."""

    def __init__(self, start: float = 1000.0) -> None:
        self.start = self.now = start
        self.sleeps: list[tuple[float, float]] = []  # (when, seconds)
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.now, seconds))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    @property
    def elapsed(self) -> float:
        return self.now - self.start


class Lab:
    """Checks as functions of the fake time: a domain is verified by a check that starts once its records are
    published (`published_at`, seconds after the start; None: never), and each check takes `check_seconds`."""

    def __init__(self, time: FakeTime, published_at: dict[str, float | None], *, check_seconds: float = 0.0,
                 status_before: str = PENDING) -> None:
        self.time, self.published_at, self.check_seconds = time, published_at, check_seconds
        self.status_before = status_before
        self.checks: list[tuple[str, float]] = []  # (domain id, seconds after the start when its check began)

    def check(self, domain: Domain) -> Domain:
        began = self.time.elapsed
        self.checks.append((domain.id, began))
        self.time.advance(self.check_seconds)
        published = self.published_at[domain.id]
        return replace(domain, status=VERIFIED if published is not None and began >= published else self.status_before)

    def began(self, domain_id: str) -> list[float]:
        return [at for d, at in self.checks if d == domain_id]


def domains(*ids: str) -> list[Domain]:
    return [Domain(id=i, name=f"{i}.example.com") for i in ids]


SEEDS = range(8)  # the jitter's random draws: each run is repeated with these seeds


def runner(time: FakeTime, lab: Lab, *, seed: int = 7, **kwargs) -> Runner:
    return Runner(lab.check, clock=time.clock, sleep=time.sleep, rng=random.Random(seed), **kwargs)


def test_rechecks_wait_the_scheduled_delays_until_the_domain_verifies():
    """Round n waits schedule.delay(n): the same delays a Random with the same seed gives, in order."""
    for seed in SEEDS:
        time = FakeTime()
        lab = Lab(time, {"d1": 5.0})
        schedule = Schedule(interval=1, timeout=60)
        progress = runner(time, lab, seed=seed, schedule=schedule).run(domains("d1"))
        rng = random.Random(seed)
        expected = [schedule.delay(n, rng) for n in range(1, progress.round + 1)]
        assert [seconds for _, seconds in time.sleeps] == pytest.approx(expected), seed
        assert progress.results["d1"].status == VERIFIED and not progress.timed_out
        assert lab.began("d1")[-2] < 5.0 <= lab.began("d1")[-1]  # the first check after the publish ended the run


@pytest.mark.parametrize(("published_at", "check_seconds", "bound"), [
    pytest.param(0.0, 0.0, 0.0, id="published-before-the-run"),
    pytest.param(0.5, 0.0, 1 * 1.2, id="during-the-first-delay"),
    # verify --wait --interval 1s with the last record published 2.5 s in (test_cli_verify): before the third
    # re-check, whose delay is at most 1 * 1.5**2 * 1.2 s
    pytest.param(2.5, 0.0, 1 * 1.5 ** 2 * 1.2, id="after-two-rechecks"),
    pytest.param(2.5, 0.3, 1 * 1.5 ** 2 * 1.2 + 2 * 0.3, id="after-two-rechecks-with-slow-checks"),
    pytest.param(300.0, 0.0, 60 * 1.0, id="long-after-the-backoff-reached-a-minute"),
])
def test_wait_ends_at_the_first_check_after_the_last_record_is_published(published_at, check_seconds, bound):
    """The run ends with the first check that starts after the publish, at most one (backed-off, jittered) delay
    later: the check in progress at the publish, then the delay in force, then the check that finds it."""
    for seed in SEEDS:
        time = FakeTime()
        lab = Lab(time, {"d1": published_at}, check_seconds=check_seconds)
        progress = runner(time, lab, seed=seed, schedule=Schedule(interval=1, timeout=600)).run(domains("d1"))
        assert progress.results["d1"].status == VERIFIED and not progress.timed_out
        began = lab.began("d1")
        assert all(at < published_at for at in began[:-1]) and began[-1] >= published_at, seed
        ended = time.elapsed
        assert ended - published_at <= bound + check_seconds + 1e-9, seed
        delay_in_force = next((s for at, s in time.sleeps if at - time.start + s >= published_at), 0.0)
        assert ended - published_at <= delay_in_force + 2 * check_seconds + 1e-9, seed


@pytest.mark.parametrize(("timeout", "min_check_time", "check_seconds"), [
    pytest.param(2, 1, 0.0, id="cli-timeout-2s"),
    pytest.param(10, 1, 0.2, id="timeout-10s"),
    pytest.param(120, 1, 0.5, id="timeout-2min-backed-off"),
    pytest.param(30, 5, 0.1, id="long-dns-timeout"),
])
def test_gives_up_exactly_at_the_timeout_and_starts_no_check_it_cannot_finish(timeout, min_check_time, check_seconds):
    """Never verified: the run ends at the deadline (timed out), every re-check starts at least `min_check_time`
    (the DNS timeout) before it, and no sleep goes past it."""
    time = FakeTime()
    lab = Lab(time, {"d1": None}, check_seconds=check_seconds)
    progress = runner(time, lab, schedule=Schedule(interval=1, timeout=timeout),
                      min_check_time=min_check_time).run(domains("d1"))
    assert progress.timed_out and progress.results["d1"].status == PENDING
    assert time.elapsed == pytest.approx(timeout)
    assert progress.deadline == pytest.approx(time.start + timeout)
    rechecks = lab.began("d1")[1:]
    assert rechecks and all(at <= timeout - min_check_time + 1e-9 for at in rechecks)
    assert progress.round == len(rechecks)
    assert all(at - time.start + seconds <= timeout + 1e-9 for at, seconds in time.sleeps)


def test_a_timeout_shorter_than_one_check_checks_once_then_waits_for_the_deadline():
    time = FakeTime()
    lab = Lab(time, {"d1": None})
    progress = runner(time, lab, schedule=Schedule(interval=1, timeout=0.5), min_check_time=1).run(domains("d1"))
    assert lab.began("d1") == [0.0] and progress.round == 0
    assert progress.timed_out and time.elapsed == pytest.approx(0.5)


def test_without_a_schedule_every_domain_is_checked_once_and_nothing_waits():
    time = FakeTime()
    lab = Lab(time, {"d1": None, "d2": 0.0})
    progress = runner(time, lab).run(domains("d1", "d2"))
    assert sorted(d for d, _ in lab.checks) == ["d1", "d2"] and time.sleeps == []
    assert progress.round == 0 and progress.deadline is None and not progress.timed_out


def test_only_the_domains_not_yet_verified_are_checked_again():
    time = FakeTime()
    lab = Lab(time, {"early": 0.0, "late": 3.0, "never": None})
    progress = runner(time, lab, schedule=Schedule(interval=1, timeout=10)).run(domains("early", "late", "never"))
    assert len(lab.began("early")) == 1
    assert len(lab.began("late")) < len(lab.began("never")) == progress.round + 1
    assert {i: d.status for i, d in progress.results.items()} == {"early": VERIFIED, "late": VERIFIED,
                                                                 "never": PENDING}


def test_fail_fast_stops_at_the_first_failed_verdict_without_waiting():
    time = FakeTime()
    lab = Lab(time, {"d1": None}, status_before=FAILED)
    progress = runner(time, lab, schedule=Schedule(interval=5, timeout=60), fail_fast=True).run(domains("d1"))
    assert progress.stopped_on_failure and time.sleeps == [] and lab.began("d1") == [0.0]


def test_the_time_of_the_next_check_is_known_while_waiting():
    time = FakeTime()
    lab = Lab(time, {"d1": 4.0})
    progress = Progress({})
    shown: list[tuple[float | None, float]] = []

    def sleep(seconds: float) -> None:
        shown.append((progress.next_check_at, time.now + seconds))
        time.sleep(seconds)

    run = Runner(lab.check, clock=time.clock, sleep=sleep, rng=random.Random(3),
                 schedule=Schedule(interval=1, timeout=60))
    run.run(domains("d1"), progress)
    assert shown and all(at == pytest.approx(wakes) for at, wakes in shown)
    assert progress.next_check_at is None


def test_a_check_in_flight_sees_the_time_left_on_the_runners_clock():
    """A check reads how long it may take from current_check() (verify/__init__ bounds its DNS lookups by it): on
    the Runner's clock, so that a run's deadline and the checks' bound are the same time."""
    from stackshift_cli.verify.wait import current_check

    time = FakeTime()
    seen: list[float | None] = []

    def check(domain: Domain) -> Domain:
        control = current_check()
        seen.append(control.remaining() if control is not None else None)
        time.advance(2.0)
        return domain

    Runner(check, clock=time.clock, sleep=time.sleep, rng=random.Random(1),
           schedule=Schedule(interval=1, timeout=10)).run(domains("d1"))
    assert seen[0] == pytest.approx(10.0)
    assert all(later is not None and later < earlier for earlier, later in zip(seen, seen[1:]))
    assert seen[-1] is not None and seen[-1] >= 0  # no check starts after the deadline
