"""Judging the DKIM record (RFC 6376 3.6.1): a key record at `<selector>._domainkey.<domain>` carrying our key.

The TXT answer may arrive through a CNAME delegation (the answer then holds the chain). When the expected
record is itself a CNAME (a backend that hosts the key), the CNAME's target is what is judged.
"""

from __future__ import annotations

import re

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify import cname, diagnose
from stackshift_cli.verify.answers import Answer, Verdict

_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_WHITESPACE = re.compile(r"\s+")


class TagError(ValueError):
    pass


def parse_tags(text: str) -> dict[str, str]:
    """RFC 6376 3.2 tag=value list; TagError on a malformed or repeated tag."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _TAG.match(name):
            raise TagError(f"'{part.strip()}' is not a tag=value pair")
        if name in tags:
            raise TagError(f"the tag {name}= appears twice")
        tags[name] = value.strip()
    return tags


def expected_key(expected_value: str) -> str | None:
    try:
        key = parse_tags(expected_value).get("p")
    except TagError:
        return None
    return _WHITESPACE.sub("", key) if key else None


def evaluate(answer: Answer, *, expected: str) -> Verdict:
    """The verdict on the TXT answer at the selector name, CNAME chain included."""
    name = answer.name
    via = answer.final_name()
    where = name if via == name else f"{via} (reached from {name} through a CNAME)"
    texts = [r.text for r in answer.rrs("TXT")]
    if not texts:
        if via != name:
            return Verdict(FAILED, f"{name} is a CNAME to {via}, which has no DKIM key (TXT record). Point the "
                                   f"CNAME at the right target, or replace it with a TXT record: {expected}")
        return Verdict(MISSING, f"No DKIM key (TXT record) at {name}.")
    key = expected_key(expected)
    if len(texts) > 1:
        joined = _WHITESPACE.sub("", "".join(sorted(texts, key=lambda t: "p=" not in t)))
        if key and key in joined.replace('"', ""):
            return Verdict(FAILED, f"The DKIM value at {where} was split into {len(texts)} separate TXT records, "
                                   "probably by line breaks in the pasted key. Delete them and publish it as one "
                                   "record, on one line (a provider may split it into strings itself; that is fine).")
        return Verdict(FAILED, f"{where} has {len(texts)} TXT records; a DKIM selector must have exactly one. "
                               "Delete all but the DKIM key record.")
    text = texts[0]
    defect = diagnose.value_defect(text, "v=DKIM1")
    if defect:
        return Verdict(FAILED, f"The DKIM record at {where} is damaged: {defect}")
    try:
        tags = parse_tags(text)
    except TagError as exc:
        return Verdict(FAILED, f"The TXT record at {where} is not a valid DKIM key record ({exc}). Publish: {expected}")
    if "v" in tags and tags["v"] != "DKIM1":
        return Verdict(FAILED, f"The DKIM record at {where} has v={tags['v']}; the version must be v=DKIM1. "
                               f"Publish: {expected}")
    if "v" in tags and next(iter(tags)) != "v":
        return Verdict(FAILED, f"The DKIM record at {where} has v=DKIM1 after other tags; it must come first. "
                               f"Publish: {expected}")
    if "p" not in tags:
        return Verdict(FAILED, f"The TXT record at {where} has no p= tag, so it is not a DKIM key. Publish: {expected}")
    published = tags["p"]
    if not published:
        return Verdict(FAILED, f"The DKIM key at {where} is empty (p=), which means the key is revoked. "
                               f"Publish: {expected}")
    if tags.get("k", "rsa").lower() != "rsa":
        return Verdict(FAILED, f"The DKIM record at {where} says k={tags['k']}, but this key is RSA. Set k=rsa "
                               "(or remove the k= tag).")
    compact = _WHITESPACE.sub("", published)
    if key and compact != key:
        if "\\n" in published or "\\r" in published:
            return Verdict(FAILED, f"The DKIM key at {where} contains literal line-break characters (\\n). Paste "
                                   "the key as one line, without line breaks.")
        return Verdict(FAILED, f"The DKIM key at {where} is not this domain's key (another key, or a truncated "
                               f"one). Replace the value with: {expected}")
    if compact != published:
        return Verdict(VERIFIED, f"The DKIM key at {where} contains spaces or line breaks. It verifies, since DKIM "
                                 "ignores whitespace in keys, but republishing it on one line avoids trouble with "
                                 "receivers that do not.")
    return Verdict(VERIFIED, None)


def evaluate_delegation(answer: Answer, *, target: str) -> Verdict:
    """The verdict on a DKIM record expected as a CNAME to a key hosted elsewhere."""
    return cname.evaluate(answer, target=target, what="The DKIM CNAME")
