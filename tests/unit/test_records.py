"""The sending profile's records: names, hosts, values, and the inbound MX."""

from __future__ import annotations

import pytest

from stackshift_cli.records import SendingProfile, build_records, normalize_selector, relative_host
from stackshift_cli.errors import UsageError


def _records(name="example.com", **kwargs):
    profile = kwargs.pop("profile", SendingProfile())
    return build_records(name, selector=kwargs.pop("selector", "stackshift"), public_key_b64="PUBKEY",
                         inbound=kwargs.pop("inbound", False), profile=profile)


def test_default_profile_records():
    spf, dkim, dmarc, bounce = _records()
    assert (spf.type, spf.name, spf.host, spf.value) == ("TXT", "example.com", "@",
                                                         "v=spf1 include:spf.stackshift.email ~all")
    assert (dkim.type, dkim.name, dkim.host, dkim.value) == (
        "TXT", "stackshift._domainkey.example.com", "stackshift._domainkey", "v=DKIM1; k=rsa; p=PUBKEY")
    assert (dmarc.type, dmarc.name, dmarc.host, dmarc.value) == ("TXT", "_dmarc.example.com", "_dmarc",
                                                                 "v=DMARC1; p=none;")
    assert (bounce.type, bounce.name, bounce.host, bounce.value) == (
        "CNAME", "bounces.example.com", "bounces", "bounces.stackshift.email")
    assert [r.purpose for r in (spf, dkim, dmarc, bounce)] == ["spf", "dkim", "dmarc", "returnPath"]
    assert all(r.required and r.status == "missing" and r.explanation is None for r in (spf, dkim, dmarc, bounce))


def test_inbound_adds_an_optional_mx():
    mx = _records(inbound=True)[-1]
    assert (mx.type, mx.name, mx.host, mx.value, mx.priority, mx.required, mx.purpose) == (
        "MX", "inbound.example.com", "inbound", "inbound.stackshift.email", 10, False, "inbound")


def test_hosts_are_relative_to_the_registrable_domain():
    records = _records("mail.example.co.uk")
    assert [r.host for r in records] == ["mail", "stackshift._domainkey.mail", "_dmarc.mail", "bounces.mail"]
    assert relative_host("example.co.uk", "example.co.uk") == "@"


def test_dmarc_rua_and_policy_come_from_the_profile():
    profile = SendingProfile(dmarc_policy="quarantine", dmarc_rua="dmarc@example.com")
    dmarc = _records(profile=profile)[2]
    assert dmarc.value == "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com;"


def test_selector_is_used_in_the_dkim_name():
    assert _records(selector="s2026")[1].name == "s2026._domainkey.example.com"


@pytest.mark.parametrize("bad", ["", "-x", "a_b", "a..b", "x" * 64, "sp ace"])
def test_invalid_selectors_are_refused(bad):
    with pytest.raises(UsageError):
        normalize_selector(bad)


def test_json_has_the_documented_fields():
    data = _records(inbound=True)
    assert set(data[0].to_json()) == {"type", "name", "host", "value", "status", "required", "explanation",
                                      "purpose"}
    assert data[-1].to_json()["priority"] == 10
