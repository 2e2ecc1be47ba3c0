"""Verification: real DNS lookups and a verdict with an explanation for every record of a sender domain.

Light on purpose: dnspython is imported only when a check runs, so other commands start fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from stackshift_cli.config import Settings
    from stackshift_cli.domain import DnsRecord, Domain

__all__ = ["check_domain", "check_records", "check_settings", "check_time_limit"]

# The check of one domain ends within this many times dns.timeout (30s by default), whatever the DNS servers do: a
# few lookups in a row (the zone, its servers, the record, a CNAME's target, the SPF includes) each may wait that
# long. A record whose lookups have not ended by then is pending, and says which servers were still awaited.
CHECK_TIME_FACTOR = 10


def check_domain(domain: Domain, settings: Settings, *, now: datetime | None = None,
                 nameservers: Sequence[str] | None = None) -> Domain:
    """Check every record of `domain` concurrently; return it with the verdicts and the bulk-sender requirements
    they show (not stored). `nameservers`: the resolvers to query, IP[:PORT] ([] the system's; None:
    dns.nameservers)."""
    from dataclasses import replace

    from stackshift_cli.domain import utcnow
    from stackshift_cli.requirements import DmarcFacts, requirements
    from stackshift_cli.verify.engine import Findings

    findings = Findings()
    records = _judge(domain.name, domain.records, settings, findings, nameservers)
    window = timedelta(seconds=settings.duration("verify.window"))
    checked = domain.with_records(records, now or utcnow(), window)
    applied = findings.dmarc
    facts = None
    if applied is not None and applied.effective_policy:
        facts = DmarcFacts(applied.location, applied.effective_policy, applied.policy.aspf, applied.policy.adkim,
                           applied.own)
    return replace(checked, requirements=requirements(checked, facts))


def check_records(domain_name: str, records: Sequence[DnsRecord], settings: Settings, *,
                  nameservers: Sequence[str] | None = None) -> list[DnsRecord]:
    """Judge any expected record set (SPF/DKIM/DMARC TXT, CNAMEs, MX, a DKIM CNAME delegation) against DNS."""
    return _judge(domain_name, records, settings, None, nameservers)


def _judge(domain_name: str, records: Sequence[DnsRecord], settings: Settings, findings,
           nameservers: Sequence[str] | None) -> list[DnsRecord]:
    import asyncio

    from stackshift_cli.verify.engine import judge_all

    dns, include = _dns(settings, nameservers), settings.sending_profile().spf_include
    limit = check_time_limit(settings)
    control = _current_check()
    remaining = control.remaining() if control is not None else None
    if remaining is not None:
        limit = max(0.0, min(limit, remaining))

    async def judged() -> list[DnsRecord]:
        task = asyncio.ensure_future(judge_all(domain_name, list(records), dns, spf_include=include,
                                               findings=findings, time_limit=limit))
        if control is None:
            return await task
        loop = asyncio.get_running_loop()
        forget = control.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))  # Ctrl-C, from the main thread
        try:
            return await task
        finally:
            forget()

    return asyncio.run(judged())


def check_settings(settings: Settings) -> None:
    """Read every setting a check reads, so that a bad value (from the environment, the config file or a flag) is
    one error before any lookup rather than after the first check; raises UsageError naming the key."""
    settings.duration("verify.window")
    settings.duration("dns.timeout")
    settings.get("dns.authoritative_port")
    settings.get("dns.nameservers")
    settings.sending_profile()


def check_time_limit(settings: Settings) -> float:
    """How long the check of one domain may take: CHECK_TIME_FACTOR times dns.timeout."""
    return CHECK_TIME_FACTOR * settings.duration("dns.timeout")


def _current_check():
    from stackshift_cli.verify.wait import current_check

    return current_check()


def _dns(settings: Settings, nameservers: Sequence[str] | None):
    from stackshift_cli.config import parse_nameservers
    from stackshift_cli.verify.lookup import Dns

    configured = settings.get("dns.nameservers") if nameservers is None else nameservers
    return Dns(
        parse_nameservers(list(configured or [])),
        timeout=settings.duration("dns.timeout"),
        authoritative_port=int(settings.get("dns.authoritative_port")),
    )
