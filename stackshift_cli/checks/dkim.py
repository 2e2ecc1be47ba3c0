"""Judging the DKIM record (RFC 6376 3.6.1, RFC 8301): a key record at `<selector>._domainkey.<domain>` carrying our
key, usable for what StackShift signs: rsa-sha256 signatures on email.

The TXT answer may arrive through a CNAME delegation (the answer then holds the chain). When the expected
record is itself a CNAME (a backend that hosts the key), the CNAME's target is what is judged.
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

from stackshift_cli.domain import DKIM, FAILED, MISSING, VERIFIED, DnsRecord
from stackshift_cli.escape import quoted
from stackshift_cli.checks import cname
from stackshift_cli.checks.cname import same_name
from stackshift_cli.verify import diagnose, steps
from stackshift_cli.verify.answers import Answer, Rr, Verdict
from stackshift_cli.verify.steps import Judged, Judging

if TYPE_CHECKING:
    from stackshift_cli.publish.plan import Change, Here
    from stackshift_cli.records import SendingProfile

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
            raise TagError(f"'{quoted(part.strip())}' is not a tag=value pair")
        if name in tags:
            raise TagError(f"the tag {quoted(name)}= appears twice")
        tags[name] = value.strip()
    return tags


def expected_key(expected_value: str) -> str | None:
    try:
        key = parse_tags(expected_value).get("p")
    except TagError:
        return None
    return _WHITESPACE.sub("", key) if key else None


def is_revocation(value: str) -> bool:
    """Whether a DKIM record value revokes its selector's key: `p=` present and empty (RFC 6376 3.6.1)."""
    try:
        tags = parse_tags(value)
    except TagError:
        return False
    return "p" in tags and not tags["p"]


def evaluate(answer: Answer, *, expected: str) -> Verdict:
    """The verdict on the TXT answer at the selector name, CNAME chain included."""
    if is_revocation(expected):
        return _evaluate_revocation(answer, expected)
    name = answer.name
    via = answer.final_name()
    where = name if via == name else f"{via} (reached from {name} through a CNAME)"
    texts = [r.text for r in answer.rrs("TXT")]
    if not texts:
        if via != name:
            return Verdict(FAILED, f"{name} is a CNAME to {via}, which has no DKIM key (TXT record). Point the "
                                   f"CNAME at the right target, or replace it with a TXT record: {expected}")
        return Verdict(MISSING, f"No DKIM key (TXT record) at {name}. Publish: {expected}")
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
        return Verdict(FAILED, f"The DKIM record at {where} has v={quoted(tags['v'])}; the version must be v=DKIM1. "
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
        return Verdict(FAILED, f"The DKIM record at {where} says k={quoted(tags['k'])}, but this key is RSA. Set "
                               "k=rsa (or remove the k= tag).")
    unusable = _unusable(tags, where, expected)
    if unusable:
        return Verdict(FAILED, unusable)
    compact = _WHITESPACE.sub("", published)
    if key and compact != key:
        if "\\n" in published or "\\r" in published:
            return Verdict(FAILED, f"The DKIM key at {where} contains literal line-break characters (\\n). Paste "
                                   "the key as one line, without line breaks.")
        return Verdict(FAILED, f"The DKIM key at {where} is not this domain's key (another key, or a truncated "
                               f"one). Replace the value with: {expected}")
    notes = []
    if compact != published:
        notes.append(f"The DKIM key at {where} contains spaces or line breaks. It verifies, since DKIM ignores "
                     "whitespace in keys, but republishing it on one line avoids trouble with receivers that do not.")
    if "y" in _colon_list(tags.get("t")):
        notes.append(f"The DKIM record at {where} has t=y (testing mode): receivers may treat signatures with this "
                     "key as a test and not rely on them. Remove t=y once you are done testing.")
    return Verdict(VERIFIED, " ".join(notes) or None)


def _evaluate_revocation(answer: Answer, expected: str) -> Verdict:
    """A selector whose key a rotation retired: verified once no key is published there any more (an empty p=,
    RFC 6376 3.6.1, or no record at all); a key still published there keeps verifying mail signed with it."""
    name = answer.name
    texts = [r.text for r in answer.rrs("TXT")]
    if not texts:
        return Verdict(VERIFIED, f"No record at {name}: signatures with this selector fail, as with a revoked key.")
    keys = []
    for text in texts:
        try:
            tags = parse_tags(text)
        except TagError:
            continue
        if tags.get("p"):
            keys.append(text)
    if keys:
        return Verdict(FAILED, f"{name} still publishes the retired key, so mail signed with it still verifies. "
                               f"Revoke it: publish {expected}")
    return Verdict(VERIFIED, None)


def _unusable(tags: dict[str, str], where: str, expected: str) -> str | None:
    """Why a well-formed key record cannot verify StackShift's rsa-sha256 signatures on email, or None."""
    hashes = _colon_list(tags.get("h"))
    if "h" in tags and "sha256" not in hashes:
        return (f"The DKIM record at {where} has h={quoted(tags['h'])}, which does not allow sha256: StackShift "
                "signs with rsa-sha256, and verifiers ignore a signature whose hash the key does not allow "
                f"(RFC 6376 3.6.1, RFC 8301). Remove the h= tag (or list sha256 in it): {expected}")
    services = _colon_list(tags.get("s"))
    if "s" in tags and not {"email", "*"} & set(services):
        return (f"The DKIM record at {where} has s={quoted(tags['s'])}, which lists neither email nor *, so the key "
                "may not be used to sign email (RFC 6376 3.6.1). Remove the s= tag (or set s=email): "
                f"{expected}")
    return None


def _colon_list(value: str | None) -> list[str]:
    """A colon-separated tag value (h=, s=, t=) as lower-case items."""
    return [item.strip().lower() for item in (value or "").split(":") if item.strip()]


def evaluate_delegation(answer: Answer, *, target: str, chain: Answer | None = None) -> Verdict:
    """The verdict on a DKIM record expected as a CNAME to a key hosted elsewhere."""
    return cname.evaluate(answer, target=target, what="The DKIM CNAME", chain=chain)


# ---------------------------------------------------------------- the check (see checks/__init__.py)

_KEY_PREFIX = re.compile(r"p=([A-Za-z0-9+/]{16})")


def claims(record: DnsRecord) -> bool:
    return "._domainkey." in record.name


def expected(name: str, *, selector: str, public_key_b64: str, profile: SendingProfile,
             inbound: bool) -> DnsRecord | None:
    from stackshift_cli.records import dkim_record_value, new_record

    return new_record(DKIM, "TXT", f"{selector}._domainkey.{name}", name, dkim_record_value(public_key_b64))


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    if rr.type != record.type:
        return False
    if record.type == "CNAME":
        return same_name(rr.text, record.value)
    text = rr.text.strip('"').lower()
    key = _KEY_PREFIX.search(record.value)
    return text.startswith("v=dkim1") or bool(key and key.group(1).lower() in text)


def wrong_types(record: DnsRecord) -> tuple[str, ...]:
    return ("TXT", "MX", "A", "AAAA") if record.type == "CNAME" else ()


PROBE_APEX = True


async def judge(record: DnsRecord, judging: Judging) -> Judged | None:
    """The key record (a CNAME to a key hosted elsewhere is followed), or the CNAME an API asks for."""
    dns = judging.dns
    if record.type == "TXT":
        return steps.judged(await steps.settled_txt(dns, record.name), lambda a: evaluate(a, expected=record.value))
    if record.type == "CNAME":
        found = await steps.settled(dns, record.name, "CNAME")
        chain = await steps.cname_chain(found, record.value, dns)
        return steps.judged(found, lambda a: evaluate_delegation(a, target=record.value, chain=chain))
    return None


def plan(record: DnsRecord, here: Here) -> Change | None:
    """The key record: kept when the selector already holds StackShift's key (or a CNAME leads to it); another
    key at the selector is another system signing with it: a conflict, replaced with --replace."""
    from stackshift_cli.publish import plan as p

    if record.type == "CNAME":
        return p.cname_rule(record, here, replaceable=True, what="The DKIM CNAME")
    if record.type != "TXT":
        return None
    if is_revocation(record.value):  # a rotation retires the selector's key: its own record, replaced whole
        found = here.of("TXT") + here.of("CNAME")
        if evaluate(here.answer("TXT"), expected=record.value).status == VERIFIED and not here.of("CNAME"):
            return p.keep(record, here, "the retired key is already revoked")
        return p.update(record, here, found, "the retired key is revoked (RFC 6376 3.6.1)") if found \
            else p.create(record, here)
    cnames = here.of("CNAME")
    if cnames:
        chain = here.resolved("TXT")
        if chain is not None and evaluate(chain, expected=record.value).status == VERIFIED:
            return p.keep(record, here, f"delegated by a CNAME to {cnames[0].value}, which holds StackShift's key")
        why = (f"{here.name} is a CNAME to {cnames[0].value}, which does not hold StackShift's key: another system "
               "signs with this selector.")
        return p.conflict(record, here, why, old=here.records, instead=p.update(record, here, here.records))
    found = here.of("TXT")
    if not found:
        return p.create(record, here)
    if evaluate(here.answer("TXT"), expected=record.value).status == VERIFIED and len(found) == 1:
        return p.keep(record, here)
    keys = [r for r in found if "p=" in r.value or r.value.lower().startswith("v=dkim1")]
    why = (f"{here.name} already holds another DKIM key (\"{quoted(keys[0].value, 60)}\"): another system signs with "
           "this selector, and replacing its key breaks its mail." if keys else
           f"{here.name} already holds a TXT record (\"{quoted(found[0].value, 60)}\") that is not StackShift's key.")
    return p.conflict(record, here, why, old=found, instead=p.update(record, here, found))
