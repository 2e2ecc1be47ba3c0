"""Proof that the lab's PowerDNS works: a real pdns_server, its HTTP API, its DNS port and the lab resolver."""

from __future__ import annotations

import ipaddress

import dns.flags
import dns.rcode
import pytest

from tests.conftest_dnslab import fresh_pdns_zone, powerdns  # noqa: F401
from tests.dnslab import DnsLab
from tests.dnslab.powerdns import PDNS_POOL, ApiError, PowerDns

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def answer_texts(reply) -> list[str]:
    return sorted(rd.to_text() for rrset in reply.answer for rd in rrset)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests (under lexicon) honours proxy variables: without them its calls to 127.0.0.1 stay on loopback."""
    for variable in _PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def lexicon_provider(zone: str, url: str, key: str):
    """dns-lexicon's powerdns provider, configured the way the publish feature configures it."""
    from lexicon._private.providers.powerdns import Provider
    from lexicon.config import ConfigResolver

    config = ConfigResolver().with_dict(
        {"provider_name": "powerdns", "domain": zone, "powerdns": {"auth_token": key, "pdns_server": url}}
    )
    return Provider(config)


# ---------------------------------------------------------------------------------------- topology
def test_powerdns_is_on_loopback_inside_the_lab_block(dnslab: DnsLab, powerdns: PowerDns):
    assert powerdns.address == dnslab.addr("pdns") == f"{dnslab.base}.12"
    assert ipaddress.ip_address(powerdns.address) in ipaddress.ip_network("127.0.0.0/8")
    assert powerdns.port == dnslab.port
    assert powerdns.api_url == f"http://127.0.0.1:{powerdns.api_port}"
    assert powerdns.zones == list(PDNS_POOL) == ["pdns1.test", "pdns2.test", "pdns3.test", "pdns4.test"]
    reply = dnslab.query_resolver("pdns.lab.test", "A")
    assert answer_texts(reply) == [powerdns.address]


def test_api_answers_with_the_key_and_refuses_a_wrong_one(powerdns: PowerDns):
    server = powerdns.api("GET", "")
    assert server["daemon_type"] == "authoritative" and server["version"].startswith("4.")
    zones = sorted(z["name"] for z in powerdns.api("GET", "/zones"))
    assert zones == [f"{z}." for z in PDNS_POOL]
    for key in ("wrong-" + powerdns.api_key, ""):
        with pytest.raises(ApiError) as refused:
            powerdns.api("GET", "/zones", key=key)
        assert refused.value.status == 401


@pytest.mark.parametrize("zone", PDNS_POOL)
def test_each_zone_answers_soa_and_ns_at_pdns_and_through_the_resolver(dnslab: DnsLab, powerdns: PowerDns,
                                                                      zone: str):
    for tcp in (False, True):
        reply = powerdns.query(zone, "SOA", tcp=tcp)
        assert reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA
        soa = reply.answer[0][0]
        assert soa.mname.to_text() == "pdns.lab.test." and soa.minimum == 300
        assert reply.answer[0].ttl == 300
    assert answer_texts(powerdns.query(zone, "NS")) == ["pdns.lab.test."]
    reply = dnslab.query_resolver(zone, "SOA")
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer[0][0].mname.to_text() == "pdns.lab.test."


# ---------------------------------------------------------------------------------------- records
def test_a_record_added_through_the_api_is_served(dnslab: DnsLab, powerdns: PowerDns, fresh_pdns_zone: str):
    zone = fresh_pdns_zone
    name = f"_dmarc.{zone}"
    assert powerdns.query(name, "TXT").rcode() == dns.rcode.NXDOMAIN
    serial = powerdns.query(zone, "SOA").answer[0][0].serial
    powerdns.publish(name, "TXT", "v=DMARC1; p=none")
    powerdns.publish(name, "TXT", "second")
    powerdns.publish(f"mail.{zone}", "MX", f"10 mx.{zone}.")
    assert powerdns.records(name, "TXT") == ['"second"', '"v=DMARC1; p=none"']  # the API's format: quoted
    for tcp in (False, True):
        assert answer_texts(powerdns.query(name, "TXT", tcp=tcp)) == ['"second"', '"v=DMARC1; p=none"']
    assert powerdns.query(zone, "SOA").answer[0][0].serial == serial + 3  # soa_edit_api INCREASE
    reply = dnslab.query_resolver(name, "TXT")
    assert reply.rcode() == dns.rcode.NOERROR
    assert answer_texts(reply) == ['"second"', '"v=DMARC1; p=none"']
    assert answer_texts(dnslab.query_resolver(f"mail.{zone}", "MX")) == [f"10 mx.{zone}."]
    long_value = "v=DKIM1; k=rsa; p=" + "A" * 400  # more than one 255-byte string
    powerdns.replace(f"sel._domainkey.{zone}", "TXT", long_value)
    (rdata,) = powerdns.query(f"sel._domainkey.{zone}", "TXT", tcp=True).answer[0]
    assert b"".join(rdata.strings).decode() == long_value
    powerdns.remove(name, "TXT")
    assert powerdns.query(name, "TXT").rcode() == dns.rcode.NXDOMAIN


def test_release_resets_the_pdns_zone(dnslab: DnsLab, powerdns: PowerDns):
    zone = powerdns.acquire_zone()
    powerdns.publish(f"a.{zone}", "A", "192.0.2.1")
    powerdns.publish(zone, "TXT", "apex text")
    powerdns.publish(zone, "NS", "extra.example.test.")
    powerdns.publish(f"sub.{zone}", "NS", "ns.example.test.")
    assert dnslab.query_resolver(f"a.{zone}", "A").answer  # now cached by the resolver
    powerdns.release_zone(zone)
    assert sorted((r["name"], r["type"]) for r in powerdns.rrsets(zone)) == [(f"{zone}.", "NS"), (f"{zone}.", "SOA")]
    assert powerdns.records(zone, "NS") == ["pdns.lab.test."]
    assert powerdns.query(f"a.{zone}", "A").rcode() == dns.rcode.NXDOMAIN
    assert dnslab.query_resolver(f"a.{zone}", "A").rcode() == dns.rcode.NXDOMAIN  # flushed


# ---------------------------------------------------------------------------------------- lexicon
def test_lexicon_powerdns_provider_round_trip(dnslab: DnsLab, powerdns: PowerDns, fresh_pdns_zone: str,
                                              no_proxy_env: None):
    zone = fresh_pdns_zone
    provider = lexicon_provider(zone, powerdns.api_url, powerdns.api_key)
    provider.authenticate()
    assert provider.create_record("TXT", f"x.{zone}", "hello")
    records = provider.list_records("TXT", f"x.{zone}")
    assert [(r["name"], r["content"]) for r in records] == [(f"x.{zone}", "hello")]
    assert powerdns.records(f"x.{zone}", "TXT") == ['"hello"']
    assert answer_texts(powerdns.query(f"x.{zone}", "TXT")) == ['"hello"']
    assert answer_texts(dnslab.query_resolver(f"x.{zone}", "TXT")) == ['"hello"']
    assert provider.delete_record(None, "TXT", f"x.{zone}", "hello")
    assert provider.list_records("TXT", f"x.{zone}") == []
    assert powerdns.query(f"x.{zone}", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_lexicon_with_a_wrong_key_gets_401(powerdns: PowerDns, fresh_pdns_zone: str, no_proxy_env: None):
    import requests

    provider = lexicon_provider(fresh_pdns_zone, powerdns.api_url, "wrong-key")
    with pytest.raises(requests.HTTPError) as refused:
        provider.authenticate()
    assert refused.value.response.status_code == 401
