"""Diagnoses: what the user got wrong when a record is not as expected, said as what to change.

Two kinds, both pure. Value defects are read from a published text (literal quotes, a duplicated `v=` tag).
Host defects come from probing names near the expected one when the record is missing there: the zone
appended twice by a provider that adds it to the host field, the record put at the apex, or the right host
with the wrong record type.

One rule for every check: a record of another type published at the record's own name in its place (a TXT or
MX record where a CNAME is needed, the obsolete SPF type where TXT is needed) is `failed`, since something is
published there and must be replaced; `missing` means nothing stands at that name for the record.
"""

from __future__ import annotations

import re
from typing import Mapping

from stackshift_cli import checks
from stackshift_cli.domain import FAILED, MISSING, DnsRecord
from stackshift_cli.verify.answers import Answer, Rr, Verdict, canonical_name

# For a record no check claims (an API may ask for any record): the types that, found at its own name instead of
# the expected type, stand in its place. A check says its own (wrong_types); a TXT record beside an apex's A and
# MX proves nothing, and a CNAME before a TXT record is followed, not a mistake.
WRONG_TYPES = {
    "CNAME": ("TXT", "MX", "A", "AAAA"),
    "MX": ("CNAME", "TXT"),
}


def value_defect(text: str, version: str) -> str | None:
    """A defect in a published value whose first tag should be `version` ('v=spf1', 'v=DKIM1', 'v=DMARC1')."""
    if '"' in text:
        if '" "' in text or '""' in text:
            return ("the value contains literal quote characters where it was split into strings (\" \"). "
                    "Paste it without any quotes: your DNS provider adds them, and splits long values itself.")
        return ("the value contains literal quote characters (\"). Remove the quotes at your DNS provider: "
                "it adds them itself.")
    tag = version.split("=", 1)[1]
    occurrences = re.findall(rf"(?:^|[\s;])v\s*=\s*{re.escape(tag)}(?=[\s;]|$)", text, re.IGNORECASE)
    if len(occurrences) > 1:
        return (f"the {version} tag appears {len(occurrences)} times (\"{_shorten(text)}\"). Publish it once; "
                "your DNS provider's form may already add it.")
    return None


def probes(record: DnsRecord, zone: str | None, domain: str) -> list[tuple[str, str]]:
    """The (name, type) queries that find a missing record somewhere near its host."""
    kind = checks.kind_of(record)
    rules = kind.rules() if kind else None
    found: list[tuple[str, str]] = []
    for suffix in dict.fromkeys(s for s in (zone, domain) if s):
        found.append((f"{record.name}.{suffix}", record.type))
    if rules is not None and rules.PROBE_APEX and record.type != "CNAME":
        for apex in dict.fromkeys(s for s in (zone, domain) if s and s != record.name):
            found.append((apex, record.type))
    wrong = rules.wrong_types(record) if rules is not None else WRONG_TYPES.get(record.type, ())
    found += [(record.name, t) for t in wrong]
    return found


def explain_missing(record: DnsRecord, zone: str | None, domain: str,
                    answers: Mapping[tuple[str, str], Answer]) -> Verdict | None:
    """The host defect that explains why `record` is missing, from the answers to `probes()`."""
    host = _relative(record.name, zone or domain)
    for name, rtype in probes(record, zone, domain):
        answer = answers.get((name, rtype))
        if answer is None or answer.transient:
            continue
        if name == record.name:
            rrs = [r for r in answer.records if r.name == record.name and r.type == rtype]
            if rrs:
                return Verdict(
                    FAILED,
                    f"{record.name} has {_a(rtype)} {rtype} record ({_shorten(rrs[0].text)}) where {_a(record.type)} "
                    f"{record.type} record is needed. Delete it and publish {record.type} with the value "
                    f"{_shorten(record.value)}." + (" (The SPF record type is obsolete; SPF lives in TXT.)"
                                                    if rtype == "SPF" else ""),
                )
            continue
        found = answer.rrs(rtype, name) if rtype == "CNAME" else answer.rrs(rtype)
        matching = [r for r in found if looks_like(record, r)]
        if not matching:
            continue
        if name.startswith(record.name + "."):
            return Verdict(
                MISSING,
                f"The record was found at {name}: your DNS provider appends the domain to the host field. "
                f"Enter only \"{host}\" as the host, and delete the record at {name}.",
            )
        return Verdict(
            MISSING,
            f"The record was published at {name} (the apex) instead of {record.name}. Publish it with the host "
            f"\"{host}\", and delete it from the apex.",
        )
    return None


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    """Whether a record found elsewhere is plausibly the one the user meant to publish."""
    kind = checks.kind_of(record)
    if kind is not None:
        return bool(kind.rules().looks_like(record, rr))
    if rr.type != record.type:
        return False
    if record.type in ("CNAME", "MX"):
        return canonical_name(rr.text) == canonical_name(record.value)
    return rr.text == record.value


def _relative(name: str, zone: str) -> str:
    return name[: -len(zone) - 1] if name.endswith("." + zone) else ("@" if name == zone else name)


def _a(rtype: str) -> str:
    return "an" if rtype[:1] in "AEFHILMNORSX" else "a"  # by sound: "an MX", "an SPF", "a TXT"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
