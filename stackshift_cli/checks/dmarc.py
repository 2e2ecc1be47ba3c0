"""Judging the DMARC record by RFC 9989 (May 2026), which obsoletes RFC 7489 (pure).

The record that applies to a domain is found by the DNS Tree Walk (RFC 9989 4.10): `_dmarc.<domain>` first, then
its ancestors, at most 8 queries in all, the first valid record winning; a public-suffix operator's record
(psd=y) applies too, but is not the domain's own. A TXT record at `_dmarc.<domain>` that was meant to be DMARC
but is not valid (receivers discard it and keep walking) is reported as broken, with the fix. Tags: p, sp and np
must be policies, or receivers act as p=none when rua= holds a valid address and apply nothing otherwise; pct,
rf and ri are removed; t=y asks receivers to test only; aspf=s means StackShift's return path can never align.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from stackshift_cli.checks import DMARC_POLICIES
from stackshift_cli.domain import DMARC, FAILED, MISSING, PENDING, RETURN_PATH, VERIFIED, DnsRecord
from stackshift_cli.escape import quoted
from stackshift_cli.verify import diagnose, steps
from stackshift_cli.verify.answers import Answer, Rr, Verdict
from stackshift_cli.verify.steps import Judged, Judging

if TYPE_CHECKING:
    from stackshift_cli.publish.plan import Change, Here
    from stackshift_cli.records import SendingProfile

MAX_WALK_QUERIES = 8  # RFC 9989 4.10
WALK_JUMP_LABELS = 7  # a name of 8 or more labels is shortened to 7 after the first query
REMOVED_TAGS = ("pct", "rf", "ri")  # RFC 7489 tags that RFC 9989 removed
_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)")
_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)", re.DOTALL)
_URI = re.compile(r"[a-z][a-z0-9+.-]*:[^\s,!]+", re.IGNORECASE)
_SIZE_SUFFIX = re.compile(r"!\d+[kmgt]?$", re.IGNORECASE)


def is_dmarc(text: str) -> bool:
    """RFC 9989 4.8: a DMARC record starts with v=DMARC1 (DMARC1 in capitals), then ';' or its end."""
    return bool(_VERSION.match(text))


def walk_names(domain: str) -> list[str]:
    """The names whose `_dmarc` record the DNS Tree Walk asks for, in order (RFC 9989 4.10, steps 1-8)."""
    labels = domain.split(".")
    names = [domain]
    while len(labels) > 1:
        labels = labels[1:] if len(labels) <= WALK_JUMP_LABELS + 1 else labels[-WALK_JUMP_LABELS:]
        names.append(".".join(labels))
    return names[:MAX_WALK_QUERIES]


@dataclass(frozen=True)
class Policy:
    """A v=DMARC1 record as receivers read it."""

    text: str
    tags: dict[str, str]
    policy: str | None = None  # p=, or "none" when receivers fall back to it (see `fallback`)
    subdomain_policy: str | None = None  # sp=
    psd: str = "u"
    testing: bool = False
    aspf: str = "r"
    adkim: str = "r"
    problem: str | None = None  # why receivers apply no policy from it
    fallback: str | None = None  # why receivers act as p=none
    notes: tuple[str, ...] = ()

    def policy_for(self, own: bool) -> str | None:
        """The policy for the domain itself (own record) or for a subdomain that inherits it."""
        if self.policy is None:
            return None
        return self.policy if own else (self.subdomain_policy or self.policy)

    def summary(self) -> str:
        parts = [f"p={self.tags['p']}" if "p" in self.tags else "no p="]
        parts += [f"{t}={self.tags[t]}" for t in ("sp", "psd") if t in self.tags]
        return "; ".join(quoted(p) for p in parts)


def read(text: str) -> Policy:
    """Parse a record that `is_dmarc()`; a problem makes receivers ignore it."""
    tags: dict[str, str] = {}
    for part in text.split(";")[1:]:
        if not part.strip():
            continue
        match = _TAG.fullmatch(part.strip())
        if not match:
            return Policy(text, tags, problem=f"'{quoted(part.strip())}' is not a tag=value pair")
        name, value = match.group(1).lower(), match.group(2).strip()
        if name in tags:
            return Policy(text, tags, problem=f"the tag {name}= appears twice")
        tags[name] = value
    notes: list[str] = []
    rua_valid = _report_uris("rua", tags, notes)
    _report_uris("ruf", tags, notes)
    invalid = next((f"{t}={quoted(tags[t])} is not a policy; use none, quarantine or reject"
                    for t in ("p", "sp", "np") if t in tags and tags[t].lower() not in DMARC_POLICIES), None)
    policy = tags.get("p", "none").lower() if invalid is None else None
    fallback = problem = None
    if invalid is None and "p" not in tags:
        fallback = ("it has no p= tag: RFC 9989 receivers read that as p=none, but receivers that still follow "
                    "RFC 7489 ignore a record without one. Add p=none (or p=quarantine, p=reject) explicitly")
    if invalid is not None:
        if rua_valid:
            policy = "none"
            fallback = (f"{invalid}; receivers act as if it said p=none, because rua= holds a valid address "
                        "(RFC 9989 4.7). Set p=none, p=quarantine or p=reject explicitly")
        else:
            problem = f"{invalid}, and with no valid rua= either, receivers apply no DMARC policy"
    aspf = _choice(tags, "aspf", ("r", "s"), "r", notes)
    adkim = _choice(tags, "adkim", ("r", "s"), "r", notes)
    psd = _choice(tags, "psd", ("y", "n", "u"), "u", notes)
    testing = _choice(tags, "t", ("y", "n"), "n", notes) == "y"
    removed = [t for t in REMOVED_TAGS if t in tags]
    if removed:
        one = len(removed) == 1
        notes.append(f"The {' and '.join(t + '=' for t in removed)} tag{'' if one else 's'} {'was' if one else 'were'} "
                     f"removed by RFC 9989: current receivers ignore {'it' if one else 'them'} (older ones still read "
                     f"{'it' if one else 'them'})")
    sp = tags.get("sp", "").lower() or None
    return Policy(text, tags, policy=policy, subdomain_policy=sp if sp in DMARC_POLICIES else None, psd=psd,
                  testing=testing, aspf=aspf, adkim=adkim, problem=problem, fallback=fallback, notes=tuple(notes))


def _choice(tags: dict[str, str], name: str, allowed: tuple[str, ...], default: str, notes: list[str]) -> str:
    value = tags.get(name)
    if value is None:
        return default
    if value.lower() in allowed:
        return value.lower()
    notes.append(f"The value {name}={quoted(value)} is not valid ({' or '.join(allowed)}); receivers use the "
                 f"default, {name}={default}")
    return default


def _report_uris(name: str, tags: dict[str, str], notes: list[str]) -> bool:
    """Whether the tag holds at least one valid URI; notes for invalid ones and the obsolete !size suffix."""
    if name not in tags:
        return False
    valid = False
    for uri in filter(None, (u.strip() for u in tags[name].split(","))):
        bare = _SIZE_SUFFIX.sub("", uri)
        if bare != uri:
            notes.append(f"The size limit in {name}={quoted(uri)} is obsolete: RFC 9989 receivers ignore it")
        if _URI.fullmatch(bare):
            valid = True
        else:
            notes.append(f"The tag {name}= holds '{quoted(uri)}', which is not a URI, so reports cannot be sent "
                         "there; write addresses as mailto:dmarc@example.com")
    return valid


# ---------------------------------------------------------------- broken records


def broken(text: str) -> str | None:
    """Why a TXT record meant as DMARC is not one (receivers discard it), or None when it is not meant as DMARC."""
    stripped = text.strip()
    lowered = stripped.lower()
    defect = diagnose.value_defect(text, "v=DMARC1")
    if defect and "dmarc" in lowered:
        return quoted(defect)
    if not re.search(r"v\s*=\s*dmarc", lowered):
        return None
    if stripped != text and is_dmarc(stripped):
        return "it starts with a space or another invisible character"
    version = re.match(r"v\s*=\s*(dmarc\w*)", lowered)
    as_written = re.match(r"v\s*=\s*(\w+)", stripped)
    if version is None or as_written is None:
        return "v=DMARC1 is not its first tag; it must come first"
    written = as_written.group(1)
    if written.lower() != "dmarc1":
        return f"v={quoted(written)} is not a DMARC version; it must be v=DMARC1"
    if written != "DMARC1":
        return f"v={quoted(written)} must be written v=DMARC1, in capitals"
    return f"a semicolon must follow v=DMARC1 (\"{quoted(stripped[:24])}…\")"


def repair(text: str) -> str | None:
    """The record with the version first, in capitals, and every tag separated by '; ', when that makes it valid."""
    parts = [p.strip() for chunk in text.strip().strip('"').split(";")
             for p in re.split(r"[ \t,]+(?=[A-Za-z]+[ \t]*=)", chunk)]
    tags: dict[str, str] = {}
    for part in filter(None, parts):
        match = _TAG.fullmatch(part)
        if not match or match.group(1).lower() in tags:
            return None
        tags[match.group(1).lower()] = match.group(2).strip()
    if "v" not in tags or tags.pop("v").lower() != "dmarc1":
        return None
    fixed = "; ".join(["v=DMARC1", *(f"{k}={v}" for k, v in tags.items())]) + ";"
    policy = read(fixed)
    return fixed if policy.problem is None and policy.fallback is None else None


# ---------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Applied:
    """The DMARC record that applies to the domain: where it is, and what it asks of receivers."""

    location: str  # the _dmarc name it was found at
    own: bool  # published for the domain itself (not inherited)
    policy: Policy

    @property
    def effective_policy(self) -> str | None:
        return self.policy.policy_for(self.own)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    applied: Applied | None = None  # the record that applies, when one does


def needs_walk(own: Answer) -> bool:
    """Whether the ancestors' records are needed: the domain has no single valid record of its own."""
    return sum(1 for r in own.rrs("TXT") if is_dmarc(r.text)) != 1


def evaluate(own: Answer, *, domain: str, expected: str, walked: Mapping[str, Answer] | None = None,
             return_path: str | None = None) -> Judgement:
    """The verdict on the TXT answer at `_dmarc.<domain>` (CNAME chain included), with the answers for the
    ancestors of `walk_names()` when `needs_walk()` (keyed by name, without `_dmarc.`)."""
    name = own.name
    texts = [r.text for r in own.rrs("TXT")]
    records = [t for t in texts if is_dmarc(t)]
    inherited = _walk(domain, walked or {})
    if len(records) == 1:
        return _own(name, domain, records[0], [t for t in texts if t != records[0]], return_path)
    if len(records) > 1:
        return Judgement(Verdict(FAILED, f"{name} has {len(records)} DMARC records; receivers then ignore them all "
                                         f"(RFC 9989 4.10){_instead(inherited)}. Keep only one, for example: "
                                         f"{expected}"))
    meant = [(t, why) for t in texts if (why := broken(t))]
    if meant:
        text, why = meant[0]
        fixed = repair(text)
        fix = f"Publish instead: {fixed}" if fixed else f"Publish: {expected}"
        return Judgement(Verdict(FAILED, f"The DMARC record at {name} is broken: {why.rstrip('.')}, so receivers "
                                         f"ignore it{_instead(inherited)}. {fix}"))
    final = own.final_name()
    if not texts and final != name:
        return Judgement(Verdict(FAILED, f"{name} is a CNAME to {final}, which has no DMARC record (TXT starting "
                                         f"with v=DMARC1){_instead(inherited)}. Point the CNAME at the right "
                                         f"target, or replace it with a TXT record: {expected}"))
    if texts:
        shown = quoted(texts[0] if len(texts[0]) <= 60 else texts[0][:59] + "…")
        return Judgement(Verdict(FAILED, f"The TXT record at {name} (\"{shown}\") is not a DMARC record (it does "
                                         f"not start with v=DMARC1){_instead(inherited)}. Replace it with: "
                                         f"{expected}"))
    return _inherited(name, domain, expected, inherited, return_path)


@dataclass(frozen=True)
class _Walked:
    found: Applied | None = None
    pending: str | None = None  # a lookup that failed before a record was found
    asked: tuple[str, ...] = ()


def _walk(domain: str, walked: Mapping[str, Answer]) -> _Walked:
    """The first valid record among the ancestors, in tree-walk order."""
    asked: list[str] = []
    for ancestor in walk_names(domain)[1:]:
        answer = walked.get(ancestor)
        if answer is None:
            continue
        asked.append(f"_dmarc.{ancestor}")
        if answer.transient:
            return _Walked(pending=f"_dmarc.{ancestor} could not be looked up ({answer.problem})", asked=tuple(asked))
        records = [r.text for r in answer.rrs("TXT") if is_dmarc(r.text)]
        if len(records) == 1:
            return _Walked(Applied(f"_dmarc.{ancestor}", False, read(records[0])), asked=tuple(asked))
    return _Walked(asked=tuple(asked))


def _instead(inherited: _Walked) -> str:
    if inherited.found is None or inherited.found.policy.problem:
        return ""
    return f" and apply the record at {inherited.found.location} ({inherited.found.policy.summary()}) instead"


def _own(name: str, domain: str, text: str, others: list[str], return_path: str | None) -> Judgement:
    policy = read(text)
    if policy.problem:
        return Judgement(Verdict(FAILED, f"The DMARC record at {name} is invalid: {policy.problem}. Fix that tag."))
    applied = Applied(name, True, policy)
    notes = _policy_notes(applied, domain, return_path)
    if others:
        notes.append(f"{name} also has {len(others)} other TXT record{'s' if len(others) > 1 else ''} "
                     f"(\"{quoted(others[0][:40])}\"); receivers skip {'them' if len(others) > 1 else 'it'}, "
                     "but some do not expect it: remove it")
    return Judgement(Verdict(VERIFIED, _sentences(notes)), applied)


def _inherited(name: str, domain: str, expected: str, inherited: _Walked, return_path: str | None) -> Judgement:
    asked = f" (the DNS tree walk asked {', '.join(inherited.asked)})" if inherited.asked else ""
    if inherited.pending:
        return Judgement(Verdict(PENDING, f"No DMARC record at {name}, and {inherited.pending}, so the record that "
                                          "applies is not known yet. Verify again later."))
    found = inherited.found
    if found is None:
        return Judgement(Verdict(MISSING, f"No DMARC record (TXT starting with v=DMARC1) at {name}, and none above "
                                          f"it{asked}. Publish: {expected}"))
    policy = found.policy
    if policy.psd == "y":
        return Judgement(Verdict(MISSING, f"No DMARC record at {name}: the only record that applies is the public "
                                          f"suffix operator's at {found.location} (psd=y), not one of your own. "
                                          f"Publish: {expected}"))
    if policy.problem:
        return Judgement(Verdict(MISSING, f"No DMARC record at {name}; the record that would apply, at "
                                          f"{found.location}, is invalid ({policy.problem}). Publish: {expected}"))
    tag = "sp" if policy.subdomain_policy else "p"
    notes = [f"No DMARC record at {name}; the record at {found.location} ({policy.summary()}) applies to it, found "
             f"by the DNS tree walk (RFC 9989 4.10), so receivers apply {tag}={found.effective_policy} to {domain}. "
             "Publish your own only to set a different policy"]
    notes += _policy_notes(found, domain, return_path)
    return Judgement(Verdict(VERIFIED, _sentences(notes)), found)


def _policy_notes(applied: Applied, domain: str, return_path: str | None) -> list[str]:
    policy = applied.policy
    notes: list[str] = []
    if policy.fallback:
        notes.append(f"The DMARC record at {applied.location}: {policy.fallback}")
    if policy.testing:
        notes.append(f"t=y marks the policy as a test: receivers are asked not to apply p={applied.effective_policy} "
                     "fully yet, and some treat the domain as still testing")
    if policy.aspf == "s":
        bounce = return_path or f"a name under {domain}"
        notes.append(f"aspf=s (strict SPF alignment) means mail sent through StackShift can never align SPF: its "
                     f"return path is {bounce}, not {domain} itself. DMARC still passes through DKIM "
                     f"(d={domain} aligns under adkim=r and adkim=s); set aspf=r to align SPF too")
    notes += policy.notes
    return notes


def _sentences(notes: list[str]) -> str | None:
    return " ".join(n.rstrip(".") + "." for n in notes) or None


# ---------------------------------------------------------------- the check (see checks/__init__.py)


def claims(record: DnsRecord) -> bool:
    return record.name.startswith("_dmarc.")


def expected(name: str, *, selector: str, public_key_b64: str, profile: SendingProfile,
             inbound: bool) -> DnsRecord | None:
    from stackshift_cli.records import dmarc_record_value, new_record

    return new_record(DMARC, "TXT", f"_dmarc.{name}", name, dmarc_record_value(profile))


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    return rr.type == record.type and rr.text.strip('"').lower().startswith("v=dmarc1")


def wrong_types(record: DnsRecord) -> tuple[str, ...]:
    return ()


PROBE_APEX = True


async def judge(record: DnsRecord, judging: Judging) -> Judged | None:
    """The record at _dmarc.<domain> (a CNAME to a hosted policy is followed); without one of its own, the
    ancestors' records of the DNS Tree Walk, all asked at once."""
    import asyncio

    if record.type != "TXT":
        return None
    dns = judging.dns
    found = await steps.settled_txt(dns, record.name)
    if isinstance(found, Verdict):
        return found, None
    domain = record.name[len("_dmarc."):] if record.name.startswith("_dmarc.") else judging.domain
    walked: dict[str, Answer] = {}
    if needs_walk(found.answer):
        ancestors = walk_names(domain)[1:]
        answers = await asyncio.gather(*(dns.resolve(f"_dmarc.{name}", "TXT") for name in ancestors))
        walked = dict(zip(ancestors, answers))
    return_path = next((r.name for r in judging.records if r.purpose == RETURN_PATH), None)
    judgement = evaluate(found.answer, domain=domain, expected=record.value, walked=walked, return_path=return_path)
    judging.findings.dmarc = judgement.applied
    return judgement.verdict, found


def plan(record: DnsRecord, here: Here) -> Change | None:
    """A valid DMARC record of the domain's own is kept (it already verifies, whatever its policy); a broken one,
    or several, is a conflict (replaced with StackShift's record with --replace)."""
    from stackshift_cli.publish import plan as p

    if record.type != "TXT":
        return None
    cnames = here.of("CNAME")
    if cnames:
        chain = here.resolved("TXT")
        if chain is not None and evaluate(chain, domain=here.domain, expected=record.value).verdict.status == VERIFIED:
            return p.keep(record, here, f"delegated by a CNAME to {cnames[0].value}, which holds a valid record")
        why = f"{here.name} is a CNAME to {cnames[0].value}, which holds no valid DMARC record."
        return p.conflict(record, here, why, old=here.records, instead=p.update(record, here, here.records))
    texts = here.of("TXT")
    meant = [r for r in texts if is_dmarc(r.value) or broken(r.value)]
    if not meant:
        return p.create(record, here)
    verdict = evaluate(here.answer("TXT"), domain=here.domain, expected=record.value).verdict
    if verdict.status == VERIFIED:
        return p.keep(record, here, "a valid DMARC record is already published",
                      found=next(r for r in meant if is_dmarc(r.value)))
    why = (verdict.explanation or f"The DMARC record at {here.name} is not valid.").split(" Publish")[0]
    return p.conflict(record, here, why, old=meant, instead=p.update(record, here, meant))
