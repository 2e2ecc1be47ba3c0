"""What `domains publish`, `domains create --publish` and `domains unpublish` do between parsing and the services
(publish/service.py): show the plan, stop on conflicts, ask, apply, hand over to `verify --wait`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from stackshift_cli.cli.state import confirm_or_yes
from stackshift_cli.errors import NotFound, StackshiftError, UsageError

if TYPE_CHECKING:
    from stackshift_cli.cli.state import State
    from stackshift_cli.publish.journal import Journal
    from stackshift_cli.domain import Domain
    from stackshift_cli.verify.wait import Schedule


@dataclass(frozen=True)
class PublishOptions:
    provider: str | None = None
    dry_run: bool = False
    yes: bool = False
    replace: bool = False
    schedule: Schedule | None = None  # --wait
    silent_when_nothing: bool = False  # rotate-dkim: a plan with nothing to write is not shown


def wait_schedule(wait: bool, interval: str, timeout: str) -> Schedule | None:
    """--wait's schedule, checked as `verify` checks it."""
    from stackshift_cli.config import parse_duration
    from stackshift_cli.verify.wait import MIN_INTERVAL, Schedule

    interval_s, timeout_s = parse_duration(interval), parse_duration(timeout)
    if interval_s < MIN_INTERVAL:
        raise UsageError(f"--interval {interval} is too short: re-checks must be at least {MIN_INTERVAL:g}s apart.")
    return Schedule(interval=interval_s, timeout=timeout_s) if wait else None


def publish(state: State, domain: Domain, options: PublishOptions) -> None:
    from stackshift_cli.publish import service
    from stackshift_cli.services import chosen_nameservers

    ui = state.ui
    nameservers = chosen_nameservers(state.settings, None)
    journal = state.backend().journal(create=False)
    try:
        previous = journal.last_provider(domain.name)
    finally:
        journal.close()
    target = service.open_target(state.settings, domain.name, options.provider, nameservers, previous=previous)
    applied, count = False, 0
    try:
        plan = service.make_plan(domain, target, state.settings, replace=options.replace)
        if options.silent_when_nothing and not plan.writes and not plan.conflicts:
            return
        if not ui.json:
            ui.info(f"Plan for {domain.name} in the zone {plan.zone}, at {target.publisher.where}:")
            ui.changes([c.to_json(plan.zone) for c in plan.changes])
        writes = plan.writes
        try:
            service.check_plan(plan)
            if options.dry_run:
                if not ui.json:
                    ui.info(f"Dry run: {len(writes)} change{'s' if len(writes) != 1 else ''} would be written; "
                            "nothing was.")
                return
            if not writes:
                ui.success("Nothing to change: every record is already published.")
                applied = True
            else:
                confirm_or_yes(state, options.yes, f"Write {len(writes)} change{'s' if len(writes) > 1 else ''} "
                               f"at {target.publisher.where}?", f"stackshift domains publish {domain.name}")
                progress = service.Progress()
                journal = state.backend().journal()
                try:
                    count = service.apply(plan, target, journal, domain, ui, progress)
                finally:
                    count = progress.applied
                    journal.close()
                applied = True
                ui.success(f"Published {count} change{'s' if count > 1 else ''} for {domain.name}. "
                           f"`stackshift domains unpublish {domain.name}` undoes {'them' if count > 1 else 'it'}.")
        finally:
            if ui.json:
                data = plan.to_json(applied=applied)
                data["appliedChanges"] = count
                ui.emit_json(data)
    finally:
        target.close()
    if options.schedule is not None:
        _wait(state, domain, options.schedule)


def _wait(state: State, domain: Domain, schedule: Schedule) -> None:
    """`verify --wait` for the domain: the same display and the same exit codes."""
    from stackshift_cli.services import Target, chosen_nameservers, verify_domains

    state.ui.info(f"Waiting until {domain.name} is verified (verify --wait):")
    outcome = verify_domains(state.backend(), state.settings, state.ui, Target(domain.id, every=False),
                             nameservers=chosen_nameservers(state.settings, None), schedule=schedule, report=True)
    if outcome.timed_out:
        state.ui.info("Gave up waiting: not every record is verified yet.")
    if outcome.exit_code:
        raise typer.Exit(int(outcome.exit_code))


def unpublish(state: State, ref: str, *, dry_run: bool, yes: bool, names: set[str] | None = None) -> None:
    """Undo what publish wrote for the domain (at `names` only, when given: a rotation's aborted record)."""
    journal = state.backend().journal(create=False)
    try:
        _unpublish(state, journal, ref, dry_run=dry_run, yes=yes, names=names)
    finally:
        journal.close()


def _unpublish(state: State, journal: Journal, ref: str, *, dry_run: bool, yes: bool,
               names: set[str] | None) -> None:
    from stackshift_cli.names import normalize_domain
    from stackshift_cli.publish import service
    from stackshift_cli.services import chosen_nameservers

    ui = state.ui
    try:
        name = state.backend().get(ref).name
    except NotFound:  # deleted since it was published: the journal still knows it by name
        name = normalize_domain(ref)
        if not journal.entries(name):
            raise
    entries = [e for e in journal.entries(name) if names is None or e.name in names]
    if not entries:
        if ui.json:
            ui.emit_json({"domain": name, "changes": [], "applied": False})
        ui.info(f"stackshift has published nothing for {name} that is still there (the journal has no change to "
                "undo).")
        return
    nameservers = chosen_nameservers(state.settings, None)
    publishers = service.open_for_entries(state.settings, entries, nameservers)
    applied = False
    try:
        view: dict[str, list] = {}
        for (provider, zone), publisher in publishers.items():
            at = list(dict.fromkeys(e.name for e in entries if (e.provider, e.zone) == (provider, zone)))
            view.update(publisher.read(at))
        undos = service.plan_undo(entries, view)
        rows = [u.to_json() for u in undos if u.action != service.GONE]
        writes = [u for u in undos if u.edit is not None]
        try:
            if not ui.json:
                where = ", ".join(sorted({p.where for p in publishers.values()}))
                ui.info(f"Undoing what stackshift published for {name}, at {where}:")
                if rows:
                    ui.changes(rows)
            if dry_run:
                ui.info(f"Dry run: {len(writes)} change{'s' if len(writes) != 1 else ''} would be undone; nothing "
                        "was.")
                return
            if writes:
                confirm_or_yes(state, yes, f"Undo {len(writes)} change{'s' if len(writes) > 1 else ''}?",
                               f"stackshift domains unpublish {name}")
            service.undo(undos, publishers, journal, ui)
            applied = True
            for u in undos:
                if u.action == service.LEFT:
                    ui.warn(f"Left alone {u.to_json()['type']} at {u.entry.name}: it changed since stackshift "
                            "published it; remove or fix it by hand if you no longer need it.")
            if writes:
                ui.success(f"Undid {len(writes)} change{'s' if len(writes) > 1 else ''} for {name}.")
        finally:
            if ui.json:
                ui.emit_json({"domain": name, "changes": rows, "applied": applied})
    finally:
        for publisher in publishers.values():
            publisher.close()


def note_published(state: State, domain_name: str) -> None:
    """`domains delete` never touches DNS; when stackshift published the domain's records it says so."""
    try:
        journal = state.backend().journal(create=False)
        try:
            entries = journal.entries(domain_name)
        finally:
            journal.close()
    except StackshiftError:
        return
    if entries:
        where = ", ".join(sorted({f"{e.provider} (zone {e.zone})" for e in entries}))
        state.ui.info(f"stackshift published records of {domain_name} at {where}; they stay there. "
                      f"`stackshift domains unpublish {domain_name}` removes exactly those, also after this delete.")
