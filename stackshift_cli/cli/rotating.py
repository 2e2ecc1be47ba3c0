"""What `domains rotate-dkim` does between parsing and the service (rotation_service.py): start, move on or abort a
rotation, publish its records when asked, and say where it stands and what comes next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from stackshift_cli.errors import UsageError

if TYPE_CHECKING:
    from stackshift_cli.cli.state import State
    from stackshift_cli.domain import DnsRecord, Domain
    from stackshift_cli.rotation import Rotation, Step


@dataclass(frozen=True)
class RotateOptions:
    selector: str | None = None
    key_size: int = 2048
    overlap: timedelta = timedelta(days=7)
    publish: bool = False
    provider: str | None = None
    now: bool = False
    abort: bool = False
    new: bool = False  # start another rotation after a finished one


_PHASE_SAYS = {
    "staged": "staged: {new} is published beside {old}, which still signs",
    "ready": "ready: {new} is published everywhere and no resolver can still cache its absence",
    "active": "active: {new} signs; {old} stays published until the overlap is over",
    "revoked": "revoked: {old}'s record is revoked (v=DKIM1; p=); {new} signs",
    "done": "done: {new} signs; {old}'s private key is destroyed",
}


def rotate(state: State, ref: str, options: RotateOptions) -> None:
    from stackshift_cli import rotation_service as service
    from stackshift_cli.domain import utcnow
    from stackshift_cli.rotation import DONE
    from stackshift_cli.services import chosen_nameservers

    ui = state.ui
    backend = service.local(state.backend())
    domain = backend.get(ref)
    now = utcnow()
    current = domain.dkim_rotation
    if options.abort:
        domain = service.abort(backend, domain)
        if current is not None and current.publish:
            _unpublish_new(state, domain, current)
        ui.success(f"Aborted the rotation of {domain.name}: {current.new_selector if current else ''} and its key "
                   f"are gone; {domain.dkim_selector} signs as before.")
        _report(state, domain, None)
        return
    if current is not None and current.phase == DONE and not options.new:
        _report(state, domain, None)
        ui.info(f"The last rotation of {domain.name} is done. To start another, run `stackshift domains rotate-dkim "
                f"{domain.name} --new`.")
        return
    if options.new and current is not None and current.phase != DONE:
        raise UsageError(f"{domain.name} already has a rotation in progress ({current.phase}); --new starts one only "
                         "after it is done.", hint=f"Run `stackshift domains rotate-dkim {domain.name}` to move it on.")
    started = current is None or current.phase == DONE
    if started:
        _check_new_rotation(options)
        domain = service.start(backend, state.settings, domain, selector=options.selector, key_size=options.key_size,
                               overlap=options.overlap, publish=options.publish, now=now)
        rotation = domain.dkim_rotation
        ui.success(f"Started a DKIM key rotation for {domain.name}: new selector {rotation.new_selector} "
                   f"({rotation.key_size}-bit key); {rotation.old_selector} still signs.")
    elif options.selector or options.key_size != 2048:
        raise UsageError(f"{domain.name} already has a rotation in progress ({current.phase if current else ''}); "
                         "--selector and --key-size only apply when one starts.",
                         hint=f"Run `stackshift domains rotate-dkim {domain.name}` to move it on, or --abort it.")
    if options.now:
        ui.warn("--now skips the overlap once the new key signs: mail still in flight that was signed with the old "
                f"key ({domain.dkim_rotation.old_selector}) fails DKIM from the revocation on.")
    publishing = options.publish or (domain.dkim_rotation is not None and domain.dkim_rotation.publish)
    if publishing:
        _publish(state, domain, options)
    domain, moved = service.advance(backend, state.settings, domain, now=utcnow(), activate=True,
                                    skip_overlap=options.now, nameservers=chosen_nameservers(state.settings, None))
    before = domain.dkim_rotation
    if before is not None and publishing and before.phase == "revoked":
        _publish(state, domain, options)  # the revocation
        domain, moved = service.advance(backend, state.settings, domain, now=utcnow(), activate=True,
                                        skip_overlap=options.now,
                                        nameservers=chosen_nameservers(state.settings, None))
    _report(state, domain, moved)


def observe(state: State, ref: str) -> None:
    """After `verify NAME`: a rotation waiting on DNS (staged, revoked) moves on with the verdicts just stored. It never
    switches keys or revokes: that is rotate-dkim's."""
    from stackshift_cli import rotation_service as service
    from stackshift_cli.domain import utcnow
    from stackshift_cli.errors import StackshiftError
    from stackshift_cli.rotation import REVOKED, STAGED

    backend = state.backend()
    if not backend.keeps_private_keys:
        return
    try:
        domain = backend.get(ref)
        rotation = domain.dkim_rotation
        if rotation is None or rotation.phase not in (STAGED, REVOKED):
            return
        domain, _ = service.advance(service.local(backend), state.settings, domain, now=utcnow(), activate=False,
                                    check=False)
    except StackshiftError as exc:
        state.ui.warn(f"The DKIM key rotation of {ref} could not move on: {exc.message}")
        return
    after = domain.dkim_rotation
    if after is not None and after.phase != rotation.phase:
        state.ui.info(f"DKIM key rotation: {after.phase} ({after.old_selector} → {after.new_selector}).")


def _check_new_rotation(options: RotateOptions) -> None:
    from stackshift_cli.keys import KEY_SIZES

    if options.key_size not in KEY_SIZES:
        raise UsageError(f"--key-size {options.key_size} is not one stackshift makes; use "
                         f"{', '.join(str(s) for s in KEY_SIZES)}.")


def _publish(state: State, domain: Domain, options: RotateOptions) -> None:
    """The rotation's record changes, through `domains publish` (plan, journal, conflicts: exit 7)."""
    from stackshift_cli.cli.publishing import PublishOptions, publish

    publish(state, domain, PublishOptions(provider=options.provider, yes=True, silent_when_nothing=True))


def _unpublish_new(state: State, domain: Domain, rotation: Rotation) -> None:
    """--abort of a rotation published by stackshift: its new record goes from DNS too (from the journal)."""
    from stackshift_cli.cli.publishing import unpublish

    unpublish(state, domain.name, dry_run=False, yes=True, names={f"{rotation.new_selector}._domainkey.{domain.name}"})


def _report(state: State, domain: Domain, moved: Step | None) -> None:
    from stackshift_cli.output import plain_record_lines

    ui = state.ui
    rotation = domain.dkim_rotation
    if ui.json:
        data = {"domain": domain.name, "dkimSelector": domain.dkim_selector,
                "dkimRotation": rotation.to_json() if rotation is not None else None,
                "waiting": moved.waiting if moved is not None else None,
                "waitSeconds": int(moved.left.total_seconds()) if moved is not None and moved.left else None}
        if rotation is not None and not rotation.publish:
            data["publish"] = [r.to_json() for r in _to_publish(domain)]
        ui.emit_json(data)
        return
    if rotation is None:
        return
    ui.info(f"{domain.name}: " + _PHASE_SAYS[rotation.phase].format(new=rotation.new_selector,
                                                                     old=rotation.old_selector))
    if moved is not None and moved.waiting:
        left = f" ({_duration(moved.left)} left)" if moved.left else ""
        ui.info(f"Next: {moved.waiting}{left}. Run `stackshift domains rotate-dkim {domain.name}` again then.")
    if not rotation.publish:
        pending = _to_publish(domain)
        if pending:
            ui.info("Publish at your DNS provider (or run again with --publish):")
            for line in plain_record_lines(pending):
                ui.line(line)
    if rotation.phase == "done":
        ui.info(f"The record at {rotation.old_selector}._domainkey.{domain.name} is no longer needed: you may remove "
                "it from DNS.")


def _to_publish(domain: Domain) -> list[DnsRecord]:
    """The rotation's records DNS does not hold as asked yet."""
    rotation = domain.dkim_rotation
    assert rotation is not None
    names = {f"{rotation.new_selector}._domainkey.{domain.name}", f"{rotation.old_selector}._domainkey.{domain.name}"}
    return [r for r in domain.records if r.name in names and r.required and r.status != "verified"]


def _duration(left: timedelta) -> str:
    seconds = int(left.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{max(seconds // 60, 0)}m {seconds % 60}s" if seconds >= 60 else f"{seconds}s"
