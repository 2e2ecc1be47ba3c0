"""The phases of a DKIM key rotation (rotation.py): a clock passed in, no servers, no sleeping.

RFC 6376 3.6.1 (a revoked key: `p=` empty), RFC 2308 5 (negative caching: the wait before `ready`), and the overlap
M3AAWG recommends so that mail signed with the old key and still in flight verifies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from stackshift_cli.rotation import ACTIVE, DONE, READY, REVOKED, STAGED, Rotation, default_selector, step

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
WAIT = timedelta(seconds=300)
OVERLAP = timedelta(days=7)


def staged(**changes) -> Rotation:
    rotation = Rotation(STAGED, "stackshift", "stackshift-20261129", 1, 2, 2048, OVERLAP, False, T0)
    return replace(rotation, **changes)


def run(rotation: Rotation, at: timedelta, *, new=True, revoked=False, activate=True, skip=False):
    return step(rotation, now=T0 + at, new_verified=new, revocation_verified=revoked, wait=WAIT,
                activate=activate, skip_overlap=skip)


def test_staged_waits_until_the_new_record_is_verified_everywhere():
    moved = run(staged(), timedelta(minutes=1), new=False)
    assert moved.rotation == staged() and "not verified" in moved.waiting


def test_first_seen_starts_the_ttl_wait_rfc2308_5():
    moved = run(staged(), timedelta(minutes=1))
    assert moved.rotation.phase == STAGED and moved.rotation.seen_at == T0 + timedelta(minutes=1)
    assert moved.rotation.wait == WAIT and moved.left == WAIT and "cache" in moved.waiting


def test_ready_is_not_reached_before_the_wait_has_passed_rfc2308_5():
    seen = staged(seen_at=T0, wait=WAIT)
    assert run(seen, WAIT - timedelta(seconds=1), activate=False).rotation.phase == STAGED
    moved = run(seen, WAIT, activate=False)
    assert moved.rotation.phase == READY and moved.rotation.ready_at == T0 + WAIT


def test_a_record_that_disappears_restarts_the_wait():
    moved = run(staged(seen_at=T0, wait=WAIT), WAIT * 2, new=False)
    assert moved.rotation.phase == STAGED and moved.rotation.seen_at is None


def test_only_rotate_dkim_switches_the_signing_key():
    ready = staged(phase=READY, seen_at=T0, wait=WAIT, ready_at=T0 + WAIT)
    assert run(ready, WAIT * 2, activate=False).rotation.phase == READY
    moved = run(ready, WAIT * 2)
    assert moved.rotation.phase == ACTIVE and moved.rotation.signing_selector == "stackshift-20261129"
    assert moved.left == OVERLAP  # stops at active: the overlap starts now


def test_the_overlap_is_respected():
    active = staged(phase=ACTIVE, activated_at=T0)
    moved = run(active, OVERLAP - timedelta(seconds=1))
    assert moved.rotation.phase == ACTIVE and moved.left == timedelta(seconds=1) and "in flight" in moved.waiting
    after = run(active, OVERLAP)
    assert after.rotation.phase == REVOKED and after.rotation.revoked_at == T0 + OVERLAP


def test_now_skips_the_overlap_and_says_so():
    moved = run(staged(phase=ACTIVE, activated_at=T0), timedelta(minutes=5), skip=True)
    assert moved.rotation.phase == REVOKED and moved.rotation.early is True


def test_revoked_is_done_once_the_revocation_is_verified_rfc6376_3_6_1():
    revoked = staged(phase=REVOKED, activated_at=T0, revoked_at=T0 + OVERLAP)
    assert run(revoked, OVERLAP * 2, revoked=False).rotation.phase == REVOKED
    moved = run(revoked, OVERLAP * 2, revoked=True)
    assert moved.rotation.phase == DONE and moved.waiting is None


def test_verify_alone_never_revokes():
    moved = run(staged(phase=ACTIVE, activated_at=T0), OVERLAP * 2, activate=False)
    assert moved.rotation.phase == ACTIVE and "revoke" in moved.waiting


def test_a_whole_rotation_moves_one_phase_at_a_time_with_the_clock():
    rotation = staged()
    phases = []
    for at, revoked in [(timedelta(0), False), (WAIT, False), (WAIT * 2, False), (WAIT + OVERLAP, False),
                        (WAIT + OVERLAP, True)]:
        rotation = run(rotation, at, revoked=revoked).rotation
        phases.append(rotation.phase)
    assert phases == [STAGED, ACTIVE, ACTIVE, REVOKED, DONE]


@pytest.mark.parametrize("taken, expected", [([], "stackshift-20261129"),
                                             (["stackshift-20261129"], "stackshift-20261129-2"),
                                             (["stackshift-20261129", "stackshift-20261129-2"],
                                              "stackshift-20261129-3")])
def test_the_default_selector_is_dated_and_unique(taken, expected):
    assert default_selector(date(2026, 11, 29), ["stackshift", *taken]) == expected
