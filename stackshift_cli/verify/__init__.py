"""Verification: real DNS lookups and a verdict with an explanation for every record of a sender domain.

`check_domain` checks one domain in an event loop of its own. A bulk run (`verify --all`) uses a `Session`:
the settings read once, one event loop for the whole run, and per round one `lookup.Dns` whose sockets and
shared answers (an SPF include, the name servers' addresses, the zones above the domains) every domain of
the round uses.

Light on purpose: dnspython is imported only when a check runs, so other commands start fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from pathlib import Path

    from stackshift_cli.config import Settings
    from stackshift_cli.domain import DnsRecord, Domain
    from stackshift_cli.verify.answers import Zone
    from stackshift_cli.verify.lookup import Dns
    from stackshift_cli.verify.steps import Findings

__all__ = ["Session", "check_domain", "check_records", "check_settings", "check_time_limit"]

# The check of one domain ends within this many times dns.timeout (30s by default), whatever the DNS servers do: a
# few lookups in a row (the zone, its servers, the record, a CNAME's target, the SPF includes) each may wait that
# long. A record whose lookups have not ended by then is pending, and says which servers were still awaited.
CHECK_TIME_FACTOR = 10
# --concurrency: the most DNS queries a run has in flight at once (and domains being checked at once). The
# default is where throughput stopped growing on a 2-core machine (bench/run.py), far below what a resolver
# takes (Unbound's default is 1024 per thread); MAX_CONCURRENCY keeps a typo from flooding one.
DEFAULT_CONCURRENCY = 256
MAX_CONCURRENCY = 4096


def check_domain(domain: Domain, settings: Settings, *, now: datetime | None = None,
                 nameservers: Sequence[str] | None = None) -> Domain:
    """Check every record of `domain` concurrently; return it with the verdicts and the bulk-sender requirements
    they show (not stored). `nameservers`: the resolvers to query, IP[:PORT] ([] the system's; None:
    dns.nameservers)."""
    import asyncio

    session = Session(settings, nameservers)
    return asyncio.run(session.in_own_round(session.check(domain, now=now)))


def check_records(domain_name: str, records: Sequence[DnsRecord], settings: Settings, *,
                  nameservers: Sequence[str] | None = None) -> list[DnsRecord]:
    """Judge any expected record set (SPF/DKIM/DMARC TXT, CNAMEs, MX, a DKIM CNAME delegation) against DNS."""
    import asyncio

    session = Session(settings, nameservers)
    return asyncio.run(session.in_own_round(session.judge(domain_name, records, None)))


class Session:
    """The settings a check reads (read once), and the lookups of the current round.

    Used from one event loop: `new_round()` starts a round (fresh answers: a re-check must see DNS as it is
    now), `check(domain)` checks one domain within it; any number of checks may run at once."""

    def __init__(self, settings: Settings, nameservers: Sequence[str] | None = None, *,
                 queries_in_flight: int | None = None, remember_zones: bool = False) -> None:
        from stackshift_cli.config import parse_nameservers

        configured = settings.get("dns.nameservers") if nameservers is None else nameservers
        self.nameservers = list(configured or [])
        self.resolvers = parse_nameservers(self.nameservers)
        self.timeout = settings.duration("dns.timeout")
        self.authoritative_port = int(settings.get("dns.authoritative_port"))
        self.spf_include = settings.sending_profile().spf_include
        self.time_limit = check_time_limit(settings)
        self.window = timedelta(seconds=settings.duration("verify.window"))
        self.queries_in_flight = queries_in_flight
        # verify NAME: the zones found are kept for the next run, whose first round asks their servers at once
        # (verify/zonecache.py: a guess, confirmed by the discovery made as always)
        self.remember_zones = remember_zones
        self.confirmed_guesses = 0
        self._guesses: dict[str, Zone] | None = None
        self._dns: Dns | None = None

    @property
    def dns(self) -> Dns:
        if self._dns is None:
            self.new_round()
        assert self._dns is not None
        return self._dns

    def new_round(self) -> None:
        """Forget every answer of the previous round and close its sockets."""
        from stackshift_cli.verify.lookup import Dns

        self.close()
        dns = Dns(self.resolvers, timeout=self.timeout, authoritative_port=self.authoritative_port,
                  queries_in_flight=self.queries_in_flight or DEFAULT_CONCURRENCY)
        if self.remember_zones:
            from stackshift_cli.verify import zonecache

            if self._guesses is None:
                self._guesses = zonecache.load(self._zone_file(), self._zone_view(dns))
            dns.guesses, dns.found = self._guesses, {}
        self._dns = dns

    def close(self) -> None:
        if self._dns is not None:
            dns, self._dns = self._dns, None
            dns.close()
            self.confirmed_guesses += dns.confirmed
            if self.remember_zones and dns.found:  # (found is None unless zones are remembered)
                from stackshift_cli.verify import zonecache

                self._guesses = {**(self._guesses or {}), **dns.found}
                zonecache.save(self._zone_file(), self._zone_view(dns), dns.found)

    def _zone_file(self) -> Path:
        from stackshift_cli.configfile import data_dir
        from stackshift_cli.verify import zonecache

        return zonecache.path_in(data_dir())

    def _zone_view(self, dns: Dns) -> str:
        from stackshift_cli.verify import zonecache

        return zonecache.view_key(dns.resolvers, self.authoritative_port)

    async def in_own_round(self, work):
        """Await `work` in a round of its own, closed after it (one domain, one event loop)."""
        try:
            return await work
        finally:
            self.close()

    async def check(self, domain: Domain, *, now: datetime | None = None) -> Domain:
        """The domain with the verdicts of the current round and the bulk-sender requirements they show."""
        from dataclasses import replace

        from stackshift_cli.domain import utcnow
        from stackshift_cli.requirements import DmarcFacts, requirements
        from stackshift_cli.verify.steps import Findings

        findings = Findings()
        records = await self.judge(domain.name, domain.records, findings)
        checked = domain.with_records(records, now or utcnow(), self.window)
        applied = findings.dmarc
        facts = None
        if applied is not None and applied.effective_policy:
            facts = DmarcFacts(applied.location, applied.effective_policy, applied.policy.aspf,
                               applied.policy.adkim, applied.own)
        return replace(checked, requirements=requirements(checked, facts))

    async def judge(self, domain_name: str, records: Sequence[DnsRecord], findings: Findings | None
                    ) -> list[DnsRecord]:
        """Every record judged within the check's time limit (and the run's deadline, and its Ctrl-C)."""
        import asyncio

        from stackshift_cli.verify.engine import judge_all

        limit = self.time_limit
        control = _current_check()
        remaining = control.remaining() if control is not None else None
        if remaining is not None:
            limit = max(0.0, min(limit, remaining))
        task = asyncio.ensure_future(judge_all(domain_name, list(records), self.dns.for_domain(domain_name),
                                               spf_include=self.spf_include, findings=findings, time_limit=limit))
        if control is None:
            return await task
        loop = asyncio.get_running_loop()
        forget = control.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))  # Ctrl-C, from the main thread
        try:
            return await task
        finally:
            forget()


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
