"""The lab's hostile server answers as its rules say, relays the rest, and stays on loopback."""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.dnslab.hostile import delegation, nodata, silent, start_hostile, truncated_then_closed, under


@pytest.fixture
def hostile(dnslab):
    server = start_hostile(dnslab)
    yield server
    server.stop()


def ask(server, name: str, rtype: str, *, rd: bool = True, timeout: float = 2.0, tcp: bool = False):
    query = dns.message.make_query(name, rtype)
    if not rd:
        query.flags &= ~dns.flags.RD
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, server.address[0], timeout=timeout, port=server.address[1])


def test_it_listens_on_a_lab_address_at_the_lab_port(hostile, dnslab):
    address, port = hostile.address
    assert ipaddress.ip_address(address).is_loopback and address.startswith(dnslab.base + ".")
    assert int(address.rsplit(".", 1)[1]) in range(60, 80) and port == dnslab.port


def test_queries_no_rule_matches_are_relayed_to_the_lab_resolver(hostile, dnslab):
    answer = ask(hostile, "spf.stackshift.email", "TXT")
    assert answer.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for rrset in answer.answer for r in rrset] == ['"v=spf1 ip4:192.0.2.0/24 ~all"']
    assert ask(hostile, "spf.stackshift.email", "TXT", tcp=True).answer == answer.answer
    assert [(q.name, q.type, q.transport) for q in hostile.log] == [("spf.stackshift.email", "TXT", "udp"),
                                                                    ("spf.stackshift.email", "TXT", "tcp")]


def test_nodata_puts_the_soa_owner_given_in_the_authority_section(hostile):
    hostile.rule(under("loop.test"), nodata(soa_owner=lambda name: "x.loop.test" if name == "loop.test"
                                            else "loop.test"))
    for name, owner in (("loop.test", "x.loop.test."), ("x.loop.test", "loop.test.")):
        answer = ask(hostile, name, "NS")
        assert answer.rcode() == dns.rcode.NOERROR and not answer.answer
        assert [(rrset.name.to_text(), rrset.rdtype) for rrset in answer.authority] == [(owner, dns.rdatatype.SOA)]


def test_rules_match_by_name_type_and_rd_and_the_first_wins(hostile):
    hostile.rule(under("d.test", "NS", rd=True), delegation("d.test", "ns.d.test", "127.0.0.1"))
    hostile.rule(under("d.test"), nodata(soa_owner="d.test"))
    answer = ask(hostile, "d.test", "NS")
    assert [r.to_text() for rrset in answer.answer for r in rrset] == ["ns.d.test."]
    assert [r.to_text() for rrset in answer.additional for r in rrset] == ["127.0.0.1"]
    assert not ask(hostile, "d.test", "NS", rd=False).answer  # RD=0: the second rule


def test_truncated_then_closed_makes_dnspython_raise_eof_on_the_tcp_retry(hostile):
    hostile.rule(under("tc.test"), truncated_then_closed())
    assert ask(hostile, "tc.test", "TXT").flags & dns.flags.TC
    with pytest.raises(EOFError):
        dns.query.udp_with_fallback(dns.message.make_query("tc.test", "TXT"), hostile.address[0], timeout=2,
                                    port=hostile.address[1])
    assert [(q.name, q.transport) for q in hostile.log][-2:] == [("tc.test", "udp"), ("tc.test", "tcp")]


@pytest.mark.parametrize("tcp", [False, True])
def test_silent_never_answers(hostile, tcp):
    hostile.rule(under("quiet.test"), silent())
    with pytest.raises(dns.exception.Timeout):
        ask(hostile, "quiet.test", "A", timeout=0.3, tcp=tcp)
    assert len(hostile.received(under("quiet.test"))) == 1
