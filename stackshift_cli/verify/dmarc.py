"""Judging the DMARC record (RFC 7489): one valid `v=DMARC1` record at `_dmarc.<domain>`, or the organizational
domain's record when the domain has none (section 6.6.3)."""

from __future__ import annotations

import re

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify import diagnose
from stackshift_cli.verify.answers import Answer, Verdict
from stackshift_cli.verify.dkim import TagError, parse_tags

POLICIES = ("none", "quarantine", "reject")
_VERSION = re.compile(r"^v\s*=\s*DMARC1\s*(;|$)")


def is_dmarc(text: str) -> bool:
    return bool(_VERSION.match(text.strip()))


def problem(text: str) -> str | None:
    """What makes a v=DMARC1 record invalid, or None."""
    defect = diagnose.value_defect(text, "v=DMARC1")
    if defect:
        return defect
    try:
        tags = parse_tags(text)
    except TagError as exc:
        return f"{exc}"
    policy = tags.get("p")
    if policy is None:
        return "it has no p= tag (the policy): add p=none, p=quarantine or p=reject"
    for tag in ("p", "sp"):
        if tag in tags and tags[tag].lower() not in POLICIES:
            return f"{tag}={tags[tag]} is not a policy; use none, quarantine or reject"
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        return f"pct={tags['pct']} must be a whole number from 0 to 100"
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            return f"{tag}={tags[tag]} must be r (relaxed) or s (strict)"
    for tag in ("rua", "ruf"):
        for uri in filter(None, (u.strip() for u in tags.get(tag, "").split(","))):
            if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", uri, re.IGNORECASE):
                return f"{tag}= holds '{uri}', which is not a URI; write addresses as mailto:dmarc@example.com"
    return None


def evaluate(answer: Answer, *, expected: str, org_answer: Answer | None = None) -> Verdict:
    """The verdict on the TXT answer at _dmarc.<domain>, falling back to the organizational domain's answer."""
    name = answer.name
    texts = [r.text for r in answer.rrs("TXT")]
    records = [t for t in texts if is_dmarc(t)]
    if not records:
        defect = next((d for d in (diagnose.value_defect(t, "v=DMARC1") for t in texts if "dmarc1" in t.lower()) if d),
                      None)
        if defect:
            return Verdict(FAILED, f"The DMARC record at {name} is damaged: {defect}")
        inherited = _inherited(org_answer)
        if inherited:
            return Verdict(VERIFIED, f"No DMARC record at {name}; the organizational domain's record at "
                                     f"{org_answer.name} ({inherited}) applies to it. Publish your own only to set "
                                     "a different policy.")
        return Verdict(MISSING, f"No DMARC record (TXT starting with v=DMARC1) at {name}. Publish: {expected}")
    if len(records) > 1:
        return Verdict(FAILED, f"{name} has {len(records)} DMARC records; receivers then ignore DMARC. Keep only one, "
                               f"for example: {expected}")
    invalid = problem(records[0])
    if invalid:
        return Verdict(FAILED, f"The DMARC record at {name} is invalid: {invalid}.".replace("..", "."))
    return Verdict(VERIFIED, None)


def _inherited(org_answer: Answer | None) -> str | None:
    """The organizational domain's valid policy ('p=reject'), or None."""
    if org_answer is None or org_answer.transient:
        return None
    records = [r.text for r in org_answer.rrs("TXT") if is_dmarc(r.text)]
    if len(records) != 1 or problem(records[0]):
        return None
    return f"p={parse_tags(records[0])['p']}"
