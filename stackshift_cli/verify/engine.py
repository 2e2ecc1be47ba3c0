"""Runs every check of a record set concurrently: each record is judged by the check of its kind (the
checks registry), a missing one is diagnosed, and the notes that belong beside a verdict are added.

I/O happens in lookup.py (through the `Dns` object); the checks only read answers. Lookups a check is sure to
need next are started early (our SPF include), so a correct domain verifies in a few round trips, not the sum
of them. Every TXT check follows a CNAME that leaves the zone (a key or a policy hosted by a service).
"""

from __future__ import annotations

import asyncio
from typing import Sequence

from stackshift_cli import checks
from stackshift_cli.checks import cname, exact, inbound_mx
from stackshift_cli.domain import FAILED, MISSING, PENDING, DnsRecord
from stackshift_cli.escape import visible
from stackshift_cli.verify import diagnose, steps
from stackshift_cli.verify.answers import Verdict, dns_name_problem
from stackshift_cli.verify.lookup import Lookups
from stackshift_cli.verify.steps import Findings, Judged, Judging
from stackshift_cli.verify.views import Settled, resolver_note


async def judge_all(domain: str, records: Sequence[DnsRecord], dns: Lookups, *, spf_include: str,
                    findings: Findings | None = None, time_limit: float | None = None) -> list[DnsRecord]:
    """Every record judged at once. With `time_limit` (seconds), a record whose check has not ended by then is
    pending, naming the servers still awaited: whatever DNS servers do, this returns within the limit."""
    judging = Judging(domain, tuple(records), dns, spf_include, findings or Findings())
    tasks = [asyncio.ensure_future(judge(r, judging)) for r in records]
    if not tasks:
        return []
    try:
        _, unfinished = await asyncio.wait(tasks, timeout=time_limit)
    finally:
        for task in tasks:  # cancelled from outside (Ctrl-C) or out of time: stop every lookup
            if not task.done():
                task.cancel()
    awaited = dns.awaited() if unfinished else []
    return [_unfinished(r, time_limit, awaited) if t in unfinished else t.result() for r, t in zip(records, tasks)]


def _unfinished(record: DnsRecord, time_limit: float | None, awaited: list[str]) -> DnsRecord:
    seconds = f"{round(time_limit or 0, 1):g}"
    waiting = f" (still waiting for {'; '.join(awaited)})" if awaited else ""
    return record.with_verdict(PENDING, visible(
        f"The check of {record.type} at {record.name} did not finish within {seconds}s{waiting}. This is usually "
        "temporary; verify again later."))


async def judge(record: DnsRecord, judging: Judging) -> DnsRecord:
    """The record with its status and explanation."""
    problem = dns_name_problem(record.name)
    if problem:
        return record.with_verdict(FAILED, f"The record's name {problem}, so it cannot be looked up or published.")
    verdict, settled = await _verdict(record, judging)
    if verdict.status == MISSING and settled is not None:
        verdict = await _diagnose_missing(record, judging.domain, settled.zone, judging.dns) or verdict
    notes = list(settled.notes) if settled else []
    # A stale resolver cache matters beside a verdict the user may doubt (verified, missing); beside a
    # failed record it only buries what to fix.
    lag = resolver_note(settled) if settled and verdict.status != FAILED else None
    if lag:
        notes.append(lag)
    explanation = " ".join(filter(None, [verdict.explanation, *notes])) or None
    return record.with_verdict(verdict.status, visible(explanation) if explanation else None)


async def _verdict(record: DnsRecord, judging: Judging) -> Judged:
    """The check of the record's kind (checks.REGISTRY) judges it; a record no check judges (an API may ask for
    any record) by its type: a CNAME's target, an MX's exchange, otherwise the exact value."""
    kind = checks.kind_of(record)
    judged = await kind.rules().judge(record, judging) if kind is not None else None
    if judged is not None:
        return judged
    dns = judging.dns
    if record.type == "CNAME":
        found = await steps.settled(dns, record.name, "CNAME")
        chain = await steps.cname_chain(found, record.value, dns)
        return steps.judged(found, lambda a: cname.evaluate(a, target=record.value, chain=chain))
    if record.type == "MX":
        found = await steps.settled(dns, record.name, "MX")
        return steps.judged(found, lambda a: inbound_mx.evaluate(a, exchange=record.value, priority=record.priority))
    found = await (steps.settled_txt(dns, record.name) if record.type == "TXT" else
                   steps.settled(dns, record.name, record.type))
    return steps.judged(found, lambda a: exact.evaluate(a, rtype=record.type, value=record.value))


async def _diagnose_missing(record: DnsRecord, domain: str, zone: str | None, dns: Lookups) -> Verdict | None:
    names = [(n, t) for n, t in diagnose.probes(record, zone, domain) if dns_name_problem(n) is None]
    observed = await asyncio.gather(*(steps.settled(dns, n, t) for n, t in names))
    answers = {key: s.answer for key, s in zip(names, observed) if isinstance(s, Settled)}
    return diagnose.explain_missing(record, zone, domain, answers)
