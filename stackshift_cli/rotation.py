"""DKIM key rotation (pure): the phases a rotation goes through, and what moves it from one to the next.

    staged   a new key pair under a new selector; its record is required beside the old one, which still signs
    ready    the new record is verified on every authoritative server, and the longer of its TTL and the zone's
             negative-caching TTL (RFC 2308 5) has passed since stackshift first saw it there: no resolver still
             caches "no such record"
    active   the new selector signs (the domain's dkimSelector); the old record stays published for the overlap, so
             mail signed with the old key and still in flight verifies
    revoked  the overlap is over: the old selector's record becomes `v=DKIM1; p=` (RFC 6376 3.6.1, a revoked key)
    done     the revocation is verified: the old private key is destroyed, its record no longer required

`step()` decides, from the rotation, the clock and what DNS shows, whether a rotation moves on and why not; the
service (rotation_service.py) does the I/O and stores each move in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from stackshift_cli.keys import KEY_SIZES  # noqa: F401  (the sizes a rotation's new key may have)

STAGED, READY, ACTIVE, REVOKED, DONE = "staged", "ready", "active", "revoked", "done"
PHASES = (STAGED, READY, ACTIVE, REVOKED, DONE)
DEFAULT_OVERLAP = timedelta(days=7)
REVOKED_VALUE = "v=DKIM1; p="
SELECTOR_PREFIX = "stackshift-"


@dataclass(frozen=True)
class Rotation:
    """One rotation of a domain's DKIM key, as the store keeps it."""

    phase: str
    old_selector: str
    new_selector: str
    old_generation: int
    new_generation: int
    key_size: int
    overlap: timedelta
    publish: bool
    started_at: datetime
    seen_at: datetime | None = None  # when the new record was first verified on every authoritative server
    wait: timedelta | None = None  # the longer of the new record's TTL and the zone's negative-caching TTL
    ready_at: datetime | None = None
    activated_at: datetime | None = None
    revoked_at: datetime | None = None
    done_at: datetime | None = None
    early: bool = False  # --now: the overlap was skipped (a compromised key)

    @property
    def ready_after(self) -> datetime | None:
        return self.seen_at + self.wait if self.seen_at is not None and self.wait is not None else None

    @property
    def revoke_after(self) -> datetime | None:
        return self.activated_at + self.overlap if self.activated_at is not None else None

    @property
    def signing_selector(self) -> str:
        return self.new_selector if self.phase in (ACTIVE, REVOKED, DONE) else self.old_selector

    def to_json(self) -> dict[str, Any]:
        from stackshift_cli.domain import format_time

        return {"phase": self.phase, "oldSelector": self.old_selector, "newSelector": self.new_selector,
                "signingSelector": self.signing_selector, "keySize": self.key_size,
                "overlapSeconds": int(self.overlap.total_seconds()), "publish": self.publish,
                "startedAt": format_time(self.started_at), "seenAt": format_time(self.seen_at),
                "waitSeconds": int(self.wait.total_seconds()) if self.wait is not None else None,
                "readyAfter": format_time(self.ready_after), "readyAt": format_time(self.ready_at),
                "activatedAt": format_time(self.activated_at), "revokeAfter": format_time(self.revoke_after),
                "revokedAt": format_time(self.revoked_at), "doneAt": format_time(self.done_at),
                "overlapSkipped": self.early}


@dataclass(frozen=True)
class Step:
    """What a run does with a rotation: the rotation after it (the same when it does not move), and why it stops
    where it stops (None when it is done)."""

    rotation: Rotation
    waiting: str | None
    left: timedelta | None = None  # the time left before it can move on, when that is a matter of time


def default_selector(today: date, taken: Iterable[str]) -> str:
    """`stackshift-YYYYMMDD`, or with `-2`, `-3` … when that selector is already in use for the domain."""
    used = {t.lower() for t in taken}
    base = f"{SELECTOR_PREFIX}{today:%Y%m%d}"
    if base not in used:
        return base
    return next(f"{base}-{n}" for n in range(2, len(used) + 3) if f"{base}-{n}" not in used)


def step(rotation: Rotation, *, now: datetime, new_verified: bool, revocation_verified: bool,
         wait: timedelta | None = None, activate: bool = False, skip_overlap: bool = False) -> Step:
    """Move the rotation on as far as it may go now.

    `new_verified`: the new selector's record is verified on every authoritative server. `wait`: the new record's
    wait (TTL, negative TTL), measured when it is first seen. `activate`: the run may switch the signing key
    (rotate-dkim does; verify only observes). `skip_overlap`: --now. `revocation_verified`: the old selector's record
    is revoked (or gone) on every authoritative server."""
    current = rotation
    if current.phase == STAGED:
        if not new_verified:
            if current.seen_at is not None:  # seen, then gone: the wait starts again once it is back everywhere
                current = replace(current, seen_at=None, wait=None)
            return Step(current, f"the record of the new selector {current.new_selector} is not verified on every "
                                 "authoritative server yet")
        if current.seen_at is None:
            current = replace(current, seen_at=now, wait=wait if wait is not None else timedelta(0))
        ready_after = current.ready_after
        assert ready_after is not None
        if now < ready_after:
            return Step(current, "resolvers may still cache that the new record does not exist (its TTL and the "
                                 "zone's negative-caching TTL)", ready_after - now)
        current = replace(current, phase=READY, ready_at=now)
    if current.phase == READY:
        if not activate:
            return Step(current, f"run `stackshift domains rotate-dkim` to switch signing to {current.new_selector}")
        current = replace(current, phase=ACTIVE, activated_at=now)
    if current.phase == ACTIVE:
        revoke_after = current.revoke_after
        assert revoke_after is not None
        if skip_overlap:
            current = replace(current, early=True)
        elif now < revoke_after:
            return Step(current, f"mail signed with the old key ({current.old_selector}) may still be in flight: "
                                 "the old record stays until the overlap is over", revoke_after - now)
        if not activate:
            return Step(current, "run `stackshift domains rotate-dkim` to revoke the old key")
        current = replace(current, phase=REVOKED, revoked_at=now)
        return Step(current, f"the revocation of {current.old_selector} must be published and verified")
    if current.phase == REVOKED:
        if not revocation_verified:
            return Step(current, f"the record of the old selector {current.old_selector} is not revoked "
                                 f"({REVOKED_VALUE}) on every authoritative server yet")
        current = replace(current, phase=DONE, done_at=now)
    return Step(current, None)
