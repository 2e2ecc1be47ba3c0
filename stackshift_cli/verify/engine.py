"""Runs every check of a record set concurrently: what to look up for each record, and which evaluator judges it.

I/O happens here and in lookup.py; the evaluators (spf, dkim, dmarc, returnpath, mx, cname, exact, diagnose)
only read answers. Lookups a check is sure to need next are started early (our SPF include, the
organizational domain's DMARC record), so a correct domain verifies in a few round trips, not the sum of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Sequence

from stackshift_cli.domain import DKIM, DMARC, FAILED, MISSING, RETURN_PATH, SPF, DnsRecord
from stackshift_cli.records import organizational_domain
from stackshift_cli.verify import cname, diagnose, dkim, dmarc, exact, mx, returnpath, spf
from stackshift_cli.verify.answers import Answer, Verdict
from stackshift_cli.verify.lookup import Dns
from stackshift_cli.verify.views import Settled, resolver_note, settle


async def judge_all(domain: str, records: Sequence[DnsRecord], dns: Dns, *, spf_include: str) -> list[DnsRecord]:
    return list(await asyncio.gather(*(judge(r, domain, dns, spf_include=spf_include) for r in records)))


async def judge(record: DnsRecord, domain: str, dns: Dns, *, spf_include: str) -> DnsRecord:
    """The record with its status and explanation."""
    verdict, settled = await _verdict(record, domain, dns, spf_include)
    if verdict.status == MISSING and settled is not None:
        verdict = await _diagnose_missing(record, domain, settled.zone, dns) or verdict
    notes = list(settled.notes) if settled else []
    # A stale resolver cache matters beside a verdict the user may doubt (verified, missing); beside a
    # failed record it only buries what to fix.
    lag = resolver_note(settled) if settled and verdict.status != FAILED else None
    if lag:
        notes.append(lag)
    explanation = " ".join(filter(None, [verdict.explanation, *notes])) or None
    return record.with_verdict(verdict.status, explanation)


async def _verdict(record: DnsRecord, domain: str, dns: Dns, spf_include: str) -> tuple[Verdict, Settled | None]:
    purpose = diagnose.kind(record)
    if record.type == "TXT" and purpose == SPF:
        return await _spf(record, dns, spf.include_of(record.value) or spf_include)
    if record.type == "TXT" and purpose == DKIM:
        return await _dkim(record, dns)
    if record.type == "TXT" and purpose == DMARC:
        return await _dmarc(record, domain, dns)
    if record.type == "CNAME":
        return await _cname(record, dns, purpose)
    if record.type == "MX":
        settled = await _settle(dns, record.name, "MX")
        return _judged(settled, lambda a: mx.evaluate(a, exchange=record.value, priority=record.priority))
    settled = await _settle(dns, record.name, record.type)
    return _judged(settled, lambda a: exact.evaluate(a, rtype=record.type, value=record.value))


async def _settle(dns: Dns, name: str, rtype: str) -> Settled | Verdict:
    return settle(await dns.observe(name, rtype))


def _judged(settled: Settled | Verdict, evaluate) -> tuple[Verdict, Settled | None]:
    if isinstance(settled, Verdict):
        return settled, None
    return evaluate(settled.answer), settled


async def _spf(record: DnsRecord, dns: Dns, include: str) -> tuple[Verdict, Settled | None]:
    asyncio.ensure_future(dns.resolve(include, "TXT"))  # prefetched: almost every walk needs it
    settled = await _settle(dns, record.name, "TXT")
    if isinstance(settled, Verdict):
        return settled, None
    fetched: dict[tuple[str, str], Answer] = {}
    texts = [r.text for r in settled.answer.rrs("TXT") if spf.is_spf(r.text)]
    if len(texts) == 1:
        while True:  # one round of lookups per level of nesting
            needed = spf.walk(record.name, texts[0], include, fetched).needed
            if not needed:
                break
            answers = await asyncio.gather(*(dns.resolve(n, t) for n, t in needed))
            fetched.update(zip(needed, answers))
    return spf.evaluate(settled.answer, include=include, expected=record.value, fetched=fetched), settled


async def _dkim(record: DnsRecord, dns: Dns) -> tuple[Verdict, Settled | None]:
    settled = await _settle(dns, record.name, "TXT")
    if isinstance(settled, Verdict):
        return settled, None
    answer = await _follow_cname(settled.answer, dns)
    if isinstance(answer, Verdict):
        return answer, settled
    return dkim.evaluate(answer, expected=record.value), settled


async def _follow_cname(answer: Answer, dns: Dns) -> Answer | Verdict:
    """Complete a CNAME chain that leaves the zone (a delegated DKIM key) through the resolver."""
    final = answer.final_name()
    if final == answer.name or answer.rrs(answer.type):
        return answer
    rest = await dns.resolve(final, answer.type)
    if rest.transient:
        return Verdict("pending", f"{answer.name} is a CNAME to {final}, which could not be looked up "
                                  f"({rest.problem}). Verify again later.")
    return replace(answer, records=answer.records + rest.records)


async def _dmarc(record: DnsRecord, domain: str, dns: Dns) -> tuple[Verdict, Settled | None]:
    org = organizational_domain(domain)
    org_name = f"_dmarc.{org}" if org and f"_dmarc.{org}" != record.name else None
    # Started now, though needed only when the domain has no record, so the fallback costs no extra round trip.
    org_task = asyncio.ensure_future(_settle(dns, org_name, "TXT")) if org_name else None
    settled = await _settle(dns, record.name, "TXT")
    if isinstance(settled, Verdict):
        return settled, None
    org_settled = await org_task if org_task else None
    org_answer = org_settled.answer if isinstance(org_settled, Settled) else None
    return dmarc.evaluate(settled.answer, expected=record.value, org_answer=org_answer), settled


async def _cname(record: DnsRecord, dns: Dns, purpose: str | None) -> tuple[Verdict, Settled | None]:
    if purpose == DKIM:
        settled = await _settle(dns, record.name, "CNAME")
        return _judged(settled, lambda a: dkim.evaluate_delegation(a, target=record.value))
    settled, addresses = await asyncio.gather(_settle(dns, record.name, "CNAME"), _settle(dns, record.name, "A"))
    address_answer = addresses.answer if isinstance(addresses, Settled) else None
    if purpose == RETURN_PATH:
        return _judged(settled, lambda a: returnpath.evaluate(a, address_answer, target=record.value))
    return _judged(settled, lambda a: cname.evaluate(a, target=record.value))


async def _diagnose_missing(record: DnsRecord, domain: str, zone: str | None, dns: Dns) -> Verdict | None:
    names = diagnose.probes(record, zone, domain)
    observed = await asyncio.gather(*(_settle(dns, n, t) for n, t in names))
    answers = {key: s.answer for key, s in zip(names, observed) if isinstance(s, Settled)}
    return diagnose.explain_missing(record, zone, domain, answers)
