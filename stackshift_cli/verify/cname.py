"""Judging a CNAME record: published at the name, pointing at the expected target (case and final dot ignored)."""

from __future__ import annotations

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify.answers import Answer, Verdict, canonical_name


def same_name(a: str, b: str) -> bool:
    return canonical_name(a) == canonical_name(b)


def evaluate(answer: Answer, *, target: str, what: str = "The CNAME") -> Verdict:
    """The verdict on the CNAME answer at the record's name."""
    found = answer.cname()
    if found is None:
        return Verdict(MISSING, f"No CNAME record at {answer.name}. Publish a CNAME pointing to {target}.")
    if same_name(found.text, target):
        return Verdict(VERIFIED, None)
    return Verdict(FAILED, f"{what} at {answer.name} points to {found.text}, not {target}. Change its target to "
                           f"{target}.")
