"""The steps a check's judge takes to get the answer it evaluates: what every authoritative server agrees on,
a CNAME chain completed through the resolver, and the run's shared context.

No dnspython here (the `Dns` object a judge receives does the lookups), so the check modules that use these
steps stay importable by commands that never look anything up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from stackshift_cli.domain import PENDING, DnsRecord
from stackshift_cli.verify.answers import Answer, Verdict
from stackshift_cli.verify.views import Settled, settle

if TYPE_CHECKING:
    from stackshift_cli.verify.lookup import Lookups

Judged = tuple[Verdict, Settled | None]  # a verdict, and the answer it came from (for the notes beside it)


@dataclass
class Findings:
    """What the checks learned beyond each record's verdict (the DMARC record that applies, for the
    bulk-sender requirements)."""

    dmarc: Any = None  # checks.dmarc.Applied


@dataclass(frozen=True)
class Judging:
    """One run's context: the domain, every record being checked, the lookups, and what to learn on the way."""

    domain: str
    records: tuple[DnsRecord, ...]
    dns: Lookups
    spf_include: str
    findings: Findings = field(default_factory=Findings)


async def settled(dns: Lookups, name: str, rtype: str) -> Settled | Verdict:
    """The answer every authoritative server of the zone agrees on, or the pending verdict that says why not."""
    return settle(await dns.observe(name, rtype))


async def settled_txt(dns: Lookups, name: str) -> Settled | Verdict:
    """The TXT answer the authoritative servers agree on, its CNAME chain completed through the resolver (a key
    or a policy hosted by a service, out of the zone)."""
    found = await settled(dns, name, "TXT")
    if isinstance(found, Verdict):
        return found
    answer = await follow_cname(found.answer, dns)
    if isinstance(answer, Verdict):
        return answer
    return replace(found, answer=answer)


async def follow_cname(answer: Answer, dns: Lookups) -> Answer | Verdict:
    """Complete a CNAME chain that leaves the zone through the resolver."""
    final = answer.final_name()
    if final == answer.name or answer.rrs(answer.type):
        return answer
    rest = await dns.resolve(final, answer.type)
    if rest.transient:
        return Verdict(PENDING, f"{answer.name} is a CNAME to {final}, which could not be looked up "
                                f"({rest.problem}). Verify again later.")
    return replace(answer, records=answer.records + rest.records)


async def cname_chain(found: Settled | Verdict, target: str, dns: Lookups) -> Answer | None:
    """Where a CNAME to another name than `target` leads, through the resolver (looked up only then)."""
    from stackshift_cli.checks.cname import same_name

    if isinstance(found, Verdict):
        return None
    alias = found.answer.cname()
    if alias is None or same_name(alias.text, target):
        return None
    return await dns.resolve(found.answer.name, "A")


def judged(found: Settled | Verdict, evaluate: Callable[[Answer], Verdict]) -> Judged:
    """The evaluator's verdict on the settled answer, or the pending verdict that stopped it."""
    if isinstance(found, Verdict):
        return found, None
    return evaluate(found.answer), found
