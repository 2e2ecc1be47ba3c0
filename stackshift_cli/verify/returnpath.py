"""Judging the return-path record: a CNAME to the bounce host, not address records from a proxying provider."""

from __future__ import annotations

from stackshift_cli.domain import FAILED, MISSING
from stackshift_cli.verify import cname
from stackshift_cli.verify.answers import Answer, Verdict


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
