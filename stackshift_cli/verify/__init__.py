"""Verification: real DNS lookups and a verdict with an explanation for every record of a sender domain.

Light on purpose: dnspython is imported only when a check runs, so other commands start fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from stackshift_cli.config import Settings
    from stackshift_cli.domain import DnsRecord, Domain

__all__ = ["check_domain", "check_records"]


def check_domain(domain: Domain, settings: Settings, *, now: datetime | None = None) -> Domain:
    """Check every record of `domain` concurrently; return it with the verdicts and the bulk-sender requirements
    they show (not stored)."""
    from dataclasses import replace

    from stackshift_cli.domain import utcnow
    from stackshift_cli.requirements import DmarcFacts, requirements
    from stackshift_cli.verify.engine import Findings

    findings = Findings()
    records = _judge(domain.name, domain.records, settings, findings)
    window = timedelta(seconds=settings.duration("verify.window"))
    checked = domain.with_records(records, now or utcnow(), window)
    applied = findings.dmarc
    facts = None
    if applied is not None and applied.effective_policy:
        facts = DmarcFacts(applied.location, applied.effective_policy, applied.policy.aspf, applied.policy.adkim,
                           applied.own)
    return replace(checked, requirements=requirements(checked, facts))


def check_records(domain_name: str, records: Sequence[DnsRecord], settings: Settings) -> list[DnsRecord]:
    """Judge any expected record set (SPF/DKIM/DMARC TXT, CNAMEs, MX, a DKIM CNAME delegation) against DNS."""
    return _judge(domain_name, records, settings, None)


def _judge(domain_name: str, records: Sequence[DnsRecord], settings: Settings, findings) -> list[DnsRecord]:
    import asyncio

    from stackshift_cli.verify.engine import judge_all

    dns, include = _dns(settings), settings.sending_profile().spf_include
    return asyncio.run(judge_all(domain_name, list(records), dns, spf_include=include, findings=findings))


def _dns(settings: Settings):
    from stackshift_cli.config import parse_nameservers
    from stackshift_cli.verify.lookup import Dns

    return Dns(
        parse_nameservers(settings.get("dns.nameservers") or []),
        timeout=settings.duration("dns.timeout"),
        authoritative_port=int(settings.get("dns.authoritative_port")),
    )
