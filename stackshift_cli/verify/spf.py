"""Judging the SPF record (RFC 7208): one `v=spf1` record that authorises our include within the lookup limits.

Pure: the caller fetches what `walk()` reports as `needed` and calls it again with the answers, until
nothing more is needed; `evaluate()` then gives the verdict from the published TXT answer and those answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from stackshift_cli.domain import FAILED, MISSING, PENDING, VERIFIED
from stackshift_cli.verify import diagnose
from stackshift_cli.verify.answers import Answer, Verdict, canonical_name

MAX_LOOKUPS = 10  # RFC 7208 4.6.4: DNS-querying terms across the whole evaluation
MAX_VOID_LOOKUPS = 2  # RFC 7208 4.6.4: lookups that return no record
_MECHANISM = re.compile(r"^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)(?::([^/]+))?(/\d+(?://\d+)?|//\d+)?$",
                        re.IGNORECASE)
_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)
_QUERYING = ("include", "a", "mx", "ptr", "exists")

Fetched = Mapping[tuple[str, str], Answer]  # (name, type) -> the resolver's answer


def is_spf(text: str) -> bool:
    """RFC 7208 4.5: a record is SPF when it starts with 'v=spf1' followed by a space or its end."""
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


@dataclass(frozen=True)
class Term:
    kind: str  # a mechanism name, or "redirect" / "exp" / another modifier name
    qualifier: str = ""
    target: str | None = None
    text: str = ""


class SpfSyntaxError(ValueError):
    pass


def parse(text: str) -> list[Term]:
    """The terms after 'v=spf1'; SpfSyntaxError names the first term that is not SPF."""
    terms = []
    for word in text.split()[1:]:
        match = _MECHANISM.match(word)
        if match:
            qualifier, kind, target, _ = match.groups()
            terms.append(Term(kind.lower(), qualifier, canonical_name(target) if target else None, word))
            continue
        match = _MODIFIER.match(word)
        if match and match.group(1).lower() in ("redirect", "exp") and not match.group(2):
            raise SpfSyntaxError(f"'{word}' has no domain")
        if match:
            name = match.group(1).lower()
            value = canonical_name(match.group(2)) if name in ("redirect", "exp") else match.group(2)
            terms.append(Term(name, "", value, word))
            continue
        raise SpfSyntaxError(f"'{word}' is not an SPF mechanism or modifier")
    return terms


@dataclass
class Walk:
    """The result of following every include and redirect from the published record."""

    lookups: int = 0
    voids: int = 0
    authorises: bool = False
    needed: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # permanent errors: the record is broken (failed)
    transient: list[str] = field(default_factory=list)  # lookups that did not finish (pending)


def walk(domain: str, text: str, include: str, fetched: Fetched) -> Walk:
    """Follow includes and redirects as a receiver would, counting DNS-querying terms and void lookups."""
    state = Walk()
    _visit(domain, text, include.lower(), fetched, state, visiting=(domain,))
    return state


def _visit(domain: str, text: str, include: str, fetched: Fetched, state: Walk, visiting: tuple[str, ...]) -> None:
    try:
        terms = parse(text)
    except SpfSyntaxError as exc:
        state.errors.append(f"the SPF record of {domain} is invalid: {exc}")
        return
    has_all = any(t.kind == "all" for t in terms)
    for term in terms:
        if term.kind in _QUERYING or (term.kind == "redirect" and not has_all):
            state.lookups += 1
        if state.lookups > MAX_LOOKUPS:
            return  # the verdict is known: no need to keep querying
        target = (term.target or domain) if term.kind in _QUERYING or term.kind == "redirect" else None
        if term.kind in ("include", "redirect") and target == include:
            state.authorises = True
        if target is None or "%" in target or term.kind == "ptr":
            continue  # macros depend on the sender; ptr is only counted
        if term.kind == "redirect" and has_all:
            continue  # RFC 7208 6.1: redirect is ignored when the record has an 'all'
        rtype = {"a": "A", "exists": "A", "mx": "MX"}.get(term.kind, "TXT")
        answer = fetched.get((target, rtype))
        if answer is None:
            state.needed.add((target, rtype))
            continue
        if answer.transient:
            state.transient.append(f"{term.text} could not be looked up: {answer.problem}")
            continue
        if rtype != "TXT":
            if not answer.rrs(rtype):
                state.voids += 1
            continue
        spf_records = [r.text for r in answer.rrs("TXT") if is_spf(r.text)]
        if not answer.rrs("TXT"):
            state.voids += 1
        if len(spf_records) != 1:
            count = "no SPF record" if not spf_records else f"{len(spf_records)} SPF records"
            state.errors.append(f"{term.text} points at {target}, which has {count}")
        elif target in visiting:
            state.errors.append(f"{term.text} makes a loop back to {target}")
        else:
            _visit(target, spf_records[0], include, fetched, state, visiting + (target,))


def evaluate(answer: Answer, *, include: str, expected: str, fetched: Fetched) -> Verdict:
    """The verdict on the TXT answer at the domain, once `walk()` needs nothing more."""
    name = answer.name
    texts = [r.text for r in answer.rrs("TXT")]
    spf_texts = [t for t in texts if is_spf(t)]
    if not spf_texts:
        defect = next((d for d in (diagnose.value_defect(t, "v=spf1") for t in texts) if d), None)
        if defect:
            return Verdict(FAILED, f"The SPF record at {name} is damaged: {defect}")
        return Verdict(MISSING, f"No SPF record (TXT starting with v=spf1) at {name}. Publish: {expected}")
    if len(spf_texts) > 1:
        merged = merge(spf_texts, include)
        return Verdict(
            FAILED,
            f"{name} has {len(spf_texts)} SPF records; receivers then ignore SPF entirely (permerror). "
            f"Replace them with this single record: {merged}",
        )
    text = spf_texts[0]
    defect = diagnose.value_defect(text, "v=spf1")
    if defect:
        return Verdict(FAILED, f"The SPF record at {name} is damaged: {defect}")
    state = walk(name, text, include, fetched)
    if state.errors and not state.lookups > MAX_LOOKUPS:
        return Verdict(FAILED, f"SPF evaluation fails: {state.errors[0]}; receivers treat the record as broken "
                               "(permerror).")
    if state.lookups > MAX_LOOKUPS:
        return Verdict(
            FAILED,
            f"The SPF record at {name} needs more than {MAX_LOOKUPS} DNS lookups (include, a, mx, ptr, exists, "
            "redirect, counted across nested records), so receivers reject it (permerror). Remove includes you "
            "no longer use, or replace a and mx terms with ip4:/ip6: ranges.",
        )
    if state.voids > MAX_VOID_LOOKUPS:
        return Verdict(
            FAILED,
            f"The SPF record at {name} has {state.voids} terms that point at names with no records (at most "
            f"{MAX_VOID_LOOKUPS} are allowed), so receivers treat it as an error. Remove the terms for names "
            "that no longer exist.",
        )
    if state.transient and not state.authorises:
        return Verdict(PENDING, f"The SPF check could not finish: {state.transient[0]}. Verify again later.")
    if not state.authorises:
        return Verdict(
            FAILED,
            f"The SPF record at {name} does not authorise StackShift (include:{include}). Replace it with: "
            f"{merge([text], include)}",
        )
    return Verdict(VERIFIED, None)


def merge(texts: list[str], include: str) -> str:
    """One SPF record with every mechanism of `texts` plus our include, before the final 'all'.

    Redirects become includes when an 'all' is kept, because a redirect is ignored next to an 'all'.
    """
    terms: list[str] = []
    final_all: str | None = None
    redirects: list[str] = []
    ours = f"include:{include}"
    # The user's own records first, so their 'all' qualifier is the one kept.
    for text in sorted(texts, key=lambda t: ours.lower() in t.lower()):
        try:
            parsed = parse(text)
        except SpfSyntaxError:
            parsed = [Term("unknown", text=w) for w in text.split()[1:]]
        for term in parsed:
            if term.kind == "all":
                final_all = final_all or term.text
            elif term.kind == "redirect":
                redirects.append(term.target or "")
            elif term.text.lower() not in (t.lower() for t in terms):
                terms.append(term.text)
    if ours.lower() not in (t.lower() for t in terms):
        terms.append(ours)
    if final_all:
        terms += [f"include:{r}" for r in redirects if f"include:{r}".lower() not in (t.lower() for t in terms)]
        terms.append(final_all)
    elif redirects:
        terms.append(f"redirect={redirects[0]}")
    else:
        terms.append("~all")
    return " ".join(["v=spf1", *terms])


def include_of(expected: str) -> str | None:
    """Our include, from the expected record 'v=spf1 include:spf.stackshift.email ~all'."""
    try:
        return next((t.target for t in parse(expected) if t.kind == "include" and t.target), None)
    except SpfSyntaxError:
        return None
