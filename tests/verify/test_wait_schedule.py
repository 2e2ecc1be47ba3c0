"""The --wait schedule: starts at the interval, backs off to at most 60s with jitter, never faster than the interval."""

from __future__ import annotations

import random

from stackshift_cli.verify.wait import Schedule


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
