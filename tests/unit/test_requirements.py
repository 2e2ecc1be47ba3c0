"""The bulk-sender requirements (Gmail, Yahoo, Outlook) that `domains show` prints, from a checked domain."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from stackshift_cli.domain import DnsRecord, Domain
from stackshift_cli.requirements import DmarcFacts, Requirement, dumps, loads, requirements

CHECKED = datetime(2026, 11, 29, tzinfo=timezone.utc)


def domain(spf="verified", dkim="verified", dmarc="verified", return_path="verified", *, checked=True) -> Domain:
    records = (
        DnsRecord("TXT", "example.com", "@", "v=spf1 include:spf.stackshift.email ~all", "spf", status=spf),
        DnsRecord("TXT", "stackshift._domainkey.example.com", "x", "v=DKIM1; p=x", "dkim", status=dkim),
        DnsRecord("TXT", "_dmarc.example.com", "_dmarc", "v=DMARC1; p=none;", "dmarc", status=dmarc),
        DnsRecord("CNAME", "bounces.example.com", "bounces", "bounces.stackshift.email", "returnPath",
                  status=return_path),
    )
    return Domain("dom_1", "example.com", records=records, last_checked_at=CHECKED if checked else None)


def met(found) -> dict[str, bool | None]:
    return {r.key: r.met for r in found}


@pytest.mark.parametrize("checked, facts, expected, phrase", [
    pytest.param(domain(), DmarcFacts("_dmarc.example.com", "none"),
                 {"spf": True, "dkim": True, "dmarc": True, "alignment": True},
                 "SPF aligns through the return path bounces.example.com (aspf=r)", id="all-met"),
    pytest.param(domain(), DmarcFacts("_dmarc.example.com", "reject", aspf="s"),
                 {"spf": True, "dkim": True, "dmarc": True, "alignment": True},
                 "SPF cannot align: aspf=s requires the return path to be example.com itself", id="aspf-strict"),
    pytest.param(domain(dkim="missing"), DmarcFacts("_dmarc.example.com", "none", aspf="s"),
                 {"spf": True, "dkim": False, "dmarc": True, "alignment": False},
                 "DKIM cannot align until its key is verified", id="nothing-aligns"),
    pytest.param(domain(dmarc="missing", return_path="failed"), None,
                 {"spf": True, "dkim": True, "dmarc": False, "alignment": True},
                 "SPF cannot align until SPF and the return path are verified", id="dkim-alone-aligns"),
    pytest.param(domain(checked=False), None,
                 {"spf": None, "dkim": None, "dmarc": None, "alignment": None}, "not checked yet", id="never-checked"),
])
def test_each_requirement_is_met_by_what_dns_shows(checked, facts, expected, phrase):
    found = requirements(checked, facts)
    assert [r.key for r in found] == ["spf", "dkim", "dmarc", "alignment"]
    assert met(found) == expected
    assert any(phrase in r.detail for r in found)


def test_dmarc_detail_names_the_record_that_applies():
    found = requirements(domain(), DmarcFacts("_dmarc.example.org", "quarantine", own=False))
    assert found[2].detail == "p=quarantine from _dmarc.example.org (the record it inherits)"


def test_an_api_domain_without_record_purposes_uses_its_check_statuses():
    api = Domain("dom_1", "example.com", last_checked_at=CHECKED,
                 check_statuses={"spfStatus": "verified", "dkimStatus": "failed", "dmarcStatus": "verified",
                                 "returnPathStatus": "verified"})
    assert met(requirements(api)) == {"spf": True, "dkim": False, "dmarc": True, "alignment": True}


def test_requirements_survive_the_store_and_damaged_rows_are_dropped():
    found = requirements(domain(), DmarcFacts("_dmarc.example.com", "none"))
    assert loads(dumps(found)) == found
    assert loads("[]") == () and loads(None) == () and loads("x" * 30_000) == ()
    assert Requirement.from_json({"requirement": "spf", "met": 1, "description": "d", "detail": "x"}) is None
