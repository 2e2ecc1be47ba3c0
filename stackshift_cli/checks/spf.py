"""Judging the SPF record (RFC 7208) as receivers evaluate it for mail that StackShift sends (pure).

The record is `verified` when check_host() gives "pass" for StackShift's addresses. The walk follows the record
in evaluation order: the first mechanism that matches decides (4.6.2), nothing after `all` is evaluated (5.1),
`redirect=` applies only when no mechanism matched and never beside `all` (6.1), an include matches only when
the included record passes (5.2), and DNS-querying terms and void lookups are counted as they are evaluated
(4.6.4). StackShift's addresses match our include, `all`, and any ip4/ip6 (or `a`) term that covers the
networks StackShift's own record lists; a qualifier other than '+' on such a term makes the mail fail. A DNS
failure met before the decision is a temporary error (pending); one met after it cannot change StackShift's
result. Problems that only the domain's other senders meet (terms after the match) are reported as notes.

Pure: the caller fetches what `walk()` reports as `needed` (through the resolver) and calls it again with the
answers, until nothing more is needed; `evaluate()` then gives the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import TYPE_CHECKING, Mapping, Sequence

from stackshift_cli.domain import FAILED, MISSING, PENDING, SPF, VERIFIED, DnsRecord
from stackshift_cli.escape import quoted, visible
from stackshift_cli.verify import diagnose, steps
from stackshift_cli.verify.steps import Judged, Judging
from stackshift_cli.verify.answers import Answer, Rr, Verdict, canonical_name
from stackshift_cli.checks.spf_syntax import Network, Record, Term, dns_name_problem, expand, is_spf, parse

if TYPE_CHECKING:
    from stackshift_cli.publish.plan import Change, Here
    from stackshift_cli.records import SendingProfile

__all__ = ["claims", "evaluate", "expected", "include_of", "is_spf", "judge", "looks_like", "merge", "needed", "walk"]

MAX_LOOKUPS = 10  # RFC 7208 4.6.4: DNS-querying terms during one evaluation
MAX_VOID_LOOKUPS = 2  # RFC 7208 4.6.4: lookups that find nothing
MAX_MX = 10  # RFC 7208 4.6.4: an mx mechanism with more MX records is a permerror

PASS, FAIL, SOFTFAIL, NEUTRAL, PERMERROR, TEMPERROR = "pass", "fail", "softfail", "neutral", "permerror", "temperror"
_INCOMPLETE = "incomplete"
_STOPS_OURS = (PERMERROR, TEMPERROR, _INCOMPLETE)  # what ends the evaluation inside StackShift's own record
RESULT_OF = {"+": PASS, "-": FAIL, "~": SOFTFAIL, "?": NEUTRAL}
LOOKUP_TYPE = {"include": "TXT", "redirect": "TXT", "a": "A", "exists": "A", "mx": "MX"}
_LIMIT_ADVICE = "Remove includes you no longer use, or replace a and mx terms with ip4:/ip6: ranges."

Fetched = Mapping[tuple[str, str], Answer]  # (name, type) -> the resolver's answer


@dataclass(frozen=True)
class Result:
    """What check_host() gives StackShift's mail at some point of the walk, and the sentence that says why."""

    value: str
    why: str | None = None


@dataclass
class Walk:
    """One evaluation of a record and everything it reaches, for StackShift's addresses."""

    domain: str
    include: str
    fetched: Fetched
    ours: tuple[Network, ...] = ()  # StackShift's networks, from its own record
    lookups: int = 0  # counted while StackShift's mail is being evaluated
    voids: int = 0
    all_lookups: int = 0  # counted over every term a receiver may evaluate, for mail from any sender
    all_voids: int = 0
    needed: set[tuple[str, str]] = field(default_factory=set)
    result: Result | None = None
    top_term: Term | None = None  # the term of the published record that decided StackShift's result
    others: list[str] = field(default_factory=list)  # problems only other senders' mail meets
    reasons: list[str] = field(default_factory=list)  # why included records did not pass StackShift's mail
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ records

    def frame(self, domain: str, record: Record, live: bool, stack: tuple[str, ...], *, ours: bool = False
              ) -> Result | None:
        """check_host() for one record. `live`: StackShift's mail is still being evaluated when it is reached.
        `ours`: the record behind our include, which StackShift's addresses pass by definition."""
        decided: Result | None = None
        for index, term in enumerate(record.mechanisms):
            active = live and decided is None
            if not active and self.all_lookups > MAX_LOOKUPS:
                break  # other senders' mail already fails on the limit: nothing more to learn
            if term.name == "all":
                if active and not ours:
                    decided = Result(RESULT_OF[term.qualifier])
                    self._decided_at_top(stack, term)
                self._note_unreached(record.mechanisms[index + 1:], term, domain)
                break
            outcome = self.mechanism(domain, term, active, stack, ours=ours)
            if active and outcome is not None and not (ours and outcome.value not in _STOPS_OURS):
                decided = outcome
                self._decided_at_top(stack, term)
        redirect = record.modifier("redirect")
        if redirect is not None and not record.has_all:
            active = live and decided is None
            if active or self.all_lookups <= MAX_LOOKUPS:
                outcome = self.redirect(domain, redirect, active, stack, ours=ours)
                if active:
                    decided = outcome
                    self._decided_at_top(stack, redirect)
        if live and decided is None:
            decided = Result(PASS) if ours else Result(NEUTRAL)
        return decided

    def mechanism(self, domain: str, term: Term, active: bool, stack: tuple[str, ...], *, ours: bool = False
                  ) -> Result | None:
        """The result a matching (or failing) term gives StackShift's mail; None when it does not match.
        Inside StackShift's own record (`ours`) only errors count: its addresses pass there by definition."""
        if not term.queries_dns:  # ip4, ip6
            networks = (term.network,) if term.network is not None else ()
            return self._networks(term, networks) if active and not ours else None
        limit = self._count_lookup(term, active, domain)
        if limit is not None:
            return limit
        if term.name == "ptr":
            if len(stack) == 1:  # the domain's own record; a provider's ptr is not the user's to fix
                self._note(f"{term.where} (ptr) is deprecated and slow for receivers (RFC 7208 5.5); list the "
                           "addresses with ip4:/ip6: instead.")
            return None
        target = self._target(term, domain, len(stack) == 1)
        if target is None:
            return None
        problem = dns_name_problem(target)
        if problem:
            return self._error(PERMERROR, f"{term.where}: {problem}", active)
        answer = self._answer(target, LOOKUP_TYPE[term.name])
        if answer is None:
            return Result(_INCOMPLETE) if active else None
        if answer.transient:
            return self._error(TEMPERROR, f"{term.text} could not be looked up: {answer.problem}", active)
        if term.name == "include":
            return self._include(domain, term, target, answer, active, stack)
        rrs = answer.rrs(LOOKUP_TYPE[term.name])
        if not rrs:
            return self._count_void(term, active, domain)
        if term.name == "mx":
            return self._mx_hosts(domain, term, target, rrs, active, ours)
        if not active or ours:
            return None
        if term.name == "exists":
            self._note(f"{term.where} matches every sender, since {target} has an address: like "
                       f"{term.qualifier if term.qualifier != '+' else ''}all.")
            return Result(RESULT_OF[term.qualifier], _qualifier_reason(term, f"{target} has an address"))
        return self._networks(term, _networks(rrs, term.cidr4))  # a

    def _mx_hosts(self, domain: str, term: Term, target: str, rrs: list[Rr], active: bool, ours: bool
                  ) -> Result | None:
        """5.4: the addresses of each mail server (at most 10), each lookup a void one when it finds nothing."""
        if len(rrs) > MAX_MX:
            return self._error(PERMERROR, f"{term.text} finds {len(rrs)} MX records at {target}, and receivers "
                                          f"evaluate at most {MAX_MX} (RFC 7208 4.6.4)", active)
        networks: list[Network] = []
        incomplete = False
        for rr in sorted(rrs, key=lambda r: (r.priority or 0, r.text)):
            host = canonical_name(rr.text)
            if not host or dns_name_problem(host):  # a null MX (".") lists no host
                continue
            answer = self._answer(host, "A")
            if answer is None:
                incomplete = True
            elif answer.transient:
                failure = self._error(TEMPERROR, f"{term.text}: the address of its mail server {host} could not be "
                                                 f"looked up: {answer.problem}", active)
                if failure is not None:
                    return failure
            elif not answer.rrs("A"):
                void = self._count_void(term, active, domain)
                if void is not None:
                    return void
            else:
                networks += _networks(answer.rrs("A"), term.cidr4)
        if incomplete:
            return Result(_INCOMPLETE) if active else None
        if not active or ours:
            return None
        return self._networks(term, tuple(networks))

    def _followed(self, domain: str, term: Term, target: str, answer: Answer, active: bool,
                  stack: tuple[str, ...]) -> Record | Result | None:
        """The valid SPF record an include or redirect reaches, or the error (Result) or nothing that ends it."""
        txt = answer.rrs("TXT")
        if not txt:
            void = self._count_void(term, active, domain)
            if void is not None:
                return void
        records = [r.text for r in txt if is_spf(r.text)]
        if len(records) != 1:
            found = "no SPF record" if not records else f"{len(records)} SPF records"
            cite = " (RFC 7208 6.1)" if term.name == "redirect" else ""
            return self._error(PERMERROR, f"{term.text} points at {target}, which has {found}{cite}", active)
        if target in stack:
            return self._error(PERMERROR, f"{term.text} makes a loop back to {target}, so receivers exceed the "
                                          "lookup limit", active)
        record = parse(records[0])
        if not record.valid:
            return self._error(PERMERROR, f"the SPF record of {target} (reached through {term.text}) is broken: "
                                          f"{record.problems[0].describe()}", active)
        return record

    def _include(self, domain: str, term: Term, target: str, answer: Answer, active: bool,
                 stack: tuple[str, ...]) -> Result | None:
        record = self._followed(domain, term, target, answer, active, stack)
        if not isinstance(record, Record):
            return record
        ours = target == self.include
        inner = self.frame(target, record, active, stack + (target,), ours=ours)
        if not active or inner is None:
            return None
        if inner.value in (_INCOMPLETE, PERMERROR, TEMPERROR):
            return inner
        if inner.value != PASS:  # 5.2: fail, softfail and neutral make the include not match
            if inner.why:
                self.reasons.append(f"in the record of {target} (reached through {term.text}), {inner.why}")
            return None
        return Result(RESULT_OF[term.qualifier], _include_reason(term, self.include, ours))

    def redirect(self, domain: str, term: Term, active: bool, stack: tuple[str, ...], *, ours: bool = False
                 ) -> Result | None:
        limit = self._count_lookup(term, active, domain)
        if limit is not None:
            return limit
        target = self._target(term, domain, len(stack) == 1)
        if target is None:
            return Result(NEUTRAL, f"{term.text} depends on the sending host, so stackshift cannot follow it"
                          ) if active else None
        problem = dns_name_problem(target)
        if problem:
            return self._error(PERMERROR, f"{term.where}: {problem}", active)
        answer = self._answer(target, "TXT")
        if answer is None:
            return Result(_INCOMPLETE) if active else None
        if answer.transient:
            return self._error(TEMPERROR, f"{term.text} could not be looked up: {answer.problem}", active)
        record = self._followed(domain, term, target, answer, active, stack)
        if not isinstance(record, Record):
            return record
        return self.frame(target, record, active, stack + (target,), ours=ours or target == self.include)

    # ------------------------------------------------------------ helpers

    def _target(self, term: Term, domain: str, top: bool) -> str | None:
        spec = term.domain_spec if term.domain_spec is not None else domain
        target = expand(spec, domain=domain, sender_domain=self.domain)
        if target is None:
            if top:
                self._note(f"{term.where} depends on the sending host or address, so stackshift cannot evaluate "
                           "it; it is assumed not to match.")
            return None
        return canonical_name(target)

    def _answer(self, name: str, rtype: str) -> Answer | None:
        answer = self.fetched.get((name, rtype))
        if answer is None:
            self.needed.add((name, rtype))
        return answer

    def _count_lookup(self, term: Term, active: bool, domain: str) -> Result | None:
        self.all_lookups += 1
        if not active:
            return None
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            return Result(PERMERROR, f"the record needs more than {MAX_LOOKUPS} DNS lookups (include, a, mx, ptr, "
                                     "exists, redirect, counted across nested records) by the time receivers reach "
                                     f"{term.where} of {domain}")
        return None

    def _count_void(self, term: Term, active: bool, domain: str) -> Result | None:
        self.all_voids += 1
        if not active:
            return None
        self.voids += 1
        if self.voids > MAX_VOID_LOOKUPS:
            return Result(PERMERROR, f"{self.voids} terms point at names with no records (at most "
                                     f"{MAX_VOID_LOOKUPS} are allowed; the last is {term.where} of {domain})")
        return None

    def _error(self, value: str, why: str, active: bool) -> Result | None:
        if active:
            return Result(value, why)
        if value == PERMERROR:
            self.others.append(why)
        return None

    def _networks(self, term: Term, networks: tuple[Network, ...]) -> Result | None:
        """The result of a term that lists addresses, for StackShift's: a match when they overlap its networks."""
        overlapping = [n for n in self.ours if any(n.version == m.version and n.overlaps(m) for m in networks)]
        if not overlapping:
            return None
        if term.qualifier == "+":
            if all(any(_within(n, m) for m in networks) for n in self.ours):
                self._note(f"{term.where} lists StackShift's addresses directly; use include:"
                                     f"{self.include} instead, so that changes to them reach you.")
                return Result(PASS)
            return None
        shown = ", ".join(str(n) for n in overlapping)
        covers = f"it covers StackShift's addresses ({shown})"
        return Result(RESULT_OF[term.qualifier], _qualifier_reason(term, covers))

    def _note_unreached(self, after_all: tuple[Term, ...], all_term: Term, domain: str) -> None:
        for term in after_all:
            if term.name == "include" and term.domain_spec and canonical_name(term.domain_spec) == self.include:
                self._note(f"{term.where} of {domain} comes after {all_term.text}; receivers stop at "
                                        "'all', so it is never evaluated (RFC 7208 5.1).")

    def _decided_at_top(self, stack: tuple[str, ...], term: Term) -> None:
        if len(stack) == 1:
            self.top_term = term

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _networks(rrs: list[Rr], cidr4: int | None) -> tuple[Network, ...]:
    """The networks a/mx cover from the addresses found (IPv4: StackShift sends from IPv4 addresses)."""
    found = []
    for rr in rrs:
        try:
            found.append(ip_network(f"{rr.text}/{cidr4 if cidr4 is not None else 32}", strict=False))
        except ValueError:  # not an address: a hostile answer
            continue
    return tuple(n for n in found if n.version == 4)


def _include_reason(term: Term, include: str, ours: bool) -> str | None:
    if term.qualifier == "+":
        return None
    if ours:
        return (f"{term.where}: the qualifier {term.qualifier} turns StackShift's pass into "
                f"{RESULT_OF[term.qualifier]}; write include:{include} with no qualifier")
    return (f"{term.where}: the included record authorises StackShift, but the qualifier {term.qualifier} turns "
            f"that into {RESULT_OF[term.qualifier]}")


def _qualifier_reason(term: Term, because: str) -> str:
    return f"{term.where} matches StackShift's mail first ({because}) and gives it {RESULT_OF[term.qualifier]}"


def walk(domain: str, text: str, include: str, fetched: Fetched) -> Walk:
    """Evaluate the published record at `domain` for StackShift's addresses with the answers fetched so far."""
    include = canonical_name(include)
    state = Walk(domain=domain, include=include, fetched=fetched, ours=_our_networks(include, fetched))
    if (include, "TXT") not in fetched:  # StackShift's networks: a term that covers them decides its mail
        state.needed.add((include, "TXT"))
    record = parse(text)
    if record.valid:
        state.result = state.frame(domain, record, True, (domain,))
    return state


def needed(domain: str, texts: Sequence[str], include: str, fetched: Fetched) -> set[tuple[str, str]]:
    """What the verdict on the SPF records published at `domain` still needs looked up: the evaluation of the
    record, then, when it does not pass, the evaluation of the record the explanation will suggest instead."""
    if len(texts) == 1:
        state = walk(domain, texts[0], include, fetched)
        if state.needed or (state.result is not None and state.result.value == PASS):
            return state.needed - fetched.keys()
    candidate = merge(list(texts), include).record if texts else None
    return walk(domain, candidate, include, fetched).needed - fetched.keys() if candidate else set()


def _our_networks(include: str, fetched: Fetched) -> tuple[Network, ...]:
    answer = fetched.get((include, "TXT"))
    if answer is None or answer.transient:
        return ()
    records = [r.text for r in answer.rrs("TXT") if is_spf(r.text)]
    if len(records) != 1:
        return ()
    record = parse(records[0])
    return tuple(t.network for t in record.mechanisms if t.network is not None and t.qualifier == "+")


# ---------------------------------------------------------------- the verdict


def evaluate(answer: Answer, *, include: str, expected: str, fetched: Fetched) -> Verdict:
    """The verdict on the TXT answer at the domain (CNAME chain included), once `walk()` needs nothing more."""
    name = answer.name
    txt = answer.rrs("TXT")
    spf_texts = [r.text for r in txt if is_spf(r.text)]
    if not spf_texts:
        near_miss = _near_miss(name, txt, expected)
        if near_miss:
            return Verdict(FAILED, near_miss)
        return Verdict(MISSING, f"No SPF record (TXT starting with v=spf1) at {name}. Publish: {expected}")
    if len(spf_texts) > 1:
        single = _replace_with(spf_texts, include, fetched, name, "them with this single record")
        return Verdict(FAILED, f"{name} has {len(spf_texts)} SPF records; receivers then ignore SPF entirely "
                               f"(permerror). {single}")
    text = spf_texts[0]
    defect = diagnose.value_defect(text, "v=spf1")
    if defect:
        return Verdict(FAILED, f"The SPF record at {name} is damaged: {quoted(defect)}")
    record = parse(text)
    if not record.valid:
        return Verdict(FAILED, _syntax_explanation(name, record, include, fetched))
    state = walk(name, text, include, fetched)
    result = state.result if state.result and state.result.value != _INCOMPLETE else \
        Result(TEMPERROR, "not every lookup it needs was made")
    if result.value == PASS:
        return Verdict(VERIFIED, _verified_notes(name, record, state, fetched) or None)
    if result.value == TEMPERROR:
        return Verdict(PENDING, f"The SPF check could not finish: {result.why}. Receivers get a temporary error "
                                "(temperror) until it answers; verify again later.")
    if result.value == PERMERROR:
        return Verdict(FAILED, _permerror_explanation(name, text, result, state, fetched))
    return Verdict(FAILED, _unauthorised_explanation(name, text, result, state, fetched))


def _syntax_explanation(name: str, record: Record, include: str, fetched: Fetched) -> str:
    first = record.problems[0]
    more = len(record.problems) - 1
    also = f" ({more} more term{'s' if more > 1 else ''} also broken)" if more else ""
    return (f"The SPF record at {name} has a syntax error in {first.describe()}{also}. Receivers treat the whole "
            "record as a permanent error (permerror, RFC 7208 4.6), so SPF fails for all mail from "
            f"{name}. {_replace_with([record.text], include, fetched, name, 'it with')}")


def _permerror_explanation(name: str, text: str, result: Result, state: Walk, fetched: Fetched) -> str:
    why = result.why or "the evaluation fails"
    if state.lookups > MAX_LOOKUPS:
        return (f"The SPF record at {name} needs more than {MAX_LOOKUPS} DNS lookups (include, a, mx, ptr, exists, "
                "redirect, counted across nested records), so receivers reject it (permerror) before they reach "
                f"include:{state.include}. {_LIMIT_ADVICE}")
    if state.voids > MAX_VOID_LOOKUPS:
        return (f"The SPF record at {name} has {state.voids} terms that point at names with no records (at most "
                f"{MAX_VOID_LOOKUPS} are allowed), so receivers treat it as an error (permerror). Remove the terms "
                "for names that no longer exist.")
    return (f"SPF evaluation fails: {why}; receivers treat the record as broken (permerror), so SPF fails for mail "
            f"from StackShift. {_replace_with([text], state.include, fetched, name, 'it with')}")


def _unauthorised_explanation(name: str, text: str, result: Result, state: Walk, fetched: Fetched) -> str:
    reason = result.why
    unreached = [n for n in state.notes if "never evaluated" in n]
    record = parse(text)
    redirect = record.modifier("redirect")
    if reason is None and unreached:
        reason = unreached[0].rstrip(".")
    elif reason is None and redirect is not None and record.has_all:
        reason = f"{redirect.where} is ignored because the record has an 'all' mechanism (RFC 7208 6.1)"
    elif reason is None and state.reasons:
        reason = state.reasons[0]
    because = f": {reason}" if reason else ""
    return (f"The SPF record at {name} does not authorise StackShift (include:{state.include}){because}. "
            f"{_replace_with([text], state.include, fetched, name, 'it with')}")


def _verified_notes(name: str, record: Record, state: Walk, fetched: Fetched) -> str:
    notes: list[str] = []
    final = next((t for t in record.mechanisms if t.name == "all"), None)
    if final is not None and final.qualifier == "+":
        fixed = merge([record.text], state.include, fetched=fetched, domain=name, final_all="~all")
        instead = f" Replace it with: {fixed.record}" if fixed.record else ""
        notes.append(f"{final.text} authorises every host on the Internet to send mail as {name}, so SPF protects "
                     f"nothing; use ~all or -all.{instead}")
    elif final is not None and final.qualifier == "?":
        notes.append(f"{final.text} gives every other host a neutral result, which protects {name} no better than "
                     "having no SPF record; use ~all or -all.")
    notes += [n for n in state.notes if "never evaluated" not in n]
    if state.others:
        notes.append(f"Mail from StackShift passes, but mail from the domain's other senders fails SPF "
                     f"(permerror): {state.others[0]}.")
    elif state.all_lookups > MAX_LOOKUPS:
        notes.append(f"Mail from StackShift passes, but the whole record needs more than {MAX_LOOKUPS} DNS "
                     "lookups, so mail from the senders listed after it fails SPF (permerror). " + _LIMIT_ADVICE)
    elif state.all_voids > MAX_VOID_LOOKUPS:
        notes.append(f"Mail from StackShift passes, but {state.all_voids} terms point at names with no records "
                     f"(at most {MAX_VOID_LOOKUPS}), so mail from other senders fails SPF (permerror).")
    return " ".join(notes)


def _near_miss(name: str, txt: list[Rr], expected: str) -> str | None:
    """A TXT record that was meant to be SPF but is not one: receivers ignore it, so it must be explained."""
    for rr in txt:
        text = rr.text
        lowered = text.lower()
        defect = diagnose.value_defect(text, "v=spf1")
        if defect and "v=spf1" in lowered:
            return f"The SPF record at {name} is damaged: {quoted(defect)}"
        if lowered.startswith("v=spf1"):
            if len(rr.strings) > 1 and rr.strings[0].lower().endswith("v=spf1"):
                shown = " ".join(f'"{quoted(s)}"' for s in rr.strings[:3])
                return (f"The TXT record at {name} is published as the strings {shown}, which receivers join "
                        f"without a space into \"{quoted(text[:20])}…\": v=spf1 must be followed by a space, so it "
                        "is not an SPF record. Put a space at the end of the first string (or publish one "
                        f"string): {visible(rr.strings[0])} {visible(''.join(rr.strings[1:]))}")
            return (f"The TXT record at {name} starts with \"{quoted(text[:12])}\": v=spf1 must be followed by a "
                    "space, so receivers do not read it as an SPF record.")
        if lowered.lstrip().startswith("v=spf1"):
            return (f"The SPF record at {name} starts with a space or another invisible character, so receivers do "
                    f"not read it as SPF. Publish it without: {visible(text.strip())}")
        if lowered.startswith(("spf1 ", "v=spf2", "v=spf ", "v-spf1", "v:spf1")):
            return (f"The TXT record at {name} (\"{quoted(text[:40])}\") looks like SPF but does not start with "
                    f"v=spf1, so receivers ignore it. Publish: {expected}")
    return None


# ---------------------------------------------------------------- the record to suggest


@dataclass(frozen=True)
class Suggestion:
    record: str | None  # None when no valid record within the limits can be built
    dropped: tuple[str, ...] = ()  # broken terms left out
    lookups: int = 0
    blocking: tuple[str, ...] = ()  # valid terms left out because they keep StackShift's mail from passing


def _replace_with(texts: list[str], include: str, fetched: Fetched, domain: str, what: str) -> str:
    suggestion = suggest(texts, include, fetched, domain)
    without = [f'"{quoted(t)}", which is not valid SPF' for t in suggestion.dropped]
    without += [f'"{quoted(t)}", which keeps StackShift\'s mail from passing' for t in suggestion.blocking]
    dropped = f" (without {'; without '.join(without)})" if without else ""
    if suggestion.record:
        return f"Replace {what}{dropped}: {suggestion.record}"
    if suggestion.lookups > MAX_LOOKUPS:
        return (f"Adding include:{include} would make the record need more than {MAX_LOOKUPS} DNS lookups: first "
                "remove includes you no longer use, or replace a and mx terms with ip4:/ip6: ranges, then add "
                f"include:{include} before the 'all' term.")
    return f"Remove the terms named above, and add include:{include} before the 'all' term."


def suggest(texts: list[str], include: str, fetched: Fetched, domain: str) -> Suggestion:
    """The merged record, checked the way receivers will evaluate it: a term that still keeps StackShift's mail
    from passing (a '-ip4:' covering its addresses, an include whose record is broken) is left out as well."""
    blocking: list[str] = []
    for _ in range(MAX_LOOKUPS):
        suggestion = merge(texts, include, fetched=fetched, domain=domain, without=blocking)
        if suggestion.record is None:
            return suggestion
        state = walk(domain, suggestion.record, include, fetched)
        result = state.result
        if result is None or result.value in (PASS, TEMPERROR, _INCOMPLETE):  # else decided with what it needed
            return replace(suggestion, blocking=tuple(blocking))
        term = state.top_term
        if term is None or term.name == "all" or term.text in blocking:
            return Suggestion(None, suggestion.dropped, blocking=tuple(blocking))
        blocking.append(term.text)
    return Suggestion(None, blocking=tuple(blocking))


def merge(texts: list[str], include: str, *, fetched: Fetched | None = None, domain: str | None = None,
          final_all: str | None = None, without: list[str] | tuple[str, ...] = ()) -> Suggestion:
    """One valid SPF record with every live term of `texts` and our include before the final 'all'.

    Broken terms and terms after 'all' (which no receiver evaluates) are left out. Redirects become includes
    when an 'all' is kept, because a redirect is ignored next to an 'all'. When `fetched` is given, the result
    must stay within the lookup limit, counting what nested records need, or no record is suggested.
    """
    include = canonical_name(include)
    ours = f"include:{include}"
    terms: list[str] = []
    modifiers: list[str] = []
    dropped: list[str] = []
    redirects: list[str] = []
    kept_all: str | None = None

    left_out = {t.lower() for t in without}

    def add(into: list[str], text: str) -> None:
        if text.lower() not in left_out and text.lower() not in (t.lower() for t in into):
            into.append(text)

    # The user's own records first, so their 'all' qualifier is the one kept. Terms run together by a tab or a
    # line break (4.6.1) are separated again: the suggestion keeps them.
    for text in sorted(texts, key=lambda t: ours in t.lower()):
        text = re.sub(r"[\t\r\n\v\f]+", " ", text)
        record = parse(text) if is_spf(text) else parse("v=spf1")
        dropped += [p.text for p in record.problems if p.text not in dropped]
        for term in record.mechanisms:
            if term.name == "all":
                kept_all = kept_all or term.text
                break
            if term.name == "include" and term.domain_spec and canonical_name(term.domain_spec) == include:
                continue
            add(terms, term.text)
        for term in record.terms:
            if term.name == "redirect" and term.domain_spec:
                if canonical_name(term.domain_spec) != include:
                    redirects.append(term.domain_spec)
            elif term.modifier and not (term.name == "exp" and any(m.lower().startswith("exp=") for m in modifiers)):
                add(modifiers, term.text)
    terms.append(ours)
    kept_all = final_all or kept_all
    if kept_all:
        for target in redirects:
            add(terms, f"include:{target}")
        if kept_all.lower() in left_out:
            kept_all = "~all"
        terms.append(kept_all)
    elif redirects:
        modifiers.append(f"redirect={redirects[0]}")
    else:
        terms.append("~all")
    merged = " ".join(["v=spf1", *terms, *modifiers])
    if not parse(merged).valid:
        return Suggestion(None, tuple(dropped))
    if fetched is not None:
        lookups = static_lookups(merged, include, fetched, domain or include)
        if lookups > MAX_LOOKUPS:
            return Suggestion(None, tuple(dropped), lookups)
    return Suggestion(merged, tuple(dropped))


def static_lookups(text: str, include: str, fetched: Fetched, domain: str) -> int:
    """How many DNS-querying terms a receiver may evaluate in `text`, counting nested records already fetched."""
    state = Walk(domain=domain, include=canonical_name(include), fetched=fetched)
    state.frame(domain, parse(text), False, (domain,))
    return state.all_lookups


def include_of(expected: str) -> str | None:
    """Our include, from the expected record 'v=spf1 include:spf.stackshift.email ~all'."""
    if not is_spf(expected):
        return None
    return next((canonical_name(t.domain_spec) for t in parse(expected).mechanisms
                 if t.name == "include" and t.domain_spec), None)


# ---------------------------------------------------------------- the check (see checks/__init__.py)

MAX_ROUNDS = 12  # rounds of include lookups: nesting deeper than the lookup limit allows is not followed


def claims(record: DnsRecord) -> bool:
    return record.type == "TXT" and record.value.lower().startswith("v=spf1")


def expected(name: str, *, selector: str, public_key_b64: str, profile: SendingProfile,
             inbound: bool) -> DnsRecord | None:
    from stackshift_cli.records import new_record

    return new_record(SPF, "TXT", name, name, f"v=spf1 include:{profile.spf_include} ~all")


def looks_like(record: DnsRecord, rr: Rr) -> bool:
    return rr.type == record.type and rr.text.strip('"').lower().startswith("v=spf1")


def wrong_types(record: DnsRecord) -> tuple[str, ...]:
    return ("SPF",)  # the obsolete SPF record type (RFC 7208 3.1); an apex's A and MX stand in no one's place


PROBE_APEX = False


async def judge(record: DnsRecord, judging: Judging) -> Judged | None:
    """Evaluate the published record for StackShift's addresses, fetching each level of includes at once."""
    import asyncio

    if record.type != "TXT":
        return None
    dns = judging.dns
    include = include_of(record.value) or judging.spf_include
    asyncio.ensure_future(dns.resolve(include, "TXT"))  # prefetched: every walk needs it
    found = await steps.settled_txt(dns, record.name)
    if isinstance(found, Verdict):
        return found, None
    fetched: dict[tuple[str, str], Answer] = {}
    texts = [r.text for r in found.answer.rrs("TXT") if is_spf(r.text)]
    for _ in range(MAX_ROUNDS):  # one round of lookups per level of nesting
        wanted = sorted(needed(record.name, texts, include, fetched))
        if not wanted:
            break
        answers = await asyncio.gather(*(dns.resolve(n, t) for n, t in wanted))
        fetched.update(zip(wanted, answers))
    return evaluate(found.answer, include=include, expected=record.value, fetched=fetched), found


def _within(inner: Network, outer: Network) -> bool:
    """Whether every address of `inner` is in `outer` (never, across IPv4 and IPv6)."""
    if isinstance(inner, IPv4Network) and isinstance(outer, IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, IPv6Network) and isinstance(outer, IPv6Network):
        return inner.subnet_of(outer)
    return False


# ---------------------------------------------------------------- publishing (publish/plan.py)


def plan(record: DnsRecord, here: Here) -> Change | None:
    """Our include merged into the SPF record the domain has (never a second record beside it): inserted before
    its `all` or `redirect=`, every other term and qualifier kept, and only when the result stays within RFC
    7208's limits (4.6.4). `here.fetched` holds what `plan_needed()` asked for."""
    from stackshift_cli.publish import plan as p

    if record.type != "TXT":
        return None
    blocked = p.cname_in_the_way(record, here)
    if blocked:
        return blocked
    include = include_of(record.value) or here.spf_include
    found = [r for r in here.of("TXT") if is_spf(r.value)]
    if not found:
        return p.create(record, here)
    texts = [r.value for r in found]
    merged = suggest(texts, include, here.fetched, here.name)
    if len(found) > 1:
        why = (f"{here.name} has {len(found)} SPF records; receivers then ignore SPF entirely (permerror, RFC 7208 "
               "3.2), and stackshift will not guess which one to keep.")
        limit = _over_limit(texts, include, here)
        if limit:
            return p.conflict(record, here, f"{why} {limit}", old=found)
        instead = p.update(record, here, found, "merged into one record", value=merged.record) \
            if merged.record else None
        return p.conflict(record, here, why, old=found, instead=instead)
    text = texts[0]
    parsed = parse(text)
    if parsed.valid:
        state = walk(here.name, text, include, here.fetched)
        if state.result is not None and state.result.value == PASS:
            return p.keep(record, here, "it already authorises StackShift's mail", found=found[0])
    limit = _over_limit(texts, include, here)
    if limit:
        return p.conflict(record, here, limit, old=found)
    if merged.record is None:
        return p.conflict(record, here, f"No valid SPF record with include:{include} can be built from {here.name}'s "
                                        f"(\"{quoted(text, 80)}\"); fix it by hand.", old=found)
    if not parsed.valid:
        why = (f"The SPF record at {here.name} has a syntax error in {parsed.problems[0].describe()}, so receivers "
               "reject it whole (permerror).")
        return p.conflict(record, here, why, old=found, instead=p.update(record, here, found, value=merged.record))
    if merged.blocking:
        shown = ", ".join(f"'{quoted(t)}'" for t in merged.blocking)
        why = (f"The SPF record at {here.name} has {shown}, which would still keep StackShift's mail from passing "
               f"with include:{include} added.")
        return p.conflict(record, here, why, old=found, instead=p.update(record, here, found, value=merged.record))
    return p.update(record, here, found, f"include:{include} added before the record's final term",
                    value=merged.record)


def _over_limit(texts: list[str], include: str, here: Here) -> str | None:
    """Why adding our include breaks RFC 7208's limits (4.6.4), naming the terms that cost the most, or None."""
    merged = merge(texts, include, domain=here.name)
    if merged.record is None:
        return None
    state = Walk(domain=here.name, include=canonical_name(include), fetched=here.fetched)
    state.frame(here.name, parse(merged.record), False, (here.name,))
    if state.all_lookups <= MAX_LOOKUPS and state.all_voids <= MAX_VOID_LOOKUPS:
        return None
    costs = []
    for term in parse(merged.record).terms:
        if term.name in LOOKUP_TYPE and not (term.domain_spec and canonical_name(term.domain_spec) == include):
            cost = static_lookups(f"v=spf1 {term.text}", include, here.fetched, here.name)
            costs.append((cost, term.text))
    costs.sort(key=lambda c: -c[0])
    named = ", ".join(f"{t} ({c} lookup{'s' if c != 1 else ''})" for c, t in costs[:5])
    if state.all_lookups > MAX_LOOKUPS:
        why = (f"Adding include:{include} to the SPF record at {here.name} would make it need {state.all_lookups} "
               f"DNS lookups, more than the {MAX_LOOKUPS} RFC 7208 allows (4.6.4): receivers would reject it "
               "(permerror).")
    else:
        why = (f"The SPF record at {here.name} with include:{include} added would meet {state.all_voids} lookups "
               f"that find nothing, more than the {MAX_VOID_LOOKUPS} RFC 7208 allows (4.6.4).")
    return f"{why} Remove terms you no longer use first: {named}." if named else why


def plan_needed(here: Here) -> set[tuple[str, str]]:
    """The lookups `plan()` needs, given what is fetched so far: the evaluation of the record found and of the
    merged record (the caller fetches them through the resolver and asks again until nothing is needed)."""
    include = here.spf_include
    texts = [r.value for r in here.of("TXT") if is_spf(r.value)]
    wanted: set[tuple[str, str]] = set()
    for text in [*texts, merge(texts, include).record if texts else None]:
        if text:
            state = walk(here.name, text, include, here.fetched)
            wanted |= state.needed
            wanted |= _static_needed(here.name, text, include, here.fetched)
    return wanted - here.fetched.keys()


def _static_needed(domain: str, text: str, include: str, fetched: Fetched) -> set[tuple[str, str]]:
    """What counting every term's lookups (not only those StackShift's mail reaches) needs fetched."""
    state = Walk(domain=domain, include=canonical_name(include), fetched=fetched)
    state.frame(domain, parse(text), False, (domain,))
    return state.needed
