"""Judging the inbound MX record: the expected exchange with the expected priority."""

from __future__ import annotations

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify.cname import same_name
from stackshift_cli.verify.answers import Answer, Verdict


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
