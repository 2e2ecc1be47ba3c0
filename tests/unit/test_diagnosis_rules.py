"""Diagnoses of a record that is not where it should be (stackshift_cli/verify/diagnose.py), as tables.

When a check finds its record missing, the engine asks DNS the names and types of `diagnose.probes()` and
`explain_missing()` reads the answers: the zone appended twice by a provider that adds it to the host field, the
record put at the apex, or the right host with the wrong type (`failed`: something stands in the record's place
and must be replaced). Pure: every probe is answered from a hand-built zone (tests/answers.py). Value defects
(literal quotes, a duplicated v= tag) are read from the published text alone.
"""

from __future__ import annotations

import asyncio
from typing import Mapping, NamedTuple

import pytest

from stackshift_cli.domain import FAILED, MISSING, DnsRecord
from stackshift_cli.verify import diagnose
from stackshift_cli.verify.steps import Judging
from tests.answers import EXPECTED_SPF, Zone, diagnosis, expected_records, spf_verdict

RECORDS = expected_records()  # purpose -> the record `create --inbound` asks for at example.com
SUBDOMAIN = expected_records("mail.example.com")  # the same for mail.example.com, in the zone example.com
DKIM_NAME = RECORDS["dkim"].name
DKIM_VALUE = RECORDS["dkim"].value


class Case(NamedTuple):
    record: DnsRecord  # the expected record, missing at its own name
    zone: Mapping[str, object]  # what is published instead
    status: str | None  # the diagnosis' status; None: no diagnosis (the check's own verdict stands)
    phrases: tuple[str, ...] = ()
    domain: str = "example.com"


def check(case: Case) -> None:
    verdict = diagnosis(Zone(case.zone), case.record, domain=case.domain)
    if case.status is None:
        assert verdict is None, verdict
        return
    assert verdict is not None and verdict.status == case.status, verdict
    for phrase in case.phrases:
        assert phrase in verdict.explanation, f"{phrase!r} not in {verdict.explanation!r}"


# ---------------------------------------------------------------- the zone appended twice

DOUBLED = [
    pytest.param(Case(RECORDS["dkim"], {f"{DKIM_NAME}.example.com": [("TXT", DKIM_VALUE)]}, MISSING,
                      (f"The record was found at {DKIM_NAME}.example.com", "your DNS provider appends the domain",
                       'Enter only "stackshift._domainkey" as the host',
                       f"delete the record at {DKIM_NAME}.example.com")),
                 id="dkim-key"),
    pytest.param(Case(RECORDS["returnPath"], {"bounces.example.com.example.com": ["CNAME bounces.stackshift.email"]},
                      MISSING, ("The record was found at bounces.example.com.example.com", "appends the domain",
                                'Enter only "bounces" as the host')), id="return-path-cname"),
    pytest.param(Case(RECORDS["dmarc"], {"_dmarc.example.com.example.com": ["TXT v=DMARC1; p=none;"]}, MISSING,
                      ('Enter only "_dmarc" as the host',)), id="dmarc"),
    pytest.param(Case(RECORDS["spf"], {"example.com.example.com": [f"TXT {EXPECTED_SPF}"]}, MISSING,
                      ("The record was found at example.com.example.com", 'Enter only "@" as the host')), id="spf"),
    pytest.param(Case(RECORDS["inbound"], {"inbound.example.com.example.com": ["MX 10 inbound.stackshift.email"]},
                      MISSING, ('Enter only "inbound" as the host',)), id="inbound-mx"),
    # a subdomain's record: the provider may append the zone or the domain the user typed
    pytest.param(Case(SUBDOMAIN["dmarc"], {"_dmarc.mail.example.com.example.com": ["TXT v=DMARC1; p=none;"]},
                      MISSING, ("found at _dmarc.mail.example.com.example.com", 'Enter only "_dmarc.mail" as the host'),
                      domain="mail.example.com"), id="subdomain-zone-appended"),
    pytest.param(Case(SUBDOMAIN["dmarc"], {"_dmarc.mail.example.com.mail.example.com": ["TXT v=DMARC1; p=none;"]},
                      MISSING, ("found at _dmarc.mail.example.com.mail.example.com",), domain="mail.example.com"),
                 id="subdomain-domain-appended"),
    # only a record that looks like the one meant is diagnosed
    pytest.param(Case(RECORDS["returnPath"], {"bounces.example.com.example.com": ["CNAME elsewhere.example.net"]},
                      None), id="cname-to-another-target-is-not-it"),
    pytest.param(Case(RECORDS["dkim"], {f"{DKIM_NAME}.example.com": "TIMEOUT"}, None), id="probe-timing-out"),
]


@pytest.mark.parametrize("case", DOUBLED)
def test_record_found_with_the_zone_appended_twice_is_diagnosed(case):
    check(case)


# ---------------------------------------------------------------- the apex instead of the host

APEX = [
    pytest.param(Case(RECORDS["dmarc"], {"example.com": ["TXT v=DMARC1; p=none;"]}, MISSING,
                      ("The record was published at example.com (the apex) instead of _dmarc.example.com",
                       'Publish it with the host "_dmarc"', "delete it from the apex")), id="dmarc"),
    pytest.param(Case(RECORDS["dkim"], {"example.com": [("TXT", DKIM_VALUE)]}, MISSING,
                      ("published at example.com (the apex)", 'with the host "stackshift._domainkey"')), id="dkim-key"),
    pytest.param(Case(RECORDS["inbound"], {"example.com": ["MX 10 inbound.stackshift.email"]}, MISSING,
                      ('published at example.com (the apex) instead of inbound.example.com',
                       'with the host "inbound"')), id="inbound-mx"),
    pytest.param(Case(SUBDOMAIN["dmarc"], {"mail.example.com": ["TXT v=DMARC1; p=none;"]}, MISSING,
                      ("The record was published at mail.example.com", 'with the host "_dmarc.mail"'),
                      domain="mail.example.com"), id="subdomain-dmarc-at-the-domain"),
    # the apex's own records are not the record meant
    pytest.param(Case(RECORDS["dmarc"], {"example.com": ["TXT google-site-verification=abc"]}, None),
                 id="unrelated-txt-at-the-apex"),
    pytest.param(Case(RECORDS["inbound"], {"example.com": ["MX 10 mail.example.com"]}, None),
                 id="the-apex-own-mx"),
    # a CNAME never belongs at the apex (RFC 1034 3.6.2), so the return path is not looked for there
    pytest.param(Case(RECORDS["returnPath"], {"example.com": ["CNAME bounces.stackshift.email"]}, None),
                 id="return-path-not-probed-at-the-apex"),
]


@pytest.mark.parametrize("case", APEX)
def test_record_published_at_the_apex_instead_of_its_host_is_diagnosed(case):
    check(case)


# ---------------------------------------------------------------- another type at the record's own name

WRONG_TYPE = [
    pytest.param(Case(RECORDS["returnPath"], {"bounces.example.com": ["TXT bounces.stackshift.email"]}, FAILED,
                      ("bounces.example.com has a TXT record (bounces.stackshift.email) where a CNAME record is needed",
                       "Delete it and publish CNAME with the value bounces.stackshift.email")), id="txt-for-a-cname"),
    pytest.param(Case(RECORDS["returnPath"], {"bounces.example.com": ["MX 10 bounces.stackshift.email"]}, FAILED,
                      ("has an MX record (bounces.stackshift.email) where a CNAME record is needed",)),
                 id="mx-for-a-cname"),
    pytest.param(Case(RECORDS["inbound"], {"inbound.example.com": ["CNAME inbound.stackshift.email"]}, FAILED,
                      ("inbound.example.com has a CNAME record (inbound.stackshift.email) where an MX record is "
                       "needed",)),
                 id="cname-for-an-mx"),
    pytest.param(Case(RECORDS["inbound"], {"inbound.example.com": ["TXT inbound.stackshift.email"]}, FAILED,
                      ("has a TXT record", "where an MX record is needed")), id="txt-for-an-mx"),
    # RFC 7208 3.1: the SPF record type is obsolete; SPF lives in TXT
    pytest.param(Case(RECORDS["spf"], {"example.com": [f"SPF {EXPECTED_SPF}"]}, FAILED,
                      (f"example.com has an SPF record ({EXPECTED_SPF}) where a TXT record is needed",
                       "(The SPF record type is obsolete; SPF lives in TXT.)")), id="obsolete-spf-type-for-txt"),
    # an apex's addresses and mail servers stand in no one's place
    pytest.param(Case(RECORDS["spf"], {"example.com": ["A 192.0.2.80", "MX 10 mail.example.com"]}, None),
                 id="apex-a-and-mx-beside-a-missing-spf"),
    pytest.param(Case(RECORDS["dmarc"], {"_dmarc.example.com": ["CNAME gone.example.net"]}, None),
                 id="cname-at-dmarc-is-followed-not-a-wrong-type"),
]


@pytest.mark.parametrize("case", WRONG_TYPE)
def test_another_type_at_the_record_own_name_is_a_wrong_type_and_fails(case):
    """One rule for every check: a record of another type at the record's own name stands in its place, so the
    record is `failed` (replace it); `missing` means nothing stands there for it."""
    check(case)


def test_apex_addresses_leave_the_spf_verdict_missing_rfc7208_4_5():
    """With no SPF record, an apex's A and MX records are no diagnosis: the verdict stays "No SPF record"."""
    zone = Zone({"example.com": ["A 192.0.2.80", "MX 10 mail.example.com"]})
    assert diagnosis(zone, RECORDS["spf"]) is None
    verdict = spf_verdict(zone)
    assert verdict.status == MISSING and verdict.explanation.startswith("No SPF record")


def test_probes_ask_the_doubled_names_then_the_apex_then_the_wrong_types():
    assert diagnose.probes(SUBDOMAIN["dmarc"], "example.com", "mail.example.com") == [
        ("_dmarc.mail.example.com.example.com", "TXT"), ("_dmarc.mail.example.com.mail.example.com", "TXT"),
        ("example.com", "TXT"), ("mail.example.com", "TXT")]
    assert diagnose.probes(RECORDS["returnPath"], "example.com", "example.com") == [
        ("bounces.example.com.example.com", "CNAME"), ("bounces.example.com", "TXT"), ("bounces.example.com", "MX"),
        ("bounces.example.com", "A"), ("bounces.example.com", "AAAA")]
    assert diagnose.probes(RECORDS["spf"], "example.com", "example.com") == [
        ("example.com.example.com", "TXT"), ("example.com", "SPF")]


# ---------------------------------------------------------------- value defects

DEFECTS = [
    pytest.param(f'"{EXPECTED_SPF}"', "v=spf1", ("the value contains literal quote characters (\")",
                                                  "Remove the quotes at your DNS provider"), id="quotes"),
    pytest.param('"v=spf1 mx" "include:spf.stackshift.email ~all"', "v=spf1",
                 ('literal quote characters where it was split into strings (" ")', "Paste it without any quotes"),
                 id="quotes-between-strings"),
    pytest.param(f"v=DKIM1; {DKIM_VALUE}", "v=DKIM1", ("the v=DKIM1 tag appears 2 times", "Publish it once"),
                 id="dkim-version-twice"),
    pytest.param("v=DMARC1; v=DMARC1; p=none", "v=DMARC1", ("the v=DMARC1 tag appears 2 times",),
                 id="dmarc-version-twice"),
    pytest.param("v=spf1 V=SPF1 mx ~all", "v=spf1", ("the v=spf1 tag appears 2 times",), id="version-twice-any-case"),
    pytest.param(EXPECTED_SPF, "v=spf1", (), id="spf-as-published"),
    pytest.param(DKIM_VALUE, "v=DKIM1", (), id="dkim-as-published"),
    pytest.param("v=DMARC1; p=none; rua=mailto:v=DMARC1@example.com", "v=DMARC1", (), id="version-inside-a-value"),
]


@pytest.mark.parametrize(("text", "version", "phrases"), DEFECTS)
def test_literal_quotes_and_a_duplicated_version_tag_are_value_defects(text, version, phrases):
    """Quotes pasted into the value field, and a v= tag the provider's form already adds, break the record."""
    defect = diagnose.value_defect(text, version)
    if not phrases:
        assert defect is None
        return
    for phrase in phrases:
        assert phrase in defect, f"{phrase!r} not in {defect!r}"


# ---------------------------------------------------------------- a record name DNS cannot carry


class _NoLookups:
    def __getattr__(self, name):
        raise AssertionError(f"a lookup ({name}) for a name DNS cannot carry")


@pytest.mark.parametrize(("name", "phrase"), [
    pytest.param("a..b.example.com", "a..b.example.com is not a valid DNS name (it has an empty label)",
                 id="empty-label"),
    pytest.param(f"{'x' * 64}.example.com", "(a label of 64 octets; at most 63)", id="label-over-63-octets"),
])
def test_a_record_name_dns_cannot_carry_fails_before_any_lookup_rfc1035_2_3_4(name, phrase):
    from stackshift_cli.verify import engine

    record = DnsRecord("TXT", name, name.removesuffix(".example.com"), "v=DMARC1; p=none;", purpose="dmarc")
    judged = asyncio.run(engine.judge(record, Judging("example.com", (record,), _NoLookups(), "spf.stackshift.email")))
    assert judged.status == FAILED
    assert phrase in judged.explanation and "so it cannot be looked up or published" in judged.explanation
