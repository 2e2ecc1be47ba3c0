"""`domains publish` and `domains unpublish` as use cases: find the zone, choose and open the provider, plan, confirm,
apply with the journal, undo from it. The CLI (cli/domains.py) parses arguments and hands over to these.

The order of a publish is the promise the README makes: nothing is written before the plan is shown; a plan with a
conflict writes nothing (exit 7); each edit is journalled as planned before it is sent and marked once answered, so
an error or Ctrl-C in the middle leaves a journal that says what landed, and running the command again plans (and
writes) only the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from stackshift_cli.errors import PublishConflict, StackshiftError, UsageError
from stackshift_cli.escape import visible
from stackshift_cli.providers import Edit, Publisher, ProviderInfo, ZoneRecord
from stackshift_cli.publish import journal as journal_states
from stackshift_cli.publish.plan import Plan, build, needed as plan_needed

if TYPE_CHECKING:
    from stackshift_cli.config import Settings
    from stackshift_cli.domain import Domain
    from stackshift_cli.output import Ui
    from stackshift_cli.publish.journal import Entry, Journal
    from stackshift_cli.publish.zone import Resolvers, ZoneFound
    from stackshift_cli.verify.answers import Answer

PROVIDER_ENV = "STACKSHIFT_PUBLISH_PROVIDER"
MAX_FETCH_ROUNDS = 12  # rounds of resolver lookups for the plan (SPF includes nest at most this deep)


@dataclass
class Target:
    """Where a domain's records are published: the zone (found by SOA) and the provider opened for it."""

    info: ProviderInfo
    zone: ZoneFound
    publisher: Publisher
    resolvers: Resolvers
    nameservers: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.publisher.close()


def choose_provider(settings: Settings, given: str | None, zone: ZoneFound, previous: str | None = None
                    ) -> ProviderInfo:
    """--provider, else STACKSHIFT_PUBLISH_PROVIDER or publish.provider (Settings: environment over file), else the
    provider the domain was last published through (the journal); never the guess from the zone's name servers,
    which is only proposed."""
    from stackshift_cli.providers import guess_from_nameservers, provider_info

    name = given or settings.get("publish.provider") or previous
    if name:
        return provider_info(name)
    guess = guess_from_nameservers(zone.nameservers)
    servers = ", ".join(visible(n) for n in zone.nameservers[:3]) or "none found"
    if guess:
        raise UsageError(f"No DNS provider chosen for the zone {zone.name}. Its name servers ({servers}) look like "
                         f"{guess}'s.", hint=f"Run again with --provider {guess}, or set it once: `stackshift config "
                                             f"set publish.provider {guess}` (or {PROVIDER_ENV}).")
    raise UsageError(f"No DNS provider chosen for the zone {zone.name} (name servers: {servers}).",
                     hint="Choose one with --provider (rfc2136 for a server that takes dynamic updates; `stackshift "
                          f"providers list` shows the others), or set publish.provider or {PROVIDER_ENV}.")


def open_target(settings: Settings, domain_name: str, provider: str | None, nameservers: Sequence[str], *,
                previous: str | None = None) -> Target:
    from stackshift_cli.publish.zone import Resolvers
    from stackshift_cli.records import check_not_public_suffix

    resolvers = Resolvers.from_settings(nameservers, settings.duration("dns.timeout"))
    zone = resolvers.find_zone(domain_name)
    try:
        check_not_public_suffix(zone.name)
    except UsageError:
        raise UsageError(f"The zone holding {domain_name} is {zone.name}, a public suffix: {domain_name} is not "
                         "delegated to a DNS provider of its own yet.",
                         hint="Register the domain (or delegate it) first; stackshift publishes in your own zone only."
                         ) from None
    info = choose_provider(settings, provider, zone, previous)
    settings.get("publish.ttl")  # a bad value stops the run before anything is read
    publisher = info.open(settings, zone.name, list(nameservers), mname=zone.mname)
    return Target(info, zone, publisher, resolvers, list(nameservers))


# ---------------------------------------------------------------- planning


def make_plan(domain: Domain, target: Target, settings: Settings, *, replace: bool) -> Plan:
    """What the zone holds at the records' names (the provider's own view), the resolver answers the rules need,
    and the plan."""
    names = list(dict.fromkeys(r.name for r in domain.records))
    view = target.publisher.read(names)
    profile = settings.sending_profile()
    ttl = int(settings.get("publish.ttl"))
    listing = target.info.kind != "rfc2136"  # a provider's listing may hide a proxy: the DNS answer shows it

    def needed(fetched: Mapping[tuple[str, str], Answer]) -> set[tuple[str, str]]:
        return plan_needed(domain.name, domain.records, view, fetched, spf_include=profile.spf_include,
                           listing=listing)

    fetched = fetch(settings, target.nameservers, domain.name, needed)
    return build(domain.name, target.zone.name, target.info.name, domain.records, view, fetched=fetched,
                 spf_include=profile.spf_include, ttl=ttl, replace_conflicts=replace)


def fetch(settings: Settings, nameservers: Sequence[str], domain: str,
          needed: Callable[[Mapping[tuple[str, str], Answer]], set[tuple[str, str]]]) -> dict[tuple[str, str], Answer]:
    """The resolver's answers for what `needed` asks, asked again with each round's answers until it asks nothing
    (SPF includes, one level of nesting per round). The verify lookups: the same bounds and checks."""
    import asyncio

    from stackshift_cli.verify import Session

    session = Session(settings, list(nameservers))

    async def rounds() -> dict[tuple[str, str], Answer]:
        lookups = session.dns.for_domain(domain)
        fetched: dict[tuple[str, str], Answer] = {}
        for _ in range(MAX_FETCH_ROUNDS):
            wanted = sorted(needed(fetched))
            if not wanted:
                break
            answers = await asyncio.gather(*(lookups.resolve(name, rtype) for name, rtype in wanted))
            fetched.update(zip(wanted, answers))
        return fetched

    return asyncio.run(session.in_own_round(rounds()))


# ---------------------------------------------------------------- applying


@dataclass
class Progress:
    """How many edits of a run were applied so far (read after an error too)."""

    applied: int = 0


def apply(plan: Plan, target: Target, journal: Journal, domain: Domain, ui: Ui, progress: Progress | None = None
          ) -> int:
    """Journal every edit as planned, then send them in order, marking each; the first error stops the run (what
    was applied stays applied and journalled). Returns how many were applied."""
    progress = progress if progress is not None else Progress()
    writes = plan.writes
    run = uuid.uuid4().hex
    ids = journal.begin(run, domain.id, domain.name, target.info.name, plan.zone,
                        [(c.name, c.purpose, c.edit.remove, c.edit.add) for c in writes if c.edit is not None])
    done = 0
    for change, entry_id in zip(writes, ids):
        assert change.edit is not None
        ui.debug_log(f"{target.publisher.where}: at {change.edit.name}, remove "
                     f"[{'; '.join(r.type + ' ' + r.shown() for r in change.edit.remove)}], add "
                     f"[{'; '.join(r.type + ' ' + r.shown() for r in change.edit.add)}], expecting "
                     f"{len(change.edit.expect)} record(s) of {'/'.join(change.edit.expect_types)} there")
        try:
            target.publisher.apply(change.edit)
        except KeyboardInterrupt:  # the entry stays planned: unpublish and the next plan look at the zone itself
            ui.info(f"Stopped after {done} of {len(writes)} changes; run the same command again to apply the rest.")
            raise
        except StackshiftError as exc:
            journal.mark(entry_id, journal_states.FAILED, exc.message)
            for later in ids[ids.index(entry_id) + 1:]:
                journal.mark(later, journal_states.FAILED, "not sent: an earlier change failed")
            exc.message = f"{exc.message} {_applied_before(done, len(writes))}"
            raise
        journal.mark(entry_id, journal_states.APPLIED)
        done += 1
        progress.applied = done
        ui.info(f"{change.action.capitalize()}d {change.type} at {change.name}.")
    return done


def _applied_before(done: int, total: int) -> str:
    if done == 0:
        return "Nothing was written."
    return (f"{done} of {total} changes were applied before it (the journal has them); run the same command again "
            "to apply the rest.")


def check_plan(plan: Plan) -> None:
    if plan.conflicts:
        count = len(plan.conflicts)
        replaceable = any("--replace" in (c.reason or "") for c in plan.conflicts)
        hint = "Resolve them at your DNS provider, then publish again."
        if replaceable:
            hint = (f"Resolve them at your DNS provider, or run `stackshift domains publish {plan.domain} --replace` "
                    "for those the plan says --replace replaces.")
        raise PublishConflict(f"The plan has {count} conflict{'s' if count > 1 else ''}; nothing was written.",
                              hint=hint)


# ---------------------------------------------------------------- unpublishing


DELETE, RESTORE, LEFT, GONE = "delete", "restore", "left", "gone"


@dataclass(frozen=True)
class Undo:
    """One journal entry and what undoing it does: delete what stackshift created, restore what it replaced, or
    leave alone what someone changed since."""

    entry: Entry
    action: str
    reason: str | None = None
    edit: Edit | None = None

    def to_json(self) -> dict[str, Any]:
        from stackshift_cli.publish.plan import relative

        added = self.entry.added[0] if self.entry.added else None
        removed = self.entry.removed
        return {"action": self.action, "type": added.type if added else (removed[0].type if removed else ""),
                "name": self.entry.name, "host": relative(self.entry.name, self.entry.zone),
                "value": added.shown() if added else None,
                "oldValue": "; ".join(r.shown() if added is None or r.type == added.type else f"{r.type} {r.shown()}"
                                      for r in removed) or None,
                "reason": self.reason, "purpose": self.entry.purpose}


def plan_undo(entries: Sequence[Entry], view: Mapping[str, Sequence[ZoneRecord]]) -> list[Undo]:
    """Newest first: an entry whose records are still exactly there is undone; one whose records someone changed
    is left alone; a `planned` entry whose records are not there never landed (nothing to undo)."""
    from stackshift_cli.providers import READ_TYPES

    undos: list[Undo] = []
    current = {name: list(records) for name, records in view.items()}
    for entry in entries:
        here = current.get(entry.name, [])
        keys = {r.key() for r in here}
        ours_there = all(r.key() in keys for r in entry.added)
        if not ours_there:
            if entry.state == journal_states.PLANNED:
                undos.append(Undo(entry, GONE, "it never reached the provider"))
            elif not any(r.key() in keys for r in entry.added) and (
                    all(r.key() in keys for r in entry.removed) if entry.removed
                    else not any(_same_kind(r, a) for r in here for a in entry.added)):
                undos.append(Undo(entry, GONE, "already as it was before publish"))  # e.g. an undo cut short
            else:
                undos.append(Undo(entry, LEFT, "changed since stackshift wrote it: left alone"))
            continue
        types = tuple(dict.fromkeys([*(r.type for r in entry.added), *(r.type for r in entry.removed), "CNAME"]))
        if any(r.type == "CNAME" for r in (*entry.added, *entry.removed)):
            types = READ_TYPES
        edit = Edit(entry.name, remove=entry.added, add=entry.removed,
                    expect=tuple(r for r in here if r.type in types), expect_types=types)
        undos.append(Undo(entry, RESTORE if entry.removed else DELETE,
                          "put back as it was before publish" if entry.removed else "created by publish", edit))
        after = [r for r in here if r.key() not in {a.key() for a in entry.added}] + list(entry.removed)
        current[entry.name] = after  # an older entry at the same name is judged against the zone after this one
    return undos


def _same_kind(a: ZoneRecord, b: ZoneRecord) -> bool:
    """Whether two records stand for the same thing: the same type and, for TXT, the same first tag (v=spf1)."""
    def tag(r: ZoneRecord) -> str:
        return r.value.strip().split(";")[0].split(" ")[0].lower() if r.type == "TXT" else ""

    return a.type == b.type and tag(a) == tag(b)


def open_for_entries(settings: Settings, entries: Sequence[Entry], nameservers: Sequence[str]
                     ) -> dict[tuple[str, str], Publisher]:
    """The providers the entries were published through, each opened for its zone."""
    from stackshift_cli.providers import provider_info
    from stackshift_cli.publish.zone import Resolvers

    opened: dict[tuple[str, str], Publisher] = {}
    resolvers = Resolvers.from_settings(nameservers, settings.duration("dns.timeout"))
    try:
        for entry in entries:
            key = (entry.provider, entry.zone)
            if key not in opened:
                mname = resolvers.find_zone(entry.zone).mname if entry.provider == "rfc2136" and \
                    not settings.get("publish.rfc2136.server") else None
                opened[key] = provider_info(entry.provider).open(settings, entry.zone, list(nameservers), mname=mname)
    except BaseException:
        for publisher in opened.values():
            publisher.close()
        raise
    return opened


def undo(undos: Sequence[Undo], publishers: Mapping[tuple[str, str], Publisher], journal: Journal, ui: Ui) -> int:
    done = 0
    for item in undos:
        if item.edit is None:
            journal.mark(item.entry.id, journal_states.LEFT if item.action == LEFT else journal_states.UNDONE)
            continue
        try:
            publishers[(item.entry.provider, item.entry.zone)].apply(item.edit)
        except StackshiftError as exc:
            exc.message = f"{exc.message} {_undone_before(done)}"
            raise
        journal.mark(item.entry.id, journal_states.UNDONE)
        done += 1
        ui.info(f"{'Deleted' if item.action == DELETE else 'Restored'} {item.to_json()['type']} at "
                f"{item.entry.name}.")
    return done


def _undone_before(done: int) -> str:
    if done == 0:
        return "Nothing was changed."
    return f"{done} changes were undone before it; run the same command again to undo the rest."
