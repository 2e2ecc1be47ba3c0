"""RFC 7208 rules of the SPF evaluation (stackshift_cli/verify/spf.py), as tables of hand-built DNS zones.

Each table is one rule of check_host() as receivers apply it to StackShift's mail: a zone (tests/answers.py),
the verdict it must give, and the phrases its explanation must contain. Every failed verdict in the tables is
also checked for its suggested record: when it offers one ("Replace it with: ..."), that record must be valid
SPF and, published in the same zone, must be verified (or pending, in the one case where the suggestion
keeps a lookup that fails in that zone before our include).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from stackshift_cli.domain import FAILED, MISSING, PENDING, VERIFIED
from stackshift_cli.checks import spf
from stackshift_cli.verify.answers import Answer
from stackshift_cli.checks.spf_syntax import parse
from tests.answers import EXPECTED_SPF, INCLUDE, Zone, spf_verdict

DOMAIN = "example.com"
OURS = f"include:{INCLUDE}"
STATUSES = {VERIFIED, FAILED, PENDING, MISSING}


@dataclass(frozen=True)
class Case:
    """A zone and what the SPF verdict for example.com must be.

    `says`: phrases the explanation must contain; for a verified case, an empty `says` means no explanation
    at all. `never`: phrases it must not contain. `suggests`: for a failed case, whether a record to publish
    instead is offered ("Replace it with: ...")."""

    id: str
    zone: Mapping[str, object]
    status: str
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    suggests: bool = False
    suggestion_status: str = VERIFIED  # the verdict once the suggested record is published in the same zone


def spf_at(text: str, *more) -> dict[str, list]:
    """example.com publishing `text` as its SPF record, with `more` records beside it."""
    return {DOMAIN: [("TXT", text), *more]}


def includes(count: int, prefix: str = "s") -> dict[str, list]:
    """`count` included domains whose records each list one address that is not StackShift's."""
    return {f"{prefix}{i}.example.net": [f"TXT v=spf1 ip4:198.51.100.{i}"] for i in range(count)}


def include_terms(count: int, prefix: str = "s") -> str:
    return " ".join(f"include:{prefix}{i}.example.net" for i in range(count))


def verdict_of(zone: Mapping[str, object]):
    return spf_verdict(Zone(zone), DOMAIN)


def check(case: Case):
    """The verdict for the case's zone, asserted against its status and phrases."""
    verdict = verdict_of(case.zone)
    assert verdict.status == case.status, verdict.explanation
    if case.status == VERIFIED and not case.says:
        assert verdict.explanation is None
    else:
        assert case.says, "a case that is not a quiet 'verified' must name what its explanation says"
        for phrase in case.says:
            assert phrase in verdict.explanation
    for phrase in case.never:
        assert phrase not in (verdict.explanation or "")
    return verdict


# ------------------------------------------------------------------ suggested records

_SUGGESTION = re.compile(r"Replace (?:it|them) with(?: this single record)?(?: \(without .*?\))?: (v=spf1 .*)$")


def suggested(explanation: str | None) -> str | None:
    """The record an explanation suggests publishing instead ('Replace it with: v=spf1 ...'), if any."""
    match = _SUGGESTION.search(explanation or "")
    return match.group(1) if match else None


def republished(zone: Mapping[str, object], record: str) -> dict[str, object]:
    """The same zone, with example.com's TXT records replaced by `record`."""
    def is_txt(spec) -> bool:
        return (spec[0] if isinstance(spec, tuple) else spec.partition(" ")[0]).upper() == "TXT"

    kept = [s for s in zone.get(DOMAIN, []) if not is_txt(s)]
    return {**zone, DOMAIN: [*kept, ("TXT", record)]}


def assert_sound_suggestion(zone: Mapping[str, object], explanation: str | None, status: str = VERIFIED) -> str:
    """The suggested record is valid SPF, and the same zone publishing it is verified (or `status`)."""
    record = suggested(explanation)
    assert record is not None, explanation
    parsed = parse(record)
    assert parsed.valid, parsed.problems
    again = verdict_of(republished(zone, record))
    assert again.status == status, again.explanation
    return record


# ------------------------------------------------------------------ 4.6.2, 5.1, 5.2, 6.1: qualifiers and position

NESTED = "_spf.example.net"

QUALIFIERS = [
    Case("minus-include-fails", spf_at(f"v=spf1 -{OURS} ~all"), FAILED,
         ('term 1 ("-include:spf.stackshift.email", at character 8)',
          "the qualifier - turns StackShift's pass into fail"), suggests=True),
    Case("tilde-include-softfails", spf_at(f"v=spf1 mx ~{OURS} ~all"), FAILED,
         ('term 2 ("~include:spf.stackshift.email", at character 11)',
          "the qualifier ~ turns StackShift's pass into softfail"), suggests=True),
    Case("question-include-is-neutral", spf_at(f"v=spf1 ?{OURS} -all"), FAILED,
         ('term 1 ("?include:spf.stackshift.email", at character 8)',
          "the qualifier ? turns StackShift's pass into neutral"), suggests=True),
    Case("include-after-minus-all-never-evaluated", spf_at(f"v=spf1 mx -all {OURS}"), FAILED,
         ('term 3 ("include:spf.stackshift.email", at character 16) of example.com comes after -all',
          "never evaluated (RFC 7208 5.1)"), suggests=True),
    Case("include-after-question-all-never-evaluated", spf_at(f"v=spf1 ?all {OURS}"), FAILED,
         ("comes after ?all", "never evaluated"), suggests=True),
    Case("redirect-beside-all-is-ignored",
         {**spf_at(f"v=spf1 redirect={NESTED} ~all"), NESTED: [f"TXT v=spf1 {OURS} -all"]}, FAILED,
         (f'term 1 ("redirect={NESTED}", at character 8) is ignored because the record has an \'all\' mechanism '
          "(RFC 7208 6.1)",), suggests=True),
    Case("redirect-alone-is-followed",
         {**spf_at(f"v=spf1 redirect={NESTED}"), NESTED: [f"TXT v=spf1 {OURS} -all"]}, VERIFIED),
    Case("redirect-straight-to-ours", spf_at(f"v=spf1 mx redirect={INCLUDE}", "MX 10 mail.example.com"),
         VERIFIED),
    Case("redirect-to-a-redirect-to-ours",
         {**spf_at("v=spf1 redirect=_redirect.example.com"), "_redirect.example.com": [f"TXT v=spf1 redirect={NESTED}"],
          NESTED: [f"TXT v=spf1 {OURS} ~all"]}, VERIFIED),
    Case("redirect-to-a-record-without-ours",
         {**spf_at(f"v=spf1 redirect={NESTED}"), NESTED: ["TXT v=spf1 mx -all"]}, FAILED,
         ("does not authorise StackShift (include:spf.stackshift.email)",), suggests=True),
    Case("redirect-not-used-when-ours-matched",
         {**spf_at(f"v=spf1 {OURS} redirect={NESTED}"), NESTED: ["TXT v=spf1 -all"]}, VERIFIED),
    Case("nested-include-passes",
         {**spf_at(f"v=spf1 include:{NESTED} -all"), NESTED: [f"TXT v=spf1 {OURS} -all"]}, VERIFIED),
    Case("nested-include-via-redirect-passes",
         {**spf_at(f"v=spf1 include:{NESTED} -all"), NESTED: [f"TXT v=spf1 redirect={INCLUDE}"]}, VERIFIED),
    Case("minus-on-nested-include-fails",
         {**spf_at(f"v=spf1 -include:{NESTED} -all"), NESTED: [f"TXT v=spf1 {OURS} -all"]}, FAILED,
         (f'term 1 ("-include:{NESTED}", at character 8)',
          "the included record authorises StackShift, but the qualifier - turns that into fail"), suggests=True),
    Case("nested-record-has-ours-after-all",
         {**spf_at(f"v=spf1 include:{NESTED} ~all"), NESTED: [f"TXT v=spf1 -all {OURS}"]}, FAILED,
         (f'term 2 ("include:spf.stackshift.email", at character 13) of {NESTED} comes after -all',
          "never evaluated"), suggests=True),
    Case("nested-softfail-is-no-match-5-2",
         {**spf_at(f"v=spf1 include:{NESTED} -all"), NESTED: [f"TXT v=spf1 ~{OURS} -all"]}, FAILED,
         ("does not authorise StackShift (include:spf.stackshift.email)",), suggests=True),
    Case("nested-fail-is-no-match-then-ours",
         {**spf_at(f"v=spf1 include:{NESTED} {OURS} -all"), NESTED: ["TXT v=spf1 -ip4:192.0.2.0/24 -all"]},
         VERIFIED),
    Case("minus-include-of-other-senders-no-match",
         {**spf_at(f"v=spf1 -include:{NESTED} {OURS} -all"), NESTED: ["TXT v=spf1 ip4:198.51.100.0/24 -all"]},
         VERIFIED),
]


@pytest.mark.parametrize("case", QUALIFIERS, ids=lambda c: c.id)
def test_first_matching_term_decides_and_nothing_after_all_rfc7208_4_6_2_5_1_5_2_6_1(case):
    check(case)


# ------------------------------------------------------------------ 4.4, 4.6.2: DNS failures in evaluation order

ORDER = [
    Case("timeout-include-before-ours",
         {**spf_at(f"v=spf1 include:{NESTED} {OURS} -all"), NESTED: "TIMEOUT"}, PENDING,
         (f"include:{NESTED} could not be looked up: no answer within 1s", "temperror")),
    Case("servfail-include-before-ours",
         {**spf_at(f"v=spf1 include:{NESTED} {OURS} -all"), NESTED: "SERVFAIL"}, PENDING,
         (f"include:{NESTED} could not be looked up: SERVFAIL from", "temperror")),
    Case("timeout-a-before-ours",
         {**spf_at(f"v=spf1 a:h.example.net {OURS} -all"), "h.example.net": "TIMEOUT"}, PENDING,
         ("a:h.example.net could not be looked up",)),
    Case("servfail-mx-before-ours",
         {**spf_at(f"v=spf1 mx:h.example.net {OURS} -all"), "h.example.net": "SERVFAIL"}, PENDING,
         ("mx:h.example.net could not be looked up: SERVFAIL",)),
    Case("timeout-exists-before-ours",
         {**spf_at(f"v=spf1 exists:h.example.net {OURS} -all"), "h.example.net": "TIMEOUT"}, PENDING,
         ("exists:h.example.net could not be looked up",)),
    Case("timeout-redirect",
         {**spf_at("v=spf1 mx redirect=h.example.net", "MX 10 mail.example.com"), "h.example.net": "TIMEOUT"},
         PENDING, ("redirect=h.example.net could not be looked up",)),
    Case("timeout-of-our-own-record",
         {**spf_at(f"v=spf1 {OURS} -all"), INCLUDE: "TIMEOUT"}, PENDING,
         (f"{OURS} could not be looked up",)),
    Case("timeout-in-nested-include-before-ours",
         {**spf_at(f"v=spf1 include:{NESTED} {OURS} -all"), NESTED: ["TXT v=spf1 include:_spf.example.org"],
          "_spf.example.org": "TIMEOUT"}, PENDING,
         ("include:_spf.example.org could not be looked up",)),
    Case("timeout-include-after-ours",
         {**spf_at(f"v=spf1 {OURS} include:{NESTED} -all"), NESTED: "TIMEOUT"}, VERIFIED),
    Case("servfail-include-after-ours",
         {**spf_at(f"v=spf1 {OURS} include:{NESTED} -all"), NESTED: "SERVFAIL"}, VERIFIED),
    Case("timeout-a-after-ours",
         {**spf_at(f"v=spf1 {OURS} a:h.example.net -all"), "h.example.net": "TIMEOUT"}, VERIFIED),
    Case("timeout-after-a-deciding-fail",
         {**spf_at(f"v=spf1 -ip4:192.0.2.0/24 include:{NESTED} {OURS} -all"), NESTED: "TIMEOUT"}, FAILED,
         ('term 1 ("-ip4:192.0.2.0/24", at character 8) matches StackShift\'s mail first',), suggests=True,
         # The suggestion keeps the include that times out before ours, so in this zone it is pending: suggest()
         # accepts a temperror, since the failing lookup is another sender's, not a term to drop.
         suggestion_status=PENDING),
]


@pytest.mark.parametrize("case", ORDER, ids=lambda c: c.id)
def test_dns_failure_matters_only_before_the_decision_rfc7208_4_4_4_6_2(case):
    check(case)


# ------------------------------------------------------------------ 4.6.4: lookup and void-lookup limits

LIMIT = "needs more than 10 DNS lookups"


def _mx_zone(count: int) -> dict[str, list]:
    return {DOMAIN: [("TXT", f"v=spf1 mx {OURS} -all"), *[f"MX 10 mx{i}.example.com" for i in range(count)]],
            **{f"mx{i}.example.com": [f"A 198.51.100.{i}"] for i in range(count)}}


def _nested_zone(inside: int) -> dict[str, list]:
    return {**spf_at(f"v=spf1 include:n.example.net {OURS} -all"),
            "n.example.net": [f"TXT v=spf1 {include_terms(inside)}"], **includes(inside)}


LIMITS = [
    Case("ten-lookups-including-ours", {**spf_at(f"v=spf1 {include_terms(9)} {OURS} -all"), **includes(9)},
         VERIFIED),
    Case("eleven-lookups-including-ours", {**spf_at(f"v=spf1 {include_terms(10)} {OURS} -all"), **includes(10)},
         FAILED, (LIMIT, "before they reach include:spf.stackshift.email")),
    Case("every-querying-mechanism-makes-ten",
         {**spf_at(f"v=spf1 a mx ptr exists:e.example.com {include_terms(5)} {OURS} -all",
                   "A 198.51.100.1", "MX 10 mail.example.com"), **includes(5)}, VERIFIED, ("(ptr) is deprecated",)),
    Case("every-querying-mechanism-makes-eleven",
         {**spf_at(f"v=spf1 a mx ptr exists:e.example.com {include_terms(6)} {OURS} -all",
                   "A 198.51.100.1", "MX 10 mail.example.com"), **includes(6)}, FAILED, (LIMIT,)),
    Case("exists-matches-every-sender",
         {**spf_at("v=spf1 exists:e.example.com -all"), "e.example.com": ["A 127.0.0.2"]}, VERIFIED,
         ('term 1 ("exists:e.example.com", at character 8) matches every sender',)),
    Case("minus-exists-fails-every-sender",
         {**spf_at(f"v=spf1 -exists:e.example.com {OURS} -all"), "e.example.com": ["A 127.0.0.2"]}, FAILED,
         ("(e.example.com has an address) and gives it fail",), suggests=True),
    Case("a-mx-ptr-and-includes-make-ten",
         {**spf_at(f"v=spf1 a mx ptr {include_terms(6)} {OURS} -all", "A 198.51.100.1",
                   "MX 10 mail.example.com"), **includes(6)}, VERIFIED, ("(ptr) is deprecated",)),
    Case("a-mx-ptr-and-includes-make-eleven",
         {**spf_at(f"v=spf1 a mx ptr {include_terms(7)} {OURS} -all", "A 198.51.100.1",
                   "MX 10 mail.example.com"), **includes(7)}, FAILED, (LIMIT,)),
    Case("redirect-is-the-tenth", {**spf_at(f"v=spf1 {include_terms(9)} redirect={INCLUDE}"), **includes(9)},
         VERIFIED),
    Case("redirect-is-the-eleventh", {**spf_at(f"v=spf1 {include_terms(10)} redirect={INCLUDE}"), **includes(10)},
         FAILED, (LIMIT,)),
    Case("nested-records-count-ten", _nested_zone(8), VERIFIED),
    Case("nested-records-count-eleven", _nested_zone(9), FAILED, (LIMIT,)),
    Case("two-void-a-before-ours", spf_at(f"v=spf1 a:v1.example.net a:v2.example.net {OURS} -all"), VERIFIED),
    Case("three-void-a-before-ours",
         spf_at(f"v=spf1 a:v1.example.net a:v2.example.net a:v3.example.net {OURS} -all"), FAILED,
         ("has 3 terms that point at names with no records", "at most 2 are allowed")),
    Case("voids-in-nested-record-count",
         {**spf_at(f"v=spf1 a:v1.example.net include:{NESTED} {OURS} -all"),
          NESTED: ["TXT v=spf1 mx:v2.example.net exists:v3.example.net"]}, FAILED, ("has 3 terms",)),
    Case("mx-with-eleven-records", _mx_zone(11), FAILED,
         ("mx finds 11 MX records at example.com", "at most 10 (RFC 7208 4.6.4)")),
    Case("mx-with-ten-records", _mx_zone(10), VERIFIED),
    Case("lookups-after-ours-beyond-limit",
         {**spf_at(f"v=spf1 {OURS} {include_terms(10)} -all"), **includes(10)}, VERIFIED,
         ("Mail from StackShift passes, but the whole record needs more than 10 DNS lookups",)),
    Case("voids-after-ours",
         spf_at(f"v=spf1 {OURS} a:v1.example.net a:v2.example.net a:v3.example.net -all"), VERIFIED,
         ("Mail from StackShift passes, but 3 terms point at names with no records",)),
    Case("include-loop-before-ours",
         {**spf_at(f"v=spf1 include:x.example.net {OURS} -all"), "x.example.net": ["TXT v=spf1 include:y.example.net"],
          "y.example.net": ["TXT v=spf1 include:x.example.net"]}, FAILED,
         ("include:x.example.net makes a loop back to x.example.net", "permerror")),
    Case("include-of-itself-before-ours", spf_at(f"v=spf1 include:{DOMAIN} {OURS} -all"), FAILED,
         ("makes a loop back to example.com",)),
    Case("include-loop-after-ours",
         {**spf_at(f"v=spf1 {OURS} include:x.example.net -all"), "x.example.net": ["TXT v=spf1 include:y.example.net"],
          "y.example.net": ["TXT v=spf1 include:x.example.net"]}, VERIFIED,
         ("other senders fails SPF (permerror)", "loop")),
    Case("adding-ours-would-exceed-limit", {**spf_at(f"v=spf1 {include_terms(10)} -all"), **includes(10)}, FAILED,
         ("Adding include:spf.stackshift.email would make the record need more than 10 DNS lookups",
          "first remove includes you no longer use"), never=("Replace it with",)),
]


@pytest.mark.parametrize("case", LIMITS, ids=lambda c: c.id)
def test_lookup_and_void_limits_counted_as_evaluated_rfc7208_4_6_4(case):
    check(case)


# ------------------------------------------------------------------ 5.2: what an include points at

TARGETS = [
    Case("include-target-without-spf",
         {**spf_at(f"v=spf1 include:x.example.net {OURS} -all"), "x.example.net": ["TXT hello"]}, FAILED,
         ("include:x.example.net points at x.example.net, which has no SPF record", "permerror")),
    Case("include-target-nxdomain", spf_at(f"v=spf1 include:x.example.net {OURS} -all"), FAILED,
         ("include:x.example.net points at x.example.net, which has no SPF record",)),
    Case("include-target-with-two-spf",
         {**spf_at(f"v=spf1 include:x.example.net {OURS} -all"),
          "x.example.net": ["TXT v=spf1 -all", "TXT v=spf1 ~all"]}, FAILED,
         ("include:x.example.net points at x.example.net, which has 2 SPF records",)),
    Case("include-target-broken",
         {**spf_at(f"v=spf1 include:x.example.net {OURS} -all"),
          "x.example.net": ["TXT v=spf1 ip4:1.2.3.4/33 -all"]}, FAILED,
         ("the SPF record of x.example.net (reached through include:x.example.net) is broken",
          'term 1 ("ip4:1.2.3.4/33", at character 8)')),
    Case("redirect-target-without-spf", spf_at("v=spf1 redirect=x.example.net"), FAILED,
         ("redirect=x.example.net points at x.example.net, which has no SPF record (RFC 7208 6.1)",)),
    Case("include-target-without-spf-after-ours", spf_at(f"v=spf1 {OURS} include:x.example.net -all"), VERIFIED,
         ("other senders fails SPF (permerror): include:x.example.net points at x.example.net, which has no SPF "
          "record",)),
]


@pytest.mark.parametrize("case", TARGETS, ids=lambda c: c.id)
def test_include_target_without_one_valid_record_is_permerror_rfc7208_5_2(case):
    check(case)


# ------------------------------------------------------------------ 5.6: address ranges covering StackShift's

DIRECTLY = "lists StackShift's addresses directly; use include:spf.stackshift.email instead"

CIDR = [
    Case("minus-ip4-half-of-ours", spf_at(f"v=spf1 -ip4:192.0.2.0/25 {OURS} -all"), FAILED,
         ('term 1 ("-ip4:192.0.2.0/25", at character 8) matches StackShift\'s mail first',
          "covers StackShift's addresses (192.0.2.0/24)", "gives it fail"), suggests=True),
    Case("tilde-ip4-all-of-ours", spf_at(f"v=spf1 ~ip4:192.0.2.0/24 {OURS} -all"), FAILED,
         ("gives it softfail",), suggests=True),
    Case("question-ip4-one-host-of-ours", spf_at(f"v=spf1 ?ip4:192.0.2.77 {OURS} -all"), FAILED,
         ("gives it neutral",), suggests=True),
    Case("minus-ip4-whole-internet", spf_at(f"v=spf1 -ip4:0.0.0.0/0 {OURS} -all"), FAILED,
         ('"-ip4:0.0.0.0/0"', "gives it fail"), suggests=True),
    Case("minus-a-covering-ours", spf_at(f"v=spf1 -a {OURS} -all", "A 192.0.2.10"), FAILED,
         ('term 1 ("-a", at character 8)', "gives it fail"), suggests=True),
    Case("tilde-a-domain-covering-ours",
         {**spf_at(f"v=spf1 ~a:h.example.com {OURS} -all"), "h.example.com": ["A 192.0.2.10"]}, FAILED,
         ('"~a:h.example.com"', "gives it softfail"), suggests=True),
    Case("minus-ip4-other-network", spf_at(f"v=spf1 -ip4:198.51.100.0/24 {OURS} -all"), VERIFIED),
    Case("minus-ip6", spf_at(f"v=spf1 -ip6:2001:db8::/32 {OURS} -all"), VERIFIED),
    Case("minus-ip4-after-ours", spf_at(f"v=spf1 {OURS} -ip4:192.0.2.0/24 -all"), VERIFIED),
    Case("hard-coded-ip4", spf_at("v=spf1 ip4:192.0.2.0/24 -all"), VERIFIED,
         ('term 1 ("ip4:192.0.2.0/24", at character 8) ' + DIRECTLY,)),
    Case("hard-coded-wider-ip4", spf_at("v=spf1 mx ip4:192.0.0.0/16 -all"), VERIFIED, (DIRECTLY,)),
    Case("hard-coded-a-slash-24", spf_at("v=spf1 a/24 -all", "A 192.0.2.10"), VERIFIED, (DIRECTLY,)),
    Case("blocking-term-beside-a-redirect-that-all-ignores",
         {**spf_at("v=spf1 redirect=n.example.net -ip4:192.0.2.0/24 ?all"), "n.example.net": ["TXT v=spf1 mx"]},
         FAILED, ('term 2 ("-ip4:192.0.2.0/24", at character 31) matches StackShift\'s mail first',
                  'without "-ip4:192.0.2.0/24", which keeps StackShift\'s mail from passing'), suggests=True),
    Case("hard-coded-half-is-not-enough", spf_at("v=spf1 ip4:192.0.2.0/25 -all"), FAILED,
         ("does not authorise StackShift (include:spf.stackshift.email)",), suggests=True),
]


@pytest.mark.parametrize("case", CIDR, ids=lambda c: c.id)
def test_address_terms_covering_stackshift_decide_first_rfc7208_5_6_4_6_2(case):
    check(case)


# ------------------------------------------------------------------ 5.1, 4.5: 'all' warnings and the version tag

ALL = [
    Case("plus-all", spf_at(f"v=spf1 {OURS} +all"), VERIFIED,
         ("+all authorises every host on the Internet to send mail as example.com",
          "Replace it with: v=spf1 include:spf.stackshift.email ~all")),
    Case("bare-all", spf_at(f"v=spf1 mx {OURS} all"), VERIFIED,
         ("all authorises every host on the Internet", "Replace it with: v=spf1 mx include:spf.stackshift.email ~all")),
    Case("plus-all-before-ours", spf_at(f"v=spf1 +all {OURS}"), VERIFIED,
         ("+all authorises every host on the Internet",)),
    Case("question-all", spf_at(f"v=spf1 {OURS} ?all"), VERIFIED,
         ("?all gives every other host a neutral result", "no better than having no SPF record")),
    Case("upper-case-version", spf_at(f"V=SPF1 {OURS} -all"), VERIFIED),
    Case("upper-case-include", spf_at("v=spf1 INCLUDE:SPF.StackShift.Email. -all"), VERIFIED),
    Case("unknown-modifier-is-ignored", spf_at(f"v=spf1 foo=bar {OURS} -all"), VERIFIED),
    Case("minus-all-alone", spf_at("v=spf1 -all"), FAILED,
         ("does not authorise StackShift",), suggests=True),
    Case("empty-record-is-neutral", spf_at("v=spf1"), FAILED,
         ("does not authorise StackShift",), suggests=True),
    Case("minus-all-after-other-senders", spf_at("v=spf1 mx -all", "MX 10 mail.example.com"), FAILED,
         ("does not authorise StackShift (include:spf.stackshift.email)",
          f"Replace it with: v=spf1 mx {OURS} -all"), suggests=True),
]


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.id)
def test_all_qualifier_warnings_and_version_tag_rfc7208_5_1_4_5(case):
    check(case)


def test_plus_all_suggestion_replaces_it_with_tilde_all_rfc7208_5_1():
    zone = spf_at(f"v=spf1 mx {OURS} +all")
    verdict = check(Case("plus-all", zone, VERIFIED, ("+all authorises every host on the Internet",)))
    assert assert_sound_suggestion(zone, verdict.explanation) == f"v=spf1 mx {OURS} ~all"


# ------------------------------------------------------------------ 4.5: missing vs near-miss

NEAR_MISS = [
    Case("no-txt-at-all", {DOMAIN: ["MX 10 mail.example.com"]}, MISSING, (f"Publish: {EXPECTED_SPF}",)),
    Case("only-other-txt", {DOMAIN: ["TXT google-site-verification=abc"]}, MISSING,
         ("No SPF record (TXT starting with v=spf1) at example.com", f"Publish: {EXPECTED_SPF}")),
    Case("strings-joined-without-space", {DOMAIN: [("TXT", ["v=spf1", f"mx {OURS}"])]}, FAILED,
         ('published as the strings "v=spf1" "mx include:spf.stackshift.email"', "without a space",
          f"v=spf1 mx {OURS}"), never=("No SPF record",)),
    Case("version-spf10", spf_at(f"v=spf10 {OURS} -all"), FAILED,
         ('starts with "v=spf10', "v=spf1 must be followed by a space"), never=("No SPF record",)),
    Case("leading-space", spf_at(f" v=spf1 {OURS} -all"), FAILED,
         ("starts with a space", f"Publish it without: v=spf1 {OURS} -all"), never=("No SPF record",)),
    Case("no-version-prefix", spf_at(f"spf1 {OURS} -all"), FAILED,
         ("looks like SPF but does not start with v=spf1",), never=("No SPF record",)),
    Case("literal-quotes", spf_at(f'"v=spf1 {OURS} -all"'), FAILED, ("literal quote characters",)),
    Case("literal-quotes-between-strings", spf_at(f'"v=spf1 mx" "{OURS} -all"'), FAILED,
         ('literal quote characters where it was split into strings (" ")',)),
    Case("version-twice", spf_at(f"v=spf1 v=spf1 {OURS} -all"), FAILED, ("the v=spf1 tag appears 2 times",)),
    Case("two-spf-records", {DOMAIN: ["TXT v=spf1 mx -all", f"TXT v=spf1 {OURS} ~all"]}, FAILED,
         ("example.com has 2 SPF records", "(permerror)",
          f"Replace them with this single record: v=spf1 mx {OURS} -all"), suggests=True),
    # ours published as a second record beside the existing one: merge them, never "add a second record"
    Case("ours-published-as-a-second-record",
         {DOMAIN: [f"TXT v=spf1 {OURS} ~all", "TXT v=spf1 ip4:198.51.100.0/24 -all"]}, FAILED,
         (f"Replace them with this single record: v=spf1 ip4:198.51.100.0/24 {OURS} -all",),
         never=("second", "add", "Add"), suggests=True),
    Case("two-spf-records-with-redirect",
         {DOMAIN: ["TXT v=spf1 mx a:x.example.com -all", "TXT v=spf1 ip4:198.51.100.1 redirect=_spf.example.net"],
          "_spf.example.net": ["TXT v=spf1 -all"]}, FAILED,
         ("has 2 SPF records", "Replace them with this single record"), never=("redirect=",), suggests=True),
    Case("two-spf-records-one-broken", {DOMAIN: ["TXT v=spf1 ip4:1.2.3 -all", "TXT v=spf1 mx ~all"]}, FAILED,
         ("has 2 SPF records", 'without "ip4:1.2.3", which is not valid SPF'), suggests=True),
]


@pytest.mark.parametrize("case", NEAR_MISS, ids=lambda c: c.id)
def test_missing_only_when_nothing_was_meant_as_spf_rfc7208_4_5(case):
    check(case)


# ------------------------------------------------------------------ 3.3: the strings of one TXT record

STRINGS = [
    Case("split-after-the-version-and-its-space", {DOMAIN: [("TXT", ["v=spf1 ", f"{OURS} ~all"])]}, VERIFIED),
    Case("split-inside-a-term", {DOMAIN: [("TXT", ["v=spf1 include:spf.stack", "shift.email ~all"])]}, VERIFIED),
    Case("split-into-three-strings", {DOMAIN: [("TXT", ["v=spf1 mx ", f"{OURS} ", "~all"]), "MX 10 mail.example.com"]},
         VERIFIED),
]


@pytest.mark.parametrize("case", STRINGS, ids=lambda c: c.id)
def test_strings_of_one_txt_record_are_joined_without_spaces_rfc7208_3_3(case):
    """A provider may split a long value into several strings; receivers join them as they are (no space added),
    so a record split anywhere reads the same. (Split without the space after v=spf1: strings-joined-without-space.)"""
    check(case)


def test_a_cname_at_the_domain_is_followed_to_the_spf_record_it_points_at_rfc1034_3_6_2():
    """A sender name may be a CNAME to a record hosted by a service: the record at the end of the chain is judged."""
    check(Case("cname-to-a-hosted-record", {DOMAIN: ["CNAME spf.hosted.example"],
                                            "spf.hosted.example": [f"TXT v=spf1 {OURS} ~all"]}, VERIFIED))


def test_two_spf_records_give_one_merged_record_rfc7208_4_5():
    zone = {DOMAIN: ["TXT v=spf1 mx -all", f"TXT v=spf1 {OURS} ~all"]}
    verdict = verdict_of(zone)
    record = assert_sound_suggestion(zone, verdict.explanation)
    assert record == f"v=spf1 mx {OURS} -all"
    assert record.count("v=spf1") == 1 and record.count(OURS) == 1


# ------------------------------------------------------------------ 4.6: syntax errors anywhere

SYNTAX = [
    Case("bad-prefix-length", spf_at("v=spf1 ip4:1.2.3.4/33 mx -all"), FAILED,
         ('syntax error in term 1 ("ip4:1.2.3.4/33", at character 8)', "permerror, RFC 7208 4.6",
          'without "ip4:1.2.3.4/33", which is not valid SPF'), suggests=True),
    Case("bad-prefix-length-before-ours", spf_at(f"v=spf1 ip4:192.0.2.1/33 {OURS} ~all"), FAILED,
         ('term 1 ("ip4:192.0.2.1/33", at character 8)',
          f'Replace it with (without "ip4:192.0.2.1/33", which is not valid SPF): v=spf1 {OURS} ~all'),
         suggests=True),
    Case("label-longer-than-63-octets", spf_at(f"v=spf1 include:{'x' * 64}.example.net {OURS} ~all"), FAILED,
         ("is not a valid DNS name (a label of 64 octets; at most 63)", "permerror, RFC 7208 4.6"), suggests=True),
    Case("redirect-to-minus-all", spf_at("v=spf1 redirect=-all"), FAILED,
         ('term 1 ("redirect=-all", at character 8)',), never=("include:-all",), suggests=True),
    Case("error-after-all", spf_at(f"v=spf1 {OURS} -all foo"), FAILED,
         ('syntax error in term 3 ("foo", at character 42)',), suggests=True),
    Case("error-after-ours", spf_at(f"v=spf1 {OURS} ip4:1.2.3 -all"), FAILED,
         ('term 2 ("ip4:1.2.3", at character 37)', "not a full IPv4 address"), suggests=True),
    Case("redirect-twice", spf_at(f"v=spf1 {OURS} redirect=a.example.net redirect=b.example.net"), FAILED,
         ('term 3 ("redirect=b.example.net"', "appears more than once"), suggests=True),
    Case("qualifier-on-modifier", spf_at(f"v=spf1 {OURS} -redirect=a.example.net"), FAILED,
         ('term 2 ("-redirect=a.example.net"', "a modifier takes no qualifier"), suggests=True),
    Case("two-broken-terms", spf_at(f"v=spf1 ip4:1.2.3.4/33 include {OURS} -all"), FAILED,
         ('term 1 ("ip4:1.2.3.4/33"', "(1 more term also broken)", 'without "include", which is not valid SPF'),
         suggests=True),
    Case("carriage-return", spf_at(f"v=spf1 mx\r {OURS} -all"), FAILED,
         ('syntax error in term 1 ("mx\\r", at character 8)', "it contains \\r"), never=("\r",), suggests=True),
    Case("escape-sequence", spf_at(f"v=spf1 mx\x1b[31m {OURS} -all"), FAILED,
         ('term 1 ("mx\\x1b[31m", at character 8)',), never=("\x1b",), suggests=True),
    Case("control-character-in-nested-record",
         {**spf_at(f"v=spf1 include:x.example.net {OURS} -all"), "x.example.net": ["TXT v=spf1 a\n -all"]},
         FAILED, ('term 1 ("a\\n", at character 8)',), never=("\n",)),
    Case("broken-record-with-a-blocking-term", spf_at("v=spf1 -a ip4:1.2.3 -all", "A 192.0.2.10"), FAILED,
         ('syntax error in term 2 ("ip4:1.2.3", at character 11)',
          'without "ip4:1.2.3", which is not valid SPF; without "-a", which keeps StackShift\'s mail from passing'),
         suggests=True),
    Case("broken-record-with-an-include-without-spf",
         {**spf_at("v=spf1 include:none.example.net ip4:1.2.3 -all"), "none.example.net": ["TXT hello"]}, FAILED,
         ('without "include:none.example.net", which keeps StackShift\'s mail from passing',), suggests=True),
    Case("carriage-return-in-near-miss", spf_at(f"v=spf1\r{OURS} -all"), FAILED,
         ('starts with "v=spf1\\rinclu"',), never=("\r",)),
]


@pytest.mark.parametrize("case", SYNTAX, ids=lambda c: c.id)
def test_syntax_error_anywhere_is_permerror_naming_the_term_rfc7208_4_6(case):
    check(case)


def test_broken_term_is_named_not_echoed_in_the_suggestion_rfc7208_4_6():
    zone = spf_at("v=spf1 ip4:1.2.3.4/33 mx -all")
    record = assert_sound_suggestion(zone, verdict_of(zone).explanation)
    assert record == f"v=spf1 mx {OURS} -all"
    assert "ip4:1.2.3.4/33" not in record


def test_invalid_redirect_is_dropped_not_turned_into_an_include_rfc7208_6_1():
    zone = spf_at("v=spf1 redirect=-all")
    record = assert_sound_suggestion(zone, verdict_of(zone).explanation)
    assert record == f"v=spf1 {OURS} ~all"
    assert "-all" not in record


def test_no_suggestion_when_adding_ours_exceeds_ten_lookups_rfc7208_4_6_4():
    zone = {**spf_at(f"v=spf1 {include_terms(10)} -all"), **includes(10)}
    verdict = verdict_of(zone)
    assert verdict.status == FAILED
    assert suggested(verdict.explanation) is None
    assert "would make the record need more than 10 DNS lookups" in verdict.explanation
    assert "first remove includes you no longer use, or replace a and mx terms with ip4:/ip6: ranges" in \
        verdict.explanation


# ------------------------------------------------------------------ every failed case: the suggested record

FAILED_CASES = [c for table in (QUALIFIERS, ORDER, LIMITS, TARGETS, CIDR, ALL, NEAR_MISS, STRINGS, SYNTAX)
                for c in table if c.status == FAILED]


@pytest.mark.parametrize("case", FAILED_CASES, ids=lambda c: c.id)
def test_suggested_record_is_valid_and_verifies_in_the_same_zone_rfc7208_4_6(case):
    verdict = verdict_of(case.zone)
    assert verdict.status == FAILED
    if case.suggests or suggested(verdict.explanation) is not None:  # a record is never suggested unless sound
        record = assert_sound_suggestion(case.zone, verdict.explanation, case.suggestion_status)
        assert record.count(OURS) == 1


# ------------------------------------------------------------------ explanations: escaped, with positions

def test_explanation_escapes_carriage_return_and_names_the_position():
    verdict = verdict_of(spf_at(f"v=spf1 {OURS} mx\r -all"))
    assert verdict.status == FAILED
    assert "\r" not in verdict.explanation
    assert 'term 2 ("mx\\r", at character 37)' in verdict.explanation


# ------------------------------------------------------------------ static_lookups, include_of, merge

def fetched_for(zone: Zone, text: str) -> dict[tuple[str, str], Answer]:
    """Every answer the walk of `text` asks for, fetched from the zone round after round."""
    fetched: dict[tuple[str, str], Answer] = {}
    for _ in range(20):
        needed = spf.walk(DOMAIN, text, INCLUDE, fetched).needed - fetched.keys()
        if not needed:
            break
        fetched.update(zone.fetched(needed))
    return fetched


STATIC = [
    pytest.param(f"v=spf1 ip4:198.51.100.1 {OURS} -all", {}, 1, id="only-ours"),
    pytest.param(f"v=spf1 a mx ptr exists:e.example.com {OURS} -all", {}, 5, id="every-querying-mechanism"),
    pytest.param(f"v=spf1 {OURS} redirect=x.example.net", {"x.example.net": ["TXT v=spf1 -all"]}, 2,
                 id="redirect-counts"),
    pytest.param(f"v=spf1 {OURS} redirect=x.example.net -all", {}, 1, id="redirect-beside-all-not-counted"),
    pytest.param(f"v=spf1 mx -all {OURS} a", {}, 1, id="after-all-not-counted"),
    pytest.param(f"v=spf1 include:n.example.net {OURS} -all",
                 {"n.example.net": [f"TXT v=spf1 {include_terms(3)}"], **includes(3)}, 5, id="nested-counted"),
    pytest.param(f"v=spf1 {include_terms(12)} -all", includes(12), 11, id="stops-counting-past-the-limit"),
]


@pytest.mark.parametrize(("text", "zone", "count"), STATIC)
def test_static_lookups_counts_every_term_a_receiver_may_evaluate_rfc7208_4_6_4(text, zone, count):
    assert spf.static_lookups(text, INCLUDE, fetched_for(Zone(zone), text), DOMAIN) == count


def test_static_lookups_counts_only_what_was_fetched():
    text = f"v=spf1 include:n.example.net {OURS} -all"
    assert spf.static_lookups(text, INCLUDE, {}, DOMAIN) == 2


@pytest.mark.parametrize(("expected", "include"), [
    pytest.param(EXPECTED_SPF, INCLUDE, id="default"),
    pytest.param("v=spf1 INCLUDE:SPF.StackShift.Email. -all", INCLUDE, id="case-and-final-dot"),
    pytest.param("v=spf1 ip4:192.0.2.1 include:a.example.net include:b.example.net ~all", "a.example.net",
                 id="first-include"),
    pytest.param("v=spf1 -all", None, id="no-include"),
    pytest.param("include:spf.stackshift.email", None, id="not-spf"),
])
def test_include_of_reads_our_include_from_the_expected_record(expected, include):
    assert spf.include_of(expected) == include


MERGE = [
    pytest.param(["v=spf1 mx -all"], {}, f"v=spf1 mx {OURS} -all", (), id="before-the-all"),
    pytest.param(["v=spf1 mx"], {}, f"v=spf1 mx {OURS} ~all", (), id="adds-tilde-all"),
    pytest.param(["v=spf1 mx -all a"], {}, f"v=spf1 mx {OURS} -all", (), id="drops-terms-after-all"),
    pytest.param([f"v=spf1 -{OURS} mx ~all"], {}, f"v=spf1 mx {OURS} ~all", (), id="replaces-qualified-ours"),
    pytest.param(["v=spf1 redirect=_spf.example.net"], {}, f"v=spf1 {OURS} redirect=_spf.example.net", (),
                 id="keeps-a-lone-redirect"),
    pytest.param(["v=spf1 a redirect=_spf.example.net ~all"], {},
                 f"v=spf1 a {OURS} include:_spf.example.net ~all", (), id="redirect-beside-all-becomes-include"),
    pytest.param(["v=spf1 ip4:1.2.3.4/33 mx -all"], {}, f"v=spf1 mx {OURS} -all", ("ip4:1.2.3.4/33",),
                 id="drops-broken-terms"),
    pytest.param(["v=spf1 redirect=-all"], {}, f"v=spf1 {OURS} ~all", ("redirect=-all",),
                 id="drops-broken-redirect"),
    pytest.param(["v=spf1 mx ~all", f"v=spf1 {OURS} a -all"], {}, f"v=spf1 mx a {OURS} ~all", (),
                 id="two-records-keep-the-users-all"),
    pytest.param(["v=spf1 mx exp=a.example.net -all", "v=spf1 exp=b.example.net ~all"], {},
                 f"v=spf1 mx {OURS} -all exp=a.example.net", (), id="one-exp"),
    pytest.param([f"v=spf1 {include_terms(9)} -all"], includes(9), f"v=spf1 {include_terms(9)} {OURS} -all", (),
                 id="ten-lookups-fit"),
    pytest.param([f"v=spf1 {include_terms(10)} -all"], includes(10), None, (), id="eleven-lookups-do-not-fit"),
]


@pytest.mark.parametrize(("texts", "zone", "record", "dropped"), MERGE)
def test_merge_puts_our_include_before_all_in_one_valid_record_rfc7208_4_6_4_6_1(texts, zone, record, dropped):
    fetched = fetched_for(Zone(zone), texts[0]) if zone else None
    merged = spf.merge(texts, INCLUDE, fetched=fetched, domain=DOMAIN)
    assert merged.record == record
    assert merged.dropped == dropped
    if record is not None:
        assert parse(record).valid
    else:
        assert merged.lookups == 11


def test_merge_final_all_replaces_plus_all():
    merged = spf.merge([f"v=spf1 mx {OURS} +all"], INCLUDE, final_all="~all")
    assert merged.record == f"v=spf1 mx {OURS} ~all"


# ------------------------------------------------------------------ property: any record text

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # what stackshift_cli.escape.visible escapes

_TOKENS = [OURS, f"-{OURS}", "-all", "~all", "+all", "?all", "all", "mx", "a", "a/24", "ptr", "a:v.example.net",
           "ip4:192.0.2.0/25", "-ip4:192.0.2.0/24", "ip4:1.2.3.4/33", "ip6:2001:db8::/32", "include:x.example.net",
           "include:loop.example.net", "include:t.example.net", "redirect=x.example.net", "redirect=-all",
           "exists:%{i}.x.example.net", "exp=x.example.net", "foo=bar", '"', "v=spf1", "%{d}", "include:%{d}",
           "\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u200b", "\u2028", "\udc96", "é", " "]

_ALPHABET = st.one_of(st.characters(codec="utf-8"), st.sampled_from(list("\r\n\t\x00\x1b\x7f\x85\u202e\u2028\udc96"
                                                                         ' ":/%{}=.-+~?')))
_TAILS = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=40),
    st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(alphabet=_ALPHABET, max_size=6)), max_size=14)
    .map(" ".join),
)

_PROPERTY_ZONE = {"x.example.net": [f"TXT v=spf1 {OURS} -all"],
                  "loop.example.net": ["TXT v=spf1 include:loop.example.net"],
                  "t.example.net": "TIMEOUT", "v.example.net": ["MX 10 mail.example.net"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=_TAILS)
def test_any_record_text_gives_one_of_four_statuses_with_escaped_explanation(tail):
    verdict = spf_verdict(Zone({**_PROPERTY_ZONE, DOMAIN: [("TXT", "v=spf1 " + tail)]}), DOMAIN)
    assert verdict.status in STATUSES
    raw = [c for c in verdict.explanation or "" if unicodedata.category(c) in _INVISIBLE]
    assert not raw, (raw, verdict.explanation)


def test_sender_dependent_macros_in_a_provider_record_are_assumed_not_to_match_without_a_note_rfc7208_7_3():
    """A provider's exists:%{i}… (nested) cannot be evaluated without the sender's address; it is not the user's
    to fix, so no note. The same term in the domain's own record is named."""
    nested = {**spf_at(f"v=spf1 include:{NESTED} ~all"),
              NESTED: [f"TXT v=spf1 exists:%{{i}}._spf.example.net {OURS} ~all"]}
    verdict = verdict_of(nested)
    assert verdict.status == VERIFIED and verdict.explanation is None
    own = verdict_of(spf_at(f"v=spf1 exists:%{{i}}._spf.example.net {OURS} ~all"))
    assert own.status == VERIFIED
    assert 'term 1 ("exists:%{i}._spf.example.net", at character 8) depends on the sending host' in own.explanation


def test_terms_run_together_by_a_line_break_are_separated_again_in_the_suggestion_rfc7208_4_6_1():
    verdict = verdict_of(spf_at(f"v=spf1 ip4:198.51.100.5\n {OURS} ~all"))
    assert verdict.status == FAILED and "it contains \\n" in verdict.explanation
    assert suggested(verdict.explanation) == f"v=spf1 ip4:198.51.100.5 {OURS} ~all"


@pytest.mark.parametrize("zone, status, phrase", [
    pytest.param({"example.com": [f"TXT v=spf1 mx {OURS} ~all", "MX 10 m1.example.com", "MX 20 m2.example.com",
                                  "MX 30 m3.example.com"]},
                 FAILED, "has 3 terms that point at names with no records", id="three-mail-servers-without-addresses"),
    pytest.param({"example.com": [f"TXT v=spf1 mx {OURS} ~all", "MX 10 m1.example.com", "MX 20 m2.example.com"]},
                 VERIFIED, None, id="two-mail-servers-without-addresses"),
    pytest.param({"example.com": [f"TXT v=spf1 mx {OURS} ~all", "MX 10 m1.example.com"], "m1.example.com": "TIMEOUT"},
                 PENDING, "the address of its mail server m1.example.com could not be looked up",
                 id="mail-server-address-times-out-before-ours"),
    pytest.param({"example.com": [f"TXT v=spf1 {OURS} mx ~all", "MX 10 m1.example.com"], "m1.example.com": "TIMEOUT"},
                 VERIFIED, None, id="mail-server-address-times-out-after-ours"),
    pytest.param({"example.com": [f"TXT v=spf1 -mx {OURS} ~all", "MX 10 m1.example.com"],
                  "m1.example.com": ["A 192.0.2.25"]},
                 FAILED, "covers StackShift's addresses", id="minus-mx-whose-server-is-in-stackshift-range"),
    pytest.param({"example.com": [f"TXT v=spf1 -mx {OURS} ~all", "MX 10 m1.example.com"],
                  "m1.example.com": ["A 198.51.100.25"]}, VERIFIED, None, id="minus-mx-elsewhere"),
    pytest.param({"example.com": [f"TXT v=spf1 mx {OURS} ~all", "MX 0 ."]}, VERIFIED, None, id="null-mx"),
])
def test_mx_looks_up_each_mail_server_counting_voids_and_failures_rfc7208_4_6_4_5_4(zone, status, phrase):
    verdict = verdict_of(zone)
    assert verdict.status == status, verdict.explanation
    if phrase:
        assert phrase in verdict.explanation
