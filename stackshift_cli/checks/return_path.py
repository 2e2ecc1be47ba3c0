"""Judging the return-path record: a CNAME to the bounce host, not address records from a proxying provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackshift_cli.checks import cname
from stackshift_cli.domain import FAILED, MISSING, RETURN_PATH, DnsRecord
from stackshift_cli.verify import steps
from stackshift_cli.verify.answers import Answer, Rr, Verdict
from stackshift_cli.verify.steps import Judged, Judging

if TYPE_CHECKING:
    from stackshift_cli.publish.plan import Change, Here
    from stackshift_cli.records import SendingProfile


def evaluate(cname_answer: Answer, address_answer: Answer | None, *, target: str, chain: Answer | None = None
             ) -> Verdict:
    """The verdict from the CNAME answer at the name and, when there is none, its A answer."""
    verdict = cname.evaluate(cname_answer, target=target, what="The return-path CNAME", chain=chain)
    if verdict.status != MISSING or address_answer is None or address_answer.cname() is not None:
        return verdict
    addresses = address_answer.rrs("A", cname_answer.name)
    if addresses:
        shown = ", ".join(r.text for r in addresses[:3])
        return Verdict(
            FAILED,
            f"{cname_answer.name} answers with address records ({shown}) instead of a CNAME to {target}: your DNS "
            "provider flattens or proxies it, so bounces never reach StackShift. Turn the proxy off for this record "
            "(on Cloudflare: set it to \"DNS only\", the grey cloud) and make it a plain CNAME.",
        )
    return verdict


# ---------------------------------------------------------------- the check (see checks/__init__.py)


def claims(record: DnsRecord) -> bool:
    return record.type == "CNAME"


def expected(name: str, *, selector: str, public_key_b64: str, profile: SendingProfile,
             inbound: bool) -> DnsRecord | None:
    from stackshift_cli.records import new_record

    return new_record(RETURN_PATH, "CNAME", f"{profile.return_path_host}.{name}", name, profile.return_path_target)


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    return rr.type == record.type and cname.same_name(rr.text, record.value)


def wrong_types(record: DnsRecord) -> tuple[str, ...]:
    return ("TXT", "MX", "A", "AAAA")


PROBE_APEX = False


async def judge(record: DnsRecord, judging: Judging) -> Judged | None:
    """The CNAME at the name and, beside it, its address records (a proxy that flattens it answers with them)."""
    import asyncio

    if record.type != "CNAME":
        return None
    dns = judging.dns
    found, addresses = await asyncio.gather(steps.settled(dns, record.name, "CNAME"),
                                            steps.settled(dns, record.name, "A"))
    address_answer = addresses.answer if not isinstance(addresses, Verdict) else None
    chain = await steps.cname_chain(found, record.value, dns)
    return steps.judged(found, lambda a: evaluate(a, address_answer, target=record.value, chain=chain))


def plan(record: DnsRecord, here: Here) -> Change | None:
    """The return-path CNAME stands alone: anything else at its name (an A record, a TXT, a CNAME elsewhere, a
    proxied answer) is a conflict, replaced with --replace."""
    from stackshift_cli.publish import plan as p

    if record.type != "CNAME":
        return None
    change = p.cname_rule(record, here, replaceable=True, what="The return-path CNAME")
    addresses = here.resolved("A")
    if change.action == p.KEEP and addresses is not None and addresses.cname() is None \
            and addresses.rrs("A", here.name):
        verdict = evaluate(Answer(addresses.server, here.name, "CNAME", "NOERROR"), addresses, target=record.value)
        return p.conflict(record, here, verdict.explanation or "proxied", old=())
    return change
