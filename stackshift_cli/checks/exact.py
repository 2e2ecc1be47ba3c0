"""Judging a record without a rule of its own (an API may ask for any record): the exact value must be published."""

from __future__ import annotations

from stackshift_cli.domain import MISSING, VERIFIED
from stackshift_cli.verify.answers import Answer, Verdict, canonical_name


def evaluate(answer: Answer, *, rtype: str, value: str) -> Verdict:
    wanted = canonical_name(value) if rtype != "TXT" else value
    for rr in answer.rrs(rtype):
        published = canonical_name(rr.text) if rtype != "TXT" else rr.text
        if published == wanted:
            return Verdict(VERIFIED, None)
    return Verdict(MISSING, f"No {rtype} record with the value {value} at {answer.name}.")
