"""Judging the inbound MX record: the expected exchange with the expected priority."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackshift_cli.checks.cname import same_name
from stackshift_cli.domain import FAILED, INBOUND, MISSING, VERIFIED, DnsRecord
from stackshift_cli.verify import steps
from stackshift_cli.verify.answers import Answer, Rr, Verdict
from stackshift_cli.verify.steps import Judged, Judging

if TYPE_CHECKING:
    from stackshift_cli.publish.plan import Change, Here
    from stackshift_cli.records import SendingProfile


def evaluate(answer: Answer, *, exchange: str, priority: int | None) -> Verdict:
    """The verdict on the MX answer at the record's name."""
    name = answer.name
    records = answer.rrs("MX", name)
    if not records:
        return Verdict(MISSING, f"No MX record at {name}. Publish: MX {priority if priority is not None else 10} "
                                f"{exchange}")
    ours = [r for r in records if same_name(r.text, exchange)]
    if not ours:
        found = ", ".join(f"{r.priority} {r.text}" for r in records)
        return Verdict(FAILED, f"The MX records at {name} ({found}) do not include {exchange}. Publish MX "
                               f"{priority} {exchange}, and remove the others unless you also receive mail there.")
    if priority is not None and all(r.priority != priority for r in ours):
        return Verdict(FAILED, f"The MX record for {exchange} at {name} has priority {ours[0].priority}; set it "
                               f"to {priority}.")
    return Verdict(VERIFIED, None)


# ---------------------------------------------------------------- the check (see checks/__init__.py)


def claims(record: DnsRecord) -> bool:
    return record.type == "MX"


def expected(name: str, *, selector: str, public_key_b64: str, profile: SendingProfile,
             inbound: bool) -> DnsRecord | None:
    """Only with `create --inbound`, and not required for sending."""
    from stackshift_cli.records import new_record

    if not inbound:
        return None
    return new_record(INBOUND, "MX", f"{profile.inbound_host}.{name}", name, profile.inbound_target,
                      required=False, priority=profile.inbound_priority)


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    return rr.type == record.type and same_name(rr.text, record.value)


def wrong_types(record: DnsRecord) -> tuple[str, ...]:
    return ("CNAME", "TXT")


PROBE_APEX = True


async def judge(record: DnsRecord, judging: Judging) -> Judged | None:
    if record.type != "MX":
        return None
    found = await steps.settled(judging.dns, record.name, "MX")
    return steps.judged(found, lambda a: evaluate(a, exchange=record.value, priority=record.priority))


def plan(record: DnsRecord, here: Here) -> Change | None:
    """The inbound MX joins the MX records already at its name (it never replaces them)."""
    from stackshift_cli.publish import plan as p

    if record.type != "MX":
        return None
    blocked = p.cname_in_the_way(record, here)
    if blocked:
        return blocked
    found = here.of("MX")
    ours = [r for r in found if same_name(r.value, record.value)]
    if any(r.priority == record.priority for r in ours):
        return p.keep(record, here)
    if ours:
        return p.update(record, here, ours, f"priority {ours[0].priority} → {record.priority}")
    return p.create(record, here, f"beside {len(found)} MX record{'s' if len(found) > 1 else ''} already there"
                    if found else None)
