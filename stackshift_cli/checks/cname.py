"""Judging a CNAME record: published at the name, pointing at the expected target (case and final dot ignored)."""

from __future__ import annotations

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify.answers import Answer, Verdict, canonical_name


def same_name(a: str, b: str) -> bool:
    return canonical_name(a) == canonical_name(b)


def evaluate(answer: Answer, *, target: str, what: str = "The CNAME", chain: Answer | None = None) -> Verdict:
    """The verdict on the CNAME answer at the record's name. `chain`, the resolver's answer for the name, shows
    where a CNAME to another name leads: a chain that reaches `target` works for receivers, so it verifies."""
    found = answer.cname()
    if found is None:
        return Verdict(MISSING, f"No CNAME record at {answer.name}. Publish a CNAME pointing to {target}.")
    if same_name(found.text, target):
        return Verdict(VERIFIED, None)
    hops = _hops(chain, answer.name) if chain is not None and not chain.transient else []
    if any(same_name(hop, target) for hop in hops):
        path = " → ".join([answer.name, *hops[: [canonical_name(h) for h in hops].index(canonical_name(target)) + 1]])
        return Verdict(VERIFIED, f"{answer.name} reaches {target} through a chain of CNAMEs ({path}). It works; a "
                                 f"CNAME straight to {target} saves receivers a lookup.")
    return Verdict(FAILED, f"{what} at {answer.name} points to {found.text}, not {target}. Change its target to "
                           f"{target}.")


def _hops(chain: Answer, name: str) -> list[str]:
    """The names a CNAME chain starting at `name` passes through, in order."""
    hops: list[str] = []
    current = canonical_name(name)
    for _ in range(len(chain.records)):
        target = next((r.text for r in chain.records if r.type == "CNAME" and canonical_name(r.name) == current), None)
        if target is None or canonical_name(target) in hops:
            break
        hops.append(canonical_name(target))
        current = canonical_name(target)
    return hops
