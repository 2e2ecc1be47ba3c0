"""DMARC by RFC 9989 (May 2026, obsoletes RFC 7489): the rules of stackshift_cli/verify/dmarc.py, as tables.

Pure: every zone is hand-built (tests/answers.py) and the DNS tree walk is answered from it. Section numbers are
those of RFC 9989: 4.7 (tags, and the p=none fallback when rua= holds a valid URI), 4.8 (record format: v=DMARC1
first, in capitals) and 4.10 (the DNS Tree Walk).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from stackshift_cli.domain import FAILED, MISSING, PENDING, VERIFIED
from stackshift_cli.checks import dmarc
from tests.answers import Zone, dmarc_judgement

EXPECTED = "v=DMARC1; p=none;"  # what dmarc_judgement() asks to publish
RETURN_PATH = "bounces.example.com"


def _judge(records: dict, domain: str = "example.com", *, return_path: str | None = RETURN_PATH) -> dmarc.Judgement:
    return dmarc_judgement(Zone(records), domain, expected=EXPECTED, return_path=return_path)


def _own(text: str) -> dict:
    """A zone with one TXT record at _dmarc.example.com."""
    return {"_dmarc.example.com": [("TXT", text)]}


def _assert_phrases(explanation: str | None, phrases: tuple[str, ...]) -> None:
    assert explanation is not None
    for phrase in phrases:
        assert phrase in explanation, f"{phrase!r} not in {explanation!r}"


# ---------------------------------------------------------------- RFC 9989 4.10: the names the tree walk asks for


@pytest.mark.parametrize(("domain", "names"), [
    pytest.param("example.com", ["example.com", "com"], id="org-domain-then-tld"),
    pytest.param("news.dept.example.com", ["news.dept.example.com", "dept.example.com", "example.com", "com"],
                 id="one-label-at-a-time"),
    pytest.param("com", ["com"], id="single-label"),
    pytest.param("a.b.c.d.e.example.com",  # 7 labels: below the jump, one label at a time
                 ["a.b.c.d.e.example.com", "b.c.d.e.example.com", "c.d.e.example.com", "d.e.example.com",
                  "e.example.com", "example.com", "com"], id="7-labels-no-jump"),
    pytest.param("a.b.c.d.e.f.example.com",  # 8 labels: the jump to 7 removes one label, 8 names in all
                 ["a.b.c.d.e.f.example.com", "b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com",
                  "e.f.example.com", "f.example.com", "example.com", "com"], id="8-labels-jump-to-7"),
    pytest.param("a.b.c.d.e.f.g.h.example.com",  # 10 labels: after the first query, straight to 7 labels
                 ["a.b.c.d.e.f.g.h.example.com", "d.e.f.g.h.example.com", "e.f.g.h.example.com", "f.g.h.example.com",
                  "g.h.example.com", "h.example.com", "example.com", "com"], id="10-labels-jump-to-7"),
    pytest.param("l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com",  # 12 labels
                 ["l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com", "l6.l7.l8.l9.l10.example.com",
                  "l7.l8.l9.l10.example.com", "l8.l9.l10.example.com", "l9.l10.example.com", "l10.example.com",
                  "example.com", "com"], id="12-labels-jump-to-7"),
])
def test_tree_walk_names_the_domain_then_ancestors_jumping_to_7_labels_at_most_8_names(domain, names):
    """RFC 9989 4.10 steps 1-8: the domain, then its ancestors one label at a time, but a name of 8 or more labels
    is cut to 7 after the first query; so at most 8 queries, the last one at the TLD."""
    assert dmarc.walk_names(domain) == names
    assert len(names) <= dmarc.MAX_WALK_QUERIES == 8
    assert names[-1] == domain.rsplit(".", 1)[-1]


class _RecordingZone(Zone):
    def __init__(self, data):
        super().__init__(data)
        self.asked: list[str] = []

    def answer(self, name, rtype):
        self.asked.append(name)
        return super().answer(name, rtype)


def test_tree_walk_asks_each_name_once_in_order_and_at_most_8_names():
    """RFC 9989 4.10: with no record anywhere, exactly the walk_names() are asked, the TLD last."""
    domain = "l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com"
    zone = _RecordingZone({})
    judgement = dmarc_judgement(zone, domain, expected=EXPECTED)
    assert zone.asked == [f"_dmarc.{n}" for n in dmarc.walk_names(domain)]
    assert len(zone.asked) == 8 and zone.asked[-1] == "_dmarc.com"
    assert judgement.verdict.status == MISSING
    assert "the DNS tree walk asked _dmarc.l6.l7.l8.l9.l10.example.com, " in judgement.verdict.explanation


def test_tree_walk_never_consults_the_names_the_jump_skips():
    """RFC 9989 4.10 step 5: from 10 labels the walk jumps to 7, so a record at 9 or 8 labels is never seen."""
    domain = "a.b.c.d.e.f.g.h.example.com"
    judgement = _judge({"_dmarc.b.c.d.e.f.g.h.example.com": ["TXT v=DMARC1; p=reject"],
                        "_dmarc.c.d.e.f.g.h.example.com": ["TXT v=DMARC1; p=reject"],
                        "_dmarc.example.com": ["TXT v=DMARC1; p=quarantine"]}, domain)
    assert judgement.verdict.status == VERIFIED
    assert "the record at _dmarc.example.com (p=quarantine) applies to it" in judgement.verdict.explanation
    assert (judgement.applied.location, judgement.applied.effective_policy) == ("_dmarc.example.com", "quarantine")


# ---------------------------------------------------------------- RFC 9989 4.10: which record applies


class WalkCase(NamedTuple):
    records: dict
    domain: str
    status: str
    phrases: tuple[str, ...]
    applied: tuple[str, bool, str] | None  # (location, own, effective policy), or no record applies


WALK_CASES = [
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": ["TXT v=DMARC1; p=quarantine"]}, "news.dept.example.com", VERIFIED,
        ("No DMARC record at _dmarc.news.dept.example.com", "the record at _dmarc.dept.example.com (p=quarantine)",
         "found by the DNS tree walk (RFC 9989 4.10)", "receivers apply p=quarantine to news.dept.example.com"),
        ("_dmarc.dept.example.com", False, "quarantine")), id="intermediate-name-applies"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": ["TXT v=DMARC1; p=quarantine"], "_dmarc.example.com": ["TXT v=DMARC1; p=reject"]},
        "news.dept.example.com", VERIFIED,
        ("the record at _dmarc.dept.example.com (p=quarantine)", "found by the DNS tree walk"),
        ("_dmarc.dept.example.com", False, "quarantine")), id="closest-ancestor-wins-over-org-domain"),
    pytest.param(WalkCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=reject"]}, "news.dept.example.com", VERIFIED,
        ("the record at _dmarc.example.com (p=reject)", "found by the DNS tree walk",
         "receivers apply p=reject to news.dept.example.com"),
        ("_dmarc.example.com", False, "reject")), id="org-domain-record-two-levels-up"),
    pytest.param(WalkCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=reject; sp=quarantine"]}, "news.example.com", VERIFIED,
        ("the record at _dmarc.example.com (p=reject; sp=quarantine)",
         "receivers apply sp=quarantine to news.example.com"),
        ("_dmarc.example.com", False, "quarantine")), id="sp-is-the-policy-for-an-inherited-subdomain"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": ["TXT v=DMARC1; p=quarantine; psd=n"],
         "_dmarc.example.com": ["TXT v=DMARC1; p=reject"]}, "news.dept.example.com", VERIFIED,
        ("the record at _dmarc.dept.example.com (p=quarantine; psd=n)", "found by the DNS tree walk"),
        ("_dmarc.dept.example.com", False, "quarantine")), id="psd-n-stops-the-walk-there"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": ["TXT v=spf1 -all"], "_dmarc.example.com": ["TXT v=DMARC1; p=reject"]},
        "news.dept.example.com", VERIFIED,
        ("the record at _dmarc.example.com (p=reject)", "found by the DNS tree walk"),
        ("_dmarc.example.com", False, "reject")), id="non-dmarc-txt-at-an-ancestor-is-walked-past"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": ["TXT v=DMARC1; p=quarantine"], "_dmarc.example.com": "TIMEOUT"},
        "news.dept.example.com", VERIFIED,
        ("the record at _dmarc.dept.example.com (p=quarantine)",),
        ("_dmarc.dept.example.com", False, "quarantine")), id="timeout-above-the-record-found-does-not-matter"),
    pytest.param(WalkCase(
        {"_dmarc.com": ["TXT v=DMARC1; p=reject; psd=y"]}, "example.com", MISSING,
        ("No DMARC record at _dmarc.example.com", "the public suffix operator's at _dmarc.com (psd=y)",
         "not one of your own", f"Publish: {EXPECTED}"), None), id="psd-y-operator-record-is-not-your-own"),
    pytest.param(WalkCase(
        {}, "news.example.com", MISSING,
        ("No DMARC record (TXT starting with v=DMARC1) at _dmarc.news.example.com, and none above it",
         "(the DNS tree walk asked _dmarc.example.com, _dmarc.com)", f"Publish: {EXPECTED}"), None),
        id="nothing-anywhere"),
    pytest.param(WalkCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=quarantin"]}, "news.example.com", MISSING,
        ("the record that would apply, at _dmarc.example.com, is invalid", "p=quarantin is not a policy",
         f"Publish: {EXPECTED}"), None), id="ancestor-record-that-applies-no-policy"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": "TIMEOUT", "_dmarc.example.com": ["TXT v=DMARC1; p=reject"]},
        "news.dept.example.com", PENDING,
        ("No DMARC record at _dmarc.news.dept.example.com", "_dmarc.dept.example.com could not be looked up",
         "no answer within 1s", "Verify again later"), None), id="timeout-before-any-record-is-pending"),
    pytest.param(WalkCase(
        {"_dmarc.dept.example.com": "SERVFAIL"}, "news.dept.example.com", PENDING,
        ("_dmarc.dept.example.com could not be looked up (SERVFAIL from 127.0.0.1)", "not known yet"), None),
        id="servfail-before-any-record-is-pending"),
]


@pytest.mark.parametrize("case", WALK_CASES)
def test_policy_discovery_by_the_dns_tree_walk(case: WalkCase):
    """RFC 9989 4.10: with no record at _dmarc.<domain>, the first valid record up the tree applies (a PSO's
    psd=y record applies too, but is not the domain's own); a lookup that fails first leaves it unknown."""
    judgement = _judge(case.records, case.domain)
    assert judgement.verdict.status == case.status
    _assert_phrases(judgement.verdict.explanation, case.phrases)
    if case.applied is None:
        assert judgement.applied is None
    else:
        applied = judgement.applied
        assert (applied.location, applied.own, applied.effective_policy) == case.applied


def test_sp_does_not_apply_to_the_domain_that_publishes_it():
    """RFC 9989 4.7: sp= is for subdomains; the domain's own record applies p=."""
    judgement = _judge(_own("v=DMARC1; p=reject; sp=none"))
    assert judgement.verdict == (VERIFIED, None)
    assert (judgement.applied.own, judgement.applied.effective_policy) == (True, "reject")
    assert judgement.applied.policy.subdomain_policy == "none"


# ---------------------------------------------------------------- RFC 9989 4.7: tags


class TagCase(NamedTuple):
    record: str
    status: str
    phrases: tuple[str, ...]  # empty: no explanation at all
    policy: str | None  # the effective policy, when a record applies


TAG_CASES = [
    pytest.param(TagCase("v=DMARC1; p=reject; rua=mailto:d@example.test", VERIFIED, (), "reject"),
                 id="policy-and-report-address"),
    pytest.param(TagCase("v=DMARC1; p=block", FAILED,
                         ("is invalid: p=block is not a policy; use none, quarantine or reject",
                          "with no valid rua= either, receivers apply no DMARC policy", "Fix that tag"), None),
                 id="invalid-p-no-rua"),
    # pct, rf and ri were removed: ignored, with a note
    pytest.param(TagCase("v=DMARC1; p=reject; pct=50", VERIFIED,
                         ("The pct= tag was removed by RFC 9989", "current receivers ignore it",
                          "older ones still read it"), "reject"), id="pct-removed"),
    pytest.param(TagCase("v=DMARC1; p=reject; rf=afrf", VERIFIED,
                         ("The rf= tag was removed by RFC 9989", "older ones still read it"), "reject"),
                 id="rf-removed"),
    pytest.param(TagCase("v=DMARC1; p=reject; ri=3600", VERIFIED,
                         ("The ri= tag was removed by RFC 9989", "older ones still read it"), "reject"),
                 id="ri-removed"),
    pytest.param(TagCase("v=DMARC1; p=quarantine; pct=0; rf=afrf; ri=86400", VERIFIED,
                         ("The pct= and rf= and ri= tags were removed by RFC 9989", "current receivers ignore them",
                          "older ones still read them"), "quarantine"), id="pct-rf-ri-removed"),
    # np= and psd= are validated
    pytest.param(TagCase("v=DMARC1; p=reject; np=reject", VERIFIED, (), "reject"), id="np-valid"),
    pytest.param(TagCase("v=DMARC1; p=reject; np=bogus", FAILED,
                         ("is invalid: np=bogus is not a policy; use none, quarantine or reject",
                          "with no valid rua= either, receivers apply no DMARC policy"), None), id="np-invalid-no-rua"),
    pytest.param(TagCase("v=DMARC1; p=reject; np=bogus; rua=mailto:dmarc@example.com", VERIFIED,
                         ("np=bogus is not a policy", "receivers act as if it said p=none",
                          "because rua= holds a valid address (RFC 9989 4.7)"), "none"), id="np-invalid-with-rua"),
    pytest.param(TagCase("v=DMARC1; p=reject; psd=n", VERIFIED, (), "reject"), id="psd-valid"),
    pytest.param(TagCase("v=DMARC1; p=reject; psd=maybe", VERIFIED,
                         ("The value psd=maybe is not valid (y or n or u); receivers use the default, psd=u",),
                         "reject"), id="psd-invalid"),
    # t=y asks receivers to test only
    pytest.param(TagCase("v=DMARC1; p=reject; t=y", VERIFIED,
                         ("t=y marks the policy as a test", "not to apply p=reject fully yet"), "reject"), id="t-y"),
    pytest.param(TagCase("v=DMARC1; p=reject; t=n", VERIFIED, (), "reject"), id="t-n"),
    pytest.param(TagCase("v=DMARC1; p=reject; t=maybe", VERIFIED,
                         ("The value t=maybe is not valid (y or n); receivers use the default, t=n",), "reject"),
                 id="t-invalid"),
    # report URIs: the !size suffix is obsolete, not an error
    pytest.param(TagCase("v=DMARC1; p=none; rua=mailto:dmarc@example.com!10m", VERIFIED,
                         ("The size limit in rua=mailto:dmarc@example.com!10m is obsolete",
                          "RFC 9989 receivers ignore it"), "none"), id="rua-size-suffix-obsolete"),
    pytest.param(TagCase("v=DMARC1; p=none; ruf=mailto:f@example.com!1k", VERIFIED,
                         ("The size limit in ruf=mailto:f@example.com!1k is obsolete",), "none"),
                 id="ruf-size-suffix-obsolete"),
    pytest.param(TagCase("v=DMARC1; p=none; rua=dmarc@example.com", VERIFIED,
                         ("The tag rua= holds 'dmarc@example.com', which is not a URI",
                          "write addresses as mailto:dmarc@example.com"), "none"), id="rua-not-a-uri"),
    # no valid p=: p=none when rua= holds a valid URI, no policy at all otherwise
    pytest.param(TagCase("v=DMARC1; rua=mailto:dmarc@example.com", VERIFIED,
                         ("it has no p= tag: RFC 9989 receivers read that as p=none",
                          "receivers that still follow RFC 7489 ignore a record without one",
                          "Add p=none (or p=quarantine, p=reject) explicitly"), "none"), id="no-p-valid-rua"),
    pytest.param(TagCase("v=DMARC1; p=rejct; rua=mailto:dmarc@example.com", VERIFIED,
                         ("p=rejct is not a policy", "receivers act as if it said p=none"), "none"),
                 id="invalid-p-valid-rua"),
    # RFC 9989 4.7: p= is RECOMMENDED, not required; a record without it is read as p=none (a warning names p=)
    pytest.param(TagCase("v=DMARC1", VERIFIED,
                         ("it has no p= tag: RFC 9989 receivers read that as p=none",
                          "Add p=none (or p=quarantine, p=reject) explicitly"), "none"), id="no-p-no-rua"),
    pytest.param(TagCase("v=DMARC1; p=rejct; rua=dmarc@example.com", FAILED,
                         ("p=rejct is not a policy", "with no valid rua= either, receivers apply no DMARC policy"),
                         None), id="invalid-p-rua-not-a-uri"),
    pytest.param(TagCase("v=DMARC1; p=reject; sp=quarantin; rua=mailto:dmarc@example.com", VERIFIED,
                         ("sp=quarantin is not a policy", "receivers act as if it said p=none"), "none"),
                 id="invalid-sp-valid-rua"),
    pytest.param(TagCase("v=DMARC1; p=reject; sp=quarantin", FAILED,
                         ("sp=quarantin is not a policy", "receivers apply no DMARC policy"), None),
                 id="invalid-sp-no-rua"),
    # a tag twice, or a part that is no tag at all: receivers discard the record
    pytest.param(TagCase("v=DMARC1; p=reject; p=none", FAILED, ("is invalid: the tag p= appears twice",), None),
                 id="duplicate-p"),
    pytest.param(TagCase("v=DMARC1; p=none; rua=mailto:a@example.com; rua=mailto:b@example.com", FAILED,
                         ("the tag rua= appears twice",), None), id="duplicate-rua"),
    pytest.param(TagCase("v=DMARC1; p=none; junk", FAILED, ("'junk' is not a tag=value pair",), None),
                 id="not-a-tag"),
    # invalid alignment modes: the default applies
    pytest.param(TagCase("v=DMARC1; p=reject; adkim=x", VERIFIED,
                         ("The value adkim=x is not valid (r or s); receivers use the default, adkim=r",), "reject"),
                 id="adkim-invalid"),
    pytest.param(TagCase("v=DMARC1; p=reject; aspf=strict", VERIFIED,
                         ("The value aspf=strict is not valid (r or s); receivers use the default, aspf=r",),
                         "reject"), id="aspf-invalid"),
    pytest.param(TagCase("v=DMARC1;p=quarantine;fo=1;unknown=x", VERIFIED, (), "quarantine"),
                 id="no-spaces-unknown-tag-ignored"),
]


@pytest.mark.parametrize("case", TAG_CASES)
def test_record_tags(case: TagCase):
    """RFC 9989 4.7: p=, sp= and np= must be policies (or p=none applies when rua= holds a valid URI, else no
    policy); pct=, rf= and ri= are removed; t=y asks for testing; invalid psd=, t=, adkim=, aspf= take the default."""
    judgement = _judge(_own(case.record))
    assert judgement.verdict.status == case.status
    if case.phrases:
        _assert_phrases(judgement.verdict.explanation, case.phrases)
    else:
        assert judgement.verdict.explanation is None
    if case.policy is None:
        assert judgement.applied is None
    else:
        assert (judgement.applied.location, judgement.applied.own) == ("_dmarc.example.com", True)
        assert judgement.applied.effective_policy == case.policy


def test_invalid_alignment_modes_fall_back_to_relaxed():
    policy = _judge(_own("v=DMARC1; p=reject; adkim=x; aspf=strict")).applied.policy
    assert (policy.adkim, policy.aspf) == ("r", "r")


# ---------------------------------------------------------------- RFC 9989 4.8: present but broken


BROKEN_CASES = [
    pytest.param("p=reject; v=DMARC1", "v=DMARC1 is not its first tag; it must come first",
                 "v=DMARC1; p=reject;", id="version-not-first"),
    pytest.param("v=DMARC1 p=reject", "a semicolon must follow v=DMARC1", "v=DMARC1; p=reject;",
                 id="missing-semicolon"),
    pytest.param("v=DMARC1, p=reject", "a semicolon must follow v=DMARC1", "v=DMARC1; p=reject;",
                 id="comma-instead-of-semicolon"),
    pytest.param("v=dmarc1; p=none", "v=dmarc1 must be written v=DMARC1, in capitals", "v=DMARC1; p=none;",
                 id="lowercase-version"),
    pytest.param(" v=DMARC1; p=none", "it starts with a space or another invisible character", "v=DMARC1; p=none;",
                 id="leading-space"),
    pytest.param('"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
                 "the value contains literal quote characters",
                 "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com;", id="literal-quotes"),
]


@pytest.mark.parametrize(("text", "why", "fix"), BROKEN_CASES)
def test_present_but_broken_record_fails_with_a_fix_that_verifies(text, why, fix):
    """RFC 9989 4.8: a record must start with v=DMARC1 (in capitals) followed by ';'. A TXT meant as DMARC that
    receivers discard is failed (never "No DMARC record"), with the repaired record to publish."""
    verdict = _judge(_own(text)).verdict
    assert verdict.status == FAILED
    assert "No DMARC record" not in verdict.explanation
    _assert_phrases(verdict.explanation, ("The DMARC record at _dmarc.example.com is broken: ", why,
                                          "so receivers ignore it", f"Publish instead: {fix}"))
    published = verdict.explanation.split("Publish instead: ", 1)[1]
    assert published == fix and published.startswith("v=DMARC1;")
    repaired = _judge(_own(published))
    assert repaired.verdict.status == VERIFIED
    assert repaired.applied.own is True


def test_broken_record_that_cannot_be_repaired_asks_for_the_expected_one():
    verdict = _judge(_own("v=DMARC2; p=reject")).verdict
    assert verdict.status == FAILED
    _assert_phrases(verdict.explanation, ("is broken: v=DMARC2 is not a DMARC version; it must be v=DMARC1",
                                          f"Publish: {EXPECTED}"))
    assert "Publish instead" not in verdict.explanation


def test_broken_record_names_the_inherited_record_receivers_apply_instead():
    verdict = _judge({"_dmarc.news.example.com": ["TXT v=dmarc1; p=none"],
                      "_dmarc.example.com": ["TXT v=DMARC1; p=reject"]}, "news.example.com").verdict
    assert verdict.status == FAILED
    _assert_phrases(verdict.explanation, ("so receivers ignore it and apply the record at _dmarc.example.com "
                                          "(p=reject) instead", "Publish instead: v=DMARC1; p=none;"))


# ---------------------------------------------------------------- RFC 9989 4.10: one record per name


class SetCase(NamedTuple):
    records: dict
    domain: str
    status: str
    phrases: tuple[str, ...]
    absent: tuple[str, ...] = ()


SET_CASES = [
    pytest.param(SetCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=none", "TXT v=DMARC1; p=reject"]}, "example.com", FAILED,
        ("_dmarc.example.com has 2 DMARC records; receivers then ignore them all (RFC 9989 4.10)",
         f"Keep only one, for example: {EXPECTED}"), ("instead",)), id="two-records-nothing-inherited"),
    pytest.param(SetCase(
        {"_dmarc.news.example.com": ["TXT v=DMARC1; p=none", "TXT v=DMARC1; p=reject"],
         "_dmarc.example.com": ["TXT v=DMARC1; p=quarantine"]}, "news.example.com", FAILED,
        ("_dmarc.news.example.com has 2 DMARC records",
         "and apply the record at _dmarc.example.com (p=quarantine) instead")), id="two-records-inherited-applies"),
    pytest.param(SetCase(
        {"_dmarc.example.com": ["TXT v=spf1 include:spf.stackshift.email ~all"]}, "example.com", FAILED,
        ('The TXT record at _dmarc.example.com ("v=spf1 include:spf.stackshift.email ~all") is not a DMARC record',
         f"Replace it with: {EXPECTED}"), ("No DMARC record",)), id="unrelated-txt-alone"),
    pytest.param(SetCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=reject", "TXT v=spf1 -all"]}, "example.com", VERIFIED,
        ('_dmarc.example.com also has 1 other TXT record ("v=spf1 -all"); receivers skip it',
         "remove it")), id="valid-record-plus-unrelated-txt"),
]


@pytest.mark.parametrize("case", SET_CASES)
def test_record_set_at_dmarc_name(case: SetCase):
    """RFC 9989 4.10 step 2: TXT records that do not start with v=DMARC1 are discarded; several valid records
    are all ignored."""
    verdict = _judge(case.records, case.domain).verdict
    assert verdict.status == case.status
    _assert_phrases(verdict.explanation, case.phrases)
    for phrase in case.absent:
        assert phrase not in verdict.explanation


def test_cname_to_hosted_dmarc_service_verifies():
    """The _dmarc name may be a CNAME to a hosted DMARC service: the record at its target is the domain's own."""
    judgement = _judge({"_dmarc.example.com": ["CNAME example.com.dmarc.hosted.example"],
                        "example.com.dmarc.hosted.example": ["TXT v=DMARC1; p=reject; rua=mailto:r@hosted.example"]})
    assert judgement.verdict == (VERIFIED, None)
    assert (judgement.applied.location, judgement.applied.own, judgement.applied.effective_policy) == (
        "_dmarc.example.com", True, "reject")


# ---------------------------------------------------------------- identifier alignment (aspf=, adkim=)


class AlignCase(NamedTuple):
    records: dict
    domain: str
    return_path: str | None
    phrases: tuple[str, ...]  # empty: no explanation
    applied: tuple[str, bool, str, str, str]  # location, own, effective policy, aspf, adkim


ALIGN_CASES = [
    pytest.param(AlignCase(
        _own("v=DMARC1; p=reject; aspf=s"), "example.com", RETURN_PATH,
        ("aspf=s (strict SPF alignment) means mail sent through StackShift can never align SPF",
         "its return path is bounces.example.com, not example.com itself",
         "DMARC still passes through DKIM (d=example.com aligns under adkim=r and adkim=s)",
         "set aspf=r to align SPF too"),
        ("_dmarc.example.com", True, "reject", "s", "r")), id="aspf-s-return-path-never-aligns"),
    pytest.param(AlignCase(
        _own("v=DMARC1; p=reject; aspf=s"), "example.com", None,
        ("can never align SPF", "its return path is a name under example.com"),
        ("_dmarc.example.com", True, "reject", "s", "r")), id="aspf-s-without-known-return-path"),
    pytest.param(AlignCase(
        {"_dmarc.example.com": ["TXT v=DMARC1; p=reject; sp=quarantine; aspf=s"]}, "news.example.com",
        "bounces.news.example.com",
        ("found by the DNS tree walk", "its return path is bounces.news.example.com, not news.example.com itself",
         "DMARC still passes through DKIM"),
        ("_dmarc.example.com", False, "quarantine", "s", "r")), id="aspf-s-inherited"),
    pytest.param(AlignCase(
        _own("v=DMARC1; p=reject; adkim=s"), "example.com", RETURN_PATH, (),
        ("_dmarc.example.com", True, "reject", "r", "s")), id="adkim-s-no-warning"),
    pytest.param(AlignCase(
        _own("v=DMARC1; p=reject; aspf=r; adkim=r"), "example.com", RETURN_PATH, (),
        ("_dmarc.example.com", True, "reject", "r", "r")), id="relaxed-no-warning"),
]


@pytest.mark.parametrize("case", ALIGN_CASES)
def test_alignment_modes(case: AlignCase):
    """RFC 9989 4.7 (aspf=, adkim=) and identifier alignment: StackShift's return path is a subdomain, so strict SPF
    alignment can never hold; DKIM signs with d=<domain>, which aligns in both modes."""
    judgement = _judge(case.records, case.domain, return_path=case.return_path)
    assert judgement.verdict.status == VERIFIED
    if case.phrases:
        _assert_phrases(judgement.verdict.explanation, case.phrases)
    else:
        assert judgement.verdict.explanation is None
    applied = judgement.applied
    assert (applied.location, applied.own, applied.effective_policy, applied.policy.aspf,
            applied.policy.adkim) == case.applied


def test_a_dmarc_cname_that_leads_to_no_record_fails_and_names_its_target():
    """A CNAME at _dmarc that reaches no DMARC record is published for this record but wrong: failed, not missing."""
    judgement = _judge({"_dmarc.example.com": ["CNAME example.com.dmarc.gone.example"],
                        "example.com.dmarc.gone.example": ["A 192.0.2.1"]})
    assert judgement.verdict.status == FAILED
    _assert_phrases(judgement.verdict.explanation, (
        "_dmarc.example.com is a CNAME to example.com.dmarc.gone.example, which has no DMARC record",
        f"replace it with a TXT record: {EXPECTED}"))


def test_a_broken_record_explanation_reads_as_one_sentence():
    judgement = _judge(_own('"v=DMARC1; p=none"'))
    assert judgement.verdict.status == FAILED
    assert "., so" not in judgement.verdict.explanation
