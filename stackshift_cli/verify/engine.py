"""Runs every check of a record set concurrently: what to look up for each record, and which evaluator judges it.

I/O happens here and in lookup.py; the evaluators (spf, dkim, dmarc, returnpath, mx, cname, exact, diagnose)
only read answers. Lookups a check is sure to need next are started early (our SPF include), so a correct
domain verifies in a few round trips, not the sum of them. Every TXT check follows a CNAME that leaves the zone
(a key or a policy hosted by a service) through the resolver.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Sequence

from stackshift_cli.domain import DKIM, DMARC, FAILED, MISSING, PENDING, RETURN_PATH, SPF, DnsRecord
from stackshift_cli.escape import visible
from stackshift_cli.verify import cname, diagnose, dkim, dmarc, exact, mx, returnpath, spf
from stackshift_cli.verify.answers import Answer, Verdict, dns_name_problem
from stackshift_cli.verify.dmarc import Applied
from stackshift_cli.verify.lookup import Dns
from stackshift_cli.verify.views import Settled, resolver_note, settle

MAX_SPF_ROUNDS = 12  # rounds of include lookups: nesting deeper than the lookup limit allows is not followed


@dataclass
class Findings:
    """What the checks learned beyond each record's verdict: the DMARC record that applies."""

    dmarc: Applied | None = None


@dataclass(frozen=True)
class _Context:
    domain: str
    records: tuple[DnsRecord, ...]
    dns: Dns
    spf_include: str
    findings: Findings


async def judge_all(domain: str, records: Sequence[DnsRecord], dns: Dns, *, spf_include: str,
                    findings: Findings | None = None, time_limit: float | None = None) -> list[DnsRecord]:
    """Every record judged at once. With `time_limit` (seconds), a record whose check has not ended by then is
    pending, naming the servers still awaited: whatever DNS servers do, this returns within the limit."""
    context = _Context(domain, tuple(records), dns, spf_include, findings or Findings())
    tasks = [asyncio.ensure_future(judge(r, context)) for r in records]
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


async def judge(record: DnsRecord, context: _Context) -> DnsRecord:
    """The record with its status and explanation."""
    problem = dns_name_problem(record.name)
    if problem:
        return record.with_verdict(FAILED, f"The record's name {problem}, so it cannot be looked up or published.")
    verdict, settled = await _verdict(record, context)
    if verdict.status == MISSING and settled is not None:
        verdict = await _diagnose_missing(record, context.domain, settled.zone, context.dns) or verdict
    notes = list(settled.notes) if settled else []
    # A stale resolver cache matters beside a verdict the user may doubt (verified, missing); beside a
    # failed record it only buries what to fix.
    lag = resolver_note(settled) if settled and verdict.status != FAILED else None
    if lag:
        notes.append(lag)
    explanation = " ".join(filter(None, [verdict.explanation, *notes])) or None
    return record.with_verdict(verdict.status, visible(explanation) if explanation else None)


async def _verdict(record: DnsRecord, context: _Context) -> tuple[Verdict, Settled | None]:
    purpose = diagnose.kind(record)
    dns = context.dns
    if record.type == "TXT" and purpose == SPF:
        return await _spf(record, dns, spf.include_of(record.value) or context.spf_include)
    if record.type == "TXT" and purpose == DKIM:
        return _judged(await _settle_txt(dns, record.name), lambda a: dkim.evaluate(a, expected=record.value))
    if record.type == "TXT" and purpose == DMARC:
        return await _dmarc(record, context)
    if record.type == "CNAME":
        return await _cname(record, dns, purpose)
    if record.type == "MX":
        settled = await _settle(dns, record.name, "MX")
        return _judged(settled, lambda a: mx.evaluate(a, exchange=record.value, priority=record.priority))
    settled = await (_settle_txt(dns, record.name) if record.type == "TXT" else _settle(dns, record.name, record.type))
    return _judged(settled, lambda a: exact.evaluate(a, rtype=record.type, value=record.value))


async def _settle(dns: Dns, name: str, rtype: str) -> Settled | Verdict:
    return settle(await dns.observe(name, rtype))


async def _settle_txt(dns: Dns, name: str) -> Settled | Verdict:
    """The TXT answer the authoritative servers agree on, its CNAME chain completed through the resolver."""
    settled = await _settle(dns, name, "TXT")
    if isinstance(settled, Verdict):
        return settled
    answer = await _follow_cname(settled.answer, dns)
    if isinstance(answer, Verdict):
        return answer
    return replace(settled, answer=answer)


def _judged(settled: Settled | Verdict, evaluate) -> tuple[Verdict, Settled | None]:
    if isinstance(settled, Verdict):
        return settled, None
    return evaluate(settled.answer), settled


async def _spf(record: DnsRecord, dns: Dns, include: str) -> tuple[Verdict, Settled | None]:
    asyncio.ensure_future(dns.resolve(include, "TXT"))  # prefetched: every walk needs it
    settled = await _settle_txt(dns, record.name)
    if isinstance(settled, Verdict):
        return settled, None
    fetched: dict[tuple[str, str], Answer] = {}
    texts = [r.text for r in settled.answer.rrs("TXT") if spf.is_spf(r.text)]
    for _ in range(MAX_SPF_ROUNDS):  # one round of lookups per level of nesting
        needed = sorted(spf.needed(record.name, texts, include, fetched))
        if not needed:
            break
        answers = await asyncio.gather(*(dns.resolve(n, t) for n, t in needed))
        fetched.update(zip(needed, answers))
    return spf.evaluate(settled.answer, include=include, expected=record.value, fetched=fetched), settled


async def _follow_cname(answer: Answer, dns: Dns) -> Answer | Verdict:
    """Complete a CNAME chain that leaves the zone (a key or policy hosted elsewhere) through the resolver."""
    final = answer.final_name()
    if final == answer.name or answer.rrs(answer.type):
        return answer
    rest = await dns.resolve(final, answer.type)
    if rest.transient:
        return Verdict(PENDING, f"{answer.name} is a CNAME to {final}, which could not be looked up "
                                f"({rest.problem}). Verify again later.")
    return replace(answer, records=answer.records + rest.records)


async def _dmarc(record: DnsRecord, context: _Context) -> tuple[Verdict, Settled | None]:
    dns = context.dns
    settled = await _settle_txt(dns, record.name)
    if isinstance(settled, Verdict):
        return settled, None
    domain = record.name[len("_dmarc."):] if record.name.startswith("_dmarc.") else context.domain
    walked: dict[str, Answer] = {}
    if dmarc.needs_walk(settled.answer):
        ancestors = dmarc.walk_names(domain)[1:]
        answers = await asyncio.gather(*(dns.resolve(f"_dmarc.{name}", "TXT") for name in ancestors))
        walked = dict(zip(ancestors, answers))
    return_path = next((r.name for r in context.records if r.purpose == RETURN_PATH), None)
    judgement = dmarc.evaluate(settled.answer, domain=domain, expected=record.value, walked=walked,
                               return_path=return_path)
    context.findings.dmarc = judgement.applied
    return judgement.verdict, settled


async def _cname(record: DnsRecord, dns: Dns, purpose: str | None) -> tuple[Verdict, Settled | None]:
    if purpose == DKIM:
        settled = await _settle(dns, record.name, "CNAME")
        chain = await _chain(settled, record, dns)
        return _judged(settled, lambda a: dkim.evaluate_delegation(a, target=record.value, chain=chain))
    settled, addresses = await asyncio.gather(_settle(dns, record.name, "CNAME"), _settle(dns, record.name, "A"))
    address_answer = addresses.answer if isinstance(addresses, Settled) else None
    chain = await _chain(settled, record, dns)
    if purpose == RETURN_PATH:
        return _judged(settled, lambda a: returnpath.evaluate(a, address_answer, target=record.value, chain=chain))
    return _judged(settled, lambda a: cname.evaluate(a, target=record.value, chain=chain))


async def _chain(settled: Settled | Verdict, record: DnsRecord, dns: Dns) -> Answer | None:
    """Where a CNAME to another name leads, through the resolver: only looked up when the target differs."""
    if isinstance(settled, Verdict):
        return None
    found = settled.answer.cname()
    if found is None or cname.same_name(found.text, record.value):
        return None
    return await dns.resolve(record.name, "A")


async def _diagnose_missing(record: DnsRecord, domain: str, zone: str | None, dns: Dns) -> Verdict | None:
    names = [(n, t) for n, t in diagnose.probes(record, zone, domain) if dns_name_problem(n) is None]
    observed = await asyncio.gather(*(_settle(dns, n, t) for n, t in names))
    answers = {key: s.answer for key, s in zip(names, observed) if isinstance(s, Settled)}
    return diagnose.explain_missing(record, zone, domain, answers)
