"""The publish plan (pure): for each record of a domain, what to do at the provider given what the zone holds now.

One line per record: `keep` (already right), `create`, `update` (the old value is replaced) or `conflict` (why it
cannot be written without destroying something: nothing of the plan is written then). Each check module says how
its record is merged with what is there (`plan(record, here)`, see checks/__init__.py); a record no check claims
follows the rule of its type (`by_type`). The helpers below build the lines, so every rule says only what it decides.

`--replace` turns the conflicts a rule marks as replaceable (another system's DKIM key, records in the way of the
return-path CNAME, a broken DMARC or SPF record) into the update that replaces them; a conflict that would publish
something receivers reject (an SPF record over the lookup limit) is never replaceable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from stackshift_cli.providers import READ_TYPES, Edit, ZoneRecord

if TYPE_CHECKING:
    from stackshift_cli.domain import DnsRecord
    from stackshift_cli.verify.answers import Answer

KEEP, CREATE, UPDATE, CONFLICT = "keep", "create", "update", "conflict"
ACTIONS = (CREATE, UPDATE, KEEP, CONFLICT)
DEFAULT_TTL = 300


@dataclass(frozen=True)
class Here:
    """What a rule sees: every record the zone holds at the record's name (READ_TYPES), the resolver's answers
    the planner fetched beside it (SPF includes, where a CNAME leads), and the run's choices."""

    name: str
    records: tuple[ZoneRecord, ...] = ()
    fetched: Mapping[tuple[str, str], Answer] = field(default_factory=dict)
    domain: str = ""
    spf_include: str = "spf.stackshift.email"
    ttl: int = DEFAULT_TTL
    replace: bool = False

    def of(self, rtype: str) -> list[ZoneRecord]:
        return [r for r in self.records if r.type == rtype]

    def answer(self, rtype: str) -> Answer:
        """What the zone holds at the name for `rtype`, as an authoritative answer (for the checks' evaluate())."""
        from stackshift_cli.verify.answers import Answer, Rr, Server

        rrs = tuple(Rr(r.name, r.type, r.ttl or 0, r.value, (r.value,) if r.type == "TXT" else (), r.priority)
                    for r in self.records if r.type in (rtype, "CNAME"))
        return Answer(Server("zone"), self.name, rtype, "NOERROR", rrs, authoritative=True)

    def resolved(self, rtype: str) -> Answer | None:
        """The resolver's answer at the name (a CNAME followed), when the planner fetched it."""
        return self.fetched.get((self.name, rtype))


@dataclass(frozen=True)
class Change:
    """One line of the plan: what is done for one record, and the provider edit that does it."""

    action: str
    type: str
    name: str
    value: str | None
    purpose: str | None = None
    old: tuple[ZoneRecord, ...] = ()  # what stands there now and is replaced (update) or in the way (conflict)
    reason: str | None = None
    edit: Edit | None = None  # create and update only
    priority: int | None = None  # MX only

    def old_value(self) -> str | None:
        if not self.old:
            return None
        return "; ".join(r.shown() if r.type == self.type else f"{r.type} {r.shown()}" for r in self.old)

    def to_json(self, zone: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action, "type": self.type, "name": self.name,
            "host": relative(self.name, zone) if zone else None, "value": self.value, "oldValue": self.old_value(),
            "reason": self.reason, "purpose": self.purpose}
        if self.type == "MX":
            data["priority"] = self.priority
        return data


@dataclass(frozen=True)
class Plan:
    domain: str
    zone: str
    provider: str
    changes: tuple[Change, ...]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == CONFLICT]

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.edit is not None]

    def to_json(self, *, applied: bool) -> dict[str, Any]:
        return {"domain": self.domain, "provider": self.provider, "zone": self.zone,
                "changes": [c.to_json(self.zone) for c in self.changes],
                "conflicts": [c.to_json(self.zone) for c in self.conflicts], "applied": applied}


def relative(name: str, zone: str) -> str:
    """`name` relative to `zone` ('@' for the apex), as a provider's form wants it."""
    if name == zone:
        return "@"
    return name[: -len(zone) - 1] if name.endswith("." + zone) else name


def wanted(record: DnsRecord, here: Here) -> ZoneRecord:
    """The record the domain asks for, as the zone will hold it (in the TTL of the RRset it joins)."""
    from stackshift_cli.verify.answers import canonical_name

    value = record.value if record.type == "TXT" else canonical_name(record.value)
    existing = here.of(record.type)
    ttl = existing[0].ttl if existing and existing[0].ttl else here.ttl
    return ZoneRecord(record.type, here.name, value, ttl, record.priority if record.type == "MX" else None)


# ---------------------------------------------------------------- the lines a rule returns


def keep(record: DnsRecord, here: Here, reason: str | None = None, *, found: ZoneRecord | None = None) -> Change:
    """Nothing to write; `found`, the record already there that does the job, is what the plan shows."""
    if found is not None:
        return Change(KEEP, record.type, here.name, found.value, record.purpose, reason=reason,
                      priority=found.priority)
    return Change(KEEP, record.type, here.name, record.value, record.purpose, reason=reason, priority=record.priority)


def create(record: DnsRecord, here: Here, reason: str | None = None) -> Change:
    """Add the record beside what stands there; the edit expects the name to hold, for the record's type (and
    CNAME, which nothing may stand beside), exactly what the plan saw."""
    types = _guarded(record.type)
    add = wanted(record, here)
    edit = Edit(here.name, add=(add,), expect=tuple(r for r in here.records if r.type in types), expect_types=types)
    return Change(CREATE, record.type, here.name, add.value, record.purpose, reason=reason, edit=edit,
                  priority=add.priority)


def update(record: DnsRecord, here: Here, remove: Sequence[ZoneRecord], reason: str | None = None, *,
           value: str | None = None) -> Change:
    """Replace `remove` with the record (or with `value`, a merged record) in one edit."""
    types = tuple(dict.fromkeys([*_guarded(record.type), *(r.type for r in remove)]))
    new = wanted(replace(record, value=value) if value is not None else record, here)
    if remove and all(r.type == new.type for r in remove) and remove[0].ttl:
        new = replace(new, ttl=remove[0].ttl)
    edit = Edit(here.name, remove=tuple(remove), add=(new,),
                expect=tuple(r for r in here.records if r.type in types), expect_types=types)
    return Change(UPDATE, record.type, here.name, new.value, record.purpose, old=tuple(remove), reason=reason,
                  edit=edit, priority=new.priority)


def conflict(record: DnsRecord, here: Here, reason: str, *, old: Sequence[ZoneRecord] = (),
             instead: Change | None = None) -> Change:
    """A conflict; with --replace, `instead` (the update that replaces what is in the way) when there is one."""
    if here.replace and instead is not None:
        return replace(instead, reason=f"{reason} (replaced: --replace)")
    suffix = " Run again with --replace to replace it." if instead is not None else ""
    return Change(CONFLICT, record.type, here.name, record.value, record.purpose, old=tuple(old),
                  reason=reason + suffix, priority=record.priority)


def _guarded(rtype: str) -> tuple[str, ...]:
    """The types whose content an edit of `rtype` checks first: its own, and CNAME (which excludes everything);
    a CNAME checks every type (it may stand only where nothing else does)."""
    return READ_TYPES if rtype == "CNAME" else (rtype, "CNAME")


def cname_in_the_way(record: DnsRecord, here: Here) -> Change | None:
    """A CNAME where a TXT or MX record must go (nothing can stand beside a CNAME, RFC 1034 3.6.2): a conflict."""
    cnames = here.of("CNAME")
    if not cnames or record.type == "CNAME":
        return None
    return conflict(record, here, f"{here.name} is a CNAME to {cnames[0].value}, and no other record can stand "
                                  f"beside a CNAME (RFC 1034 3.6.2). Remove the CNAME, or publish the {record.type} "
                                  "record where it points.", old=cnames)


# ---------------------------------------------------------------- rules by type, for records no check claims


def by_type(record: DnsRecord, here: Here) -> Change:
    if record.type == "CNAME":
        return cname_rule(record, here, replaceable=True)
    blocked = cname_in_the_way(record, here)
    if blocked:
        return blocked
    new = wanted(record, here)
    if any(r.key() == new.key() for r in here.of(record.type)):
        return keep(record, here)
    return create(record, here)


def cname_rule(record: DnsRecord, here: Here, *, replaceable: bool, what: str = "The CNAME") -> Change:
    """A CNAME stands alone at its name: the right one is kept, anything else there is a conflict (replaced with
    --replace when `replaceable`)."""
    from stackshift_cli.checks.cname import same_name

    cnames = here.of("CNAME")
    if len(cnames) == 1 and same_name(cnames[0].value, record.value) and len(here.records) == 1:
        return keep(record, here)
    if not here.records:
        return create(record, here)
    others = list(here.records)
    addresses = [r for r in others if r.type in ("A", "AAAA")]
    if addresses and not cnames:
        shown = ", ".join(r.value for r in addresses[:3])
        why = (f"{here.name} answers with address records ({shown}) instead of a CNAME to {record.value}: your DNS "
               "provider flattens or proxies it, or another service uses the name. Turn the proxy off for this "
               "record (on Cloudflare: \"DNS only\", the grey cloud), or choose another host.")
    elif cnames and not same_name(cnames[0].value, record.value):
        why = f"{what} at {here.name} points to {cnames[0].value}, not {record.value}."
    else:
        shown = "; ".join(f"{r.type} {r.shown()}" for r in others[:3] if not (r.type == "CNAME"))
        why = f"{here.name} already holds {shown}, and a CNAME cannot stand beside other records (RFC 1034 3.6.2)."
    instead = update(record, here, others) if replaceable else None
    return conflict(record, here, why, old=others, instead=instead)


def build(domain: str, zone: str, provider: str, records: Sequence[DnsRecord], view: Mapping[str, Sequence[ZoneRecord]],
          *, fetched: Mapping[tuple[str, str], Answer] | None = None, spf_include: str = "spf.stackshift.email",
          ttl: int = DEFAULT_TTL, replace_conflicts: bool = False) -> Plan:
    """The plan for `records` (a domain's records) given `view`, what the zone holds at each of their names."""
    from stackshift_cli import checks

    changes = []
    for record in records:
        here = Here(record.name, tuple(view.get(record.name, ())), fetched or {}, domain, spf_include, ttl,
                    replace_conflicts)
        kind = checks.kind_of(record)
        rule = getattr(kind.rules(), "plan", None) if kind else None
        change = (rule(record, here) if rule else None) or by_type(record, here)
        changes.append(change)
    return Plan(domain, zone, provider, tuple(changes))


def needed(domain: str, records: Sequence[DnsRecord], view: Mapping[str, Sequence[ZoneRecord]],
           fetched: Mapping[tuple[str, str], Answer], *, spf_include: str, listing: bool) -> set[tuple[str, str]]:
    """The resolver answers the rules still need, given those fetched so far: what a check's `plan_needed` asks
    (SPF includes), where a CNAME at a record's name leads, and, when the view is a provider's listing (which may
    hide a proxy), the address records a CNAME's name answers with."""
    from stackshift_cli import checks

    wanted: set[tuple[str, str]] = set()
    for record in records:
        here = Here(record.name, tuple(view.get(record.name, ())), fetched, domain, spf_include)
        kind = checks.kind_of(record)
        asks = getattr(kind.rules(), "plan_needed", None) if kind else None
        if asks is not None:
            wanted |= asks(here)
        if here.of("CNAME") and record.type != "CNAME":
            wanted.add((record.name, record.type))
        if listing and record.type == "CNAME":
            wanted.add((record.name, "A"))
    return wanted - fetched.keys()
