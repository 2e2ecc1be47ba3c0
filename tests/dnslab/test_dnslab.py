"""Proof that the DNS lab works: real BIND/Unbound/Python servers, real packets on loopback."""

from __future__ import annotations

import base64
import ipaddress
import socket
import struct
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from tests.conftest_dnslab import fresh_tsig_deny_zone, fresh_tsig_zone  # noqa: F401
from tests.dnslab import (
    NEGATIVE_TTL,
    PROP_POOL,
    SINGLE_POOL,
    TSIG_DENY_POOL,
    TSIG_POOL,
    DelayProxy,
    DnsLab,
    LabError,
    split_txt,
)

NAMED_ZONES = ["example.test", "other.test", "example.co.uk", "stackshift.email", "lab.test", "prop.test",
               "mixed.test", *SINGLE_POOL, *PROP_POOL, *TSIG_POOL, *TSIG_DENY_POOL]


def txt_strings(lab: DnsLab, name: str, server: str) -> list[tuple[bytes, ...]]:
    return sorted(tuple(rd.strings) for rd in lab.rdatas(name, "TXT", server))


# ---------------------------------------------------------------------------------------- topology
def test_everything_is_on_loopback(dnslab: DnsLab):
    addrs = [dnslab.resolver_addr, dnslab.root_addr, dnslab.ns1_addr, *dnslab.prop_addrs,
             dnslab.blackhole_addr, dnslab.servfail_addr, dnslab.slow_addr]
    for addr in addrs:
        assert ipaddress.ip_address(addr) in ipaddress.ip_network("127.0.0.0/8")
    assert len(set(addrs)) == len(addrs)
    assert dnslab.resolver == f"127.0.0.1:{dnslab.resolver_port}"
    assert dnslab.port != dnslab.resolver_port and dnslab.port >= 10000
    assert dnslab.startup_seconds is not None and dnslab.startup_seconds < 10  # ~0.4 s on an idle machine


@pytest.mark.parametrize("zone", NAMED_ZONES)
def test_each_zone_answers_soa_and_ns_at_each_of_its_servers(dnslab: DnsLab, zone: str):
    primaries = dnslab.primaries_for(zone)
    assert primaries
    for server in primaries:
        reply = dnslab.query_auth(zone, "SOA", server)
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.flags & dns.flags.AA
        soa = dnslab.rdatas(zone, "SOA", server)[0]
        assert soa.minimum == NEGATIVE_TTL
        assert reply.answer[0].ttl == 300
        ns = sorted(rd.target.to_text() for rd in dnslab.rdatas(zone, "NS", server))
        assert ns == sorted(dnslab.nameservers_for(zone))


def test_ns_names_resolve_to_the_servers_of_the_zone(dnslab: DnsLab):
    for zone in ["example.test", "prop.test", "mixed.test", "dead.test", "servfail.test", "slow.test"]:
        addrs = []
        for ns in dnslab.nameservers_for(zone):
            reply = dnslab.query_resolver(ns, "A")
            addrs += [rd.address for rrset in reply.answer for rd in rrset]
        assert sorted(addrs) == sorted(dnslab.servers_for(zone)), zone
    assert dnslab.servers_for("prop.test") == list(dnslab.prop_addrs)
    assert dnslab.servers_for("dead.test") == [dnslab.blackhole_addr]
    assert dnslab.servers_for("servfail.test") == [dnslab.servfail_addr]
    assert dnslab.servers_for("www.example.co.uk") == [dnslab.ns1_addr]
    assert dnslab.zone_for("a.b.example.co.uk.") == "example.co.uk"


def test_root_zone_delegates_every_lab_zone_and_answers_nxdomain_outside(dnslab: DnsLab):
    reply = dnslab.query_auth("www.example.test", "A", dnslab.root_addr)
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer
    assert [rd.target.to_text() for rd in reply.authority[0]] == ["ns1.lab.test."]
    assert dnslab.query_auth("example.com", "A", dnslab.root_addr).rcode() == dns.rcode.NXDOMAIN


def test_stackshift_email_records(dnslab: DnsLab):
    ns1 = dnslab.ns1_addr
    assert txt_strings(dnslab, "spf.stackshift.email", ns1) == [(b"v=spf1 ip4:192.0.2.0/24 ~all",)]
    assert [rd.address for rd in dnslab.rdatas("bounces.stackshift.email", "A", ns1)] == ["192.0.2.10"]
    assert [rd.address for rd in dnslab.rdatas("inbound.stackshift.email", "A", ns1)] == ["192.0.2.20"]


# ---------------------------------------------------------------------------------------- updates
def test_publish_and_remove_txt(dnslab: DnsLab, fresh_zone: str):
    name = f"_dmarc.{fresh_zone}"
    ns1 = dnslab.ns1_addr
    assert dnslab.query_auth(name, "TXT", ns1).rcode() == dns.rcode.NXDOMAIN
    dnslab.publish(name, "TXT", 'v=DMARC1; p=none; rua="mailto:x@example.test"')
    assert txt_strings(dnslab, name, ns1) == [(b'v=DMARC1; p=none; rua="mailto:x@example.test"',)]
    dnslab.publish(name, "TXT", ["v=DMARC1; ", "p=reject"])  # deliberately multi-string, second record
    assert txt_strings(dnslab, name, ns1) == [
        (b"v=DMARC1; ", b"p=reject"),
        (b'v=DMARC1; p=none; rua="mailto:x@example.test"',),
    ]
    dnslab.remove(name, "TXT", ["v=DMARC1; ", "p=reject"])
    assert len(dnslab.rdatas(name, "TXT", ns1)) == 1
    dnslab.remove(name, "TXT")
    assert dnslab.query_auth(name, "TXT", ns1).rcode() == dns.rcode.NXDOMAIN


def test_long_txt_is_split_into_255_byte_strings(dnslab: DnsLab, fresh_zone: str):
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    name = f"sel._domainkey.{fresh_zone}"
    dnslab.publish(name, "TXT", value)
    (strings,) = txt_strings(dnslab, name, dnslab.ns1_addr)
    assert [len(s) for s in strings] == [255, 255, 108]
    assert b"".join(strings).decode() == value
    assert split_txt("") == [b""]
    with pytest.raises(ValueError):
        split_txt(["x" * 256])
    # over TCP as well (the answer is > 512 bytes with EDNS off; query_auth falls back on TC)
    assert dnslab.query_auth(name, "TXT", tcp=True).answer


def test_publish_cname_mx_a_and_replace(dnslab: DnsLab, fresh_zone: str):
    ns1 = dnslab.ns1_addr
    dnslab.publish(f"mail.{fresh_zone}", "A", "192.0.2.25", "192.0.2.26", ttl=60)
    dnslab.publish(fresh_zone, "MX", f"10 mail.{fresh_zone}", "20 backup.example.test.")
    dnslab.publish(f"em123.{fresh_zone}", "CNAME", "bounces.stackshift.email")
    assert sorted(rd.address for rd in dnslab.rdatas(f"mail.{fresh_zone}", "A", ns1)) == ["192.0.2.25", "192.0.2.26"]
    assert dnslab.query_auth(f"mail.{fresh_zone}", "A", ns1).answer[0].ttl == 60
    mx = sorted((rd.preference, rd.exchange.to_text()) for rd in dnslab.rdatas(fresh_zone, "MX", ns1))
    assert mx == [(10, f"mail.{fresh_zone}."), (20, "backup.example.test.")]
    cname = dnslab.rdatas(f"em123.{fresh_zone}", "CNAME", ns1)
    assert [rd.target.to_text() for rd in cname] == ["bounces.stackshift.email."]
    # the resolver follows the CNAME into another lab zone
    reply = dnslab.query_resolver(f"em123.{fresh_zone}", "A")
    assert [rd.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset] == ["192.0.2.10"]
    dnslab.replace(f"mail.{fresh_zone}", "A", "192.0.2.99")
    assert [rd.address for rd in dnslab.rdatas(f"mail.{fresh_zone}", "A", ns1)] == ["192.0.2.99"]
    dnslab.remove(f"mail.{fresh_zone}")
    assert dnslab.query_auth(f"mail.{fresh_zone}", "A", ns1).rcode() == dns.rcode.NXDOMAIN


def test_conflicting_update_raises(dnslab: DnsLab, fresh_zone: str):
    name = f"www.{fresh_zone}"
    dnslab.publish(name, "A", "192.0.2.1")
    with pytest.raises(LabError, match="does not serve"):
        dnslab.publish(name, "CNAME", "example.test.")  # BIND ignores a CNAME next to other data
    with pytest.raises(LabError, match="not inside any lab zone"):
        dnslab.publish("www.example.com", "A", "192.0.2.1")


def test_raw_dnspython_update_works_too(dnslab: DnsLab, fresh_zone: str):
    update = dns.update.UpdateMessage(fresh_zone)
    update.add(f"raw.{fresh_zone}.", 300, "TXT", '"hello"')
    reply = dns.query.udp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2)
    assert reply.rcode() == dns.rcode.NOERROR
    assert txt_strings(dnslab, f"raw.{fresh_zone}", dnslab.ns1_addr) == [(b"hello",)]


@pytest.mark.parametrize("kind", ["single", "tsig", "tsigdeny"])
def test_release_resets_the_zone(dnslab: DnsLab, kind: str):
    zone = dnslab.acquire_zone(kind)
    dnslab.publish(f"a.{zone}", "A", "192.0.2.1")
    dnslab.publish(zone, "TXT", "apex text")
    dnslab.publish(zone, "NS", "extra.example.test.")
    dnslab.release_zone(zone)
    assert dnslab.query_auth(f"a.{zone}", "A").rcode() == dns.rcode.NXDOMAIN
    assert dnslab.rdatas(zone, "TXT") == []
    assert [rd.target.to_text() for rd in dnslab.rdatas(zone, "NS")] == ["ns1.lab.test."]
    assert dnslab.rdatas(zone, "SOA")


# ---------------------------------------------------------------------------------------- TSIG zones
def signed_update(zone: str, key_name: str, secret: str, algorithm: str = "hmac-sha256") -> dns.update.UpdateMessage:
    """An update signed the way the publish code will sign it: from the key's name, algorithm and base64 text."""
    keyring = dns.tsigkeyring.from_text({key_name: (algorithm, secret)})
    return dns.update.UpdateMessage(zone, keyring=keyring, keyname=key_name, keyalgorithm=dns.tsig.HMAC_SHA256)


def raw_tcp_rcode(message: dns.message.Message, ip: str, port: int) -> int:
    """The rcode of the reply, read from its header: dnspython won't return a reply whose TSIG error is set."""
    wire = message.to_wire()
    data = b""
    with socket.create_connection((ip, port), timeout=2) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        while len(data) < 6:  # length prefix (2), id (2), flags (2)
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {data!r}"
            data += chunk
    return dns.rcode.from_flags(struct.unpack("!H", data[4:6])[0], 0)


def test_tsig_key_is_exposed_and_drawn_per_lab(dnslab: DnsLab):
    assert dnslab.tsig_key_name == "stackshift-lab-key."
    assert dnslab.tsig_algorithm == "hmac-sha256"
    assert len(base64.b64decode(dnslab.tsig_secret, validate=True)) == 32
    assert list(dnslab.tsig_keyring) == [dns.name.from_text(dnslab.tsig_key_name)]


def test_tsig_zone_soa_mname_resolves_to_ns1(dnslab: DnsLab, fresh_tsig_zone: str):
    # The publish code sends its update to the zone's SOA MNAME, found through the resolver.
    soa = dnslab.query_resolver(fresh_tsig_zone, "SOA").answer[0][0]
    assert soa.mname.to_text() == "ns1.lab.test."
    reply = dnslab.query_resolver(soa.mname.to_text(), "A")
    assert [rd.address for rd in reply.answer[0]] == [dnslab.ns1_addr]


def test_tsig_signed_update_succeeds(dnslab: DnsLab, fresh_tsig_zone: str):
    update = signed_update(fresh_tsig_zone, dnslab.tsig_key_name, dnslab.tsig_secret)
    update.add(f"mail.{fresh_tsig_zone}.", 300, "TXT", '"v=spf1 -all"')
    reply = dns.query.tcp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2)
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.had_tsig  # the answer is signed too, and dnspython checked it
    assert txt_strings(dnslab, f"mail.{fresh_tsig_zone}", dnslab.ns1_addr) == [(b"v=spf1 -all",)]
    update = signed_update(fresh_tsig_zone, dnslab.tsig_key_name, dnslab.tsig_secret)
    update.add(f"udp.{fresh_tsig_zone}.", 300, "A", "192.0.2.1")
    assert dns.query.udp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2).rcode() == dns.rcode.NOERROR
    # the lab's own helpers sign by themselves
    dnslab.replace(f"mail.{fresh_tsig_zone}", "TXT", "v=spf1 ~all")
    dnslab.remove(f"udp.{fresh_tsig_zone}")
    assert txt_strings(dnslab, f"mail.{fresh_tsig_zone}", dnslab.ns1_addr) == [(b"v=spf1 ~all",)]
    assert dnslab.query_resolver(f"mail.{fresh_tsig_zone}", "TXT").answer


def test_tsig_zone_refuses_an_unsigned_update(dnslab: DnsLab, fresh_tsig_zone: str):
    update = dns.update.UpdateMessage(fresh_tsig_zone)
    update.add(f"x.{fresh_tsig_zone}.", 300, "TXT", '"unsigned"')
    for send in (dns.query.tcp, dns.query.udp):
        assert send(update, dnslab.ns1_addr, port=dnslab.port, timeout=2).rcode() == dns.rcode.REFUSED
    assert dnslab.query_auth(f"x.{fresh_tsig_zone}", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_tsig_zone_wrong_secret_is_notauth_badsig(dnslab: DnsLab, fresh_tsig_zone: str):
    wrong = base64.b64encode(b"\0" * 32).decode()
    update = signed_update(fresh_tsig_zone, dnslab.tsig_key_name, wrong)
    update.add(f"x.{fresh_tsig_zone}.", 300, "TXT", '"forged"')
    assert raw_tcp_rcode(update, dnslab.ns1_addr, dnslab.port) == dns.rcode.NOTAUTH
    # The reply's TSIG carries error BADSIG; dnspython raises it instead of returning the reply.
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.tcp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2)
    # an unknown key name: NOTAUTH too, error BADKEY
    update = signed_update(fresh_tsig_zone, "no-such-key.", dnslab.tsig_secret)
    update.add(f"x.{fresh_tsig_zone}.", 300, "TXT", '"forged"')
    assert raw_tcp_rcode(update, dnslab.ns1_addr, dnslab.port) == dns.rcode.NOTAUTH
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.tcp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2)
    assert dnslab.query_auth(f"x.{fresh_tsig_zone}", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_tsig_deny_zone_refuses_dmarc_only(dnslab: DnsLab, fresh_tsig_deny_zone: str):
    zone = fresh_tsig_deny_zone
    assert dnslab.spec(zone).deny == (f"_dmarc.{zone}.",)

    def send(*names: str) -> int:
        update = signed_update(zone, dnslab.tsig_key_name, dnslab.tsig_secret)
        for name in names:
            update.add(name, 300, "TXT", '"v=x"')
        return dns.query.tcp(update, dnslab.ns1_addr, port=dnslab.port, timeout=2).rcode()

    assert send(f"{zone}.") == dns.rcode.NOERROR  # SPF at the apex
    assert send(f"sel._domainkey.{zone}.") == dns.rcode.NOERROR  # DKIM
    assert send(f"_dmarc.{zone}.") == dns.rcode.REFUSED  # DMARC: the third change fails
    assert send(f"ok.{zone}.", f"_dmarc.{zone}.") == dns.rcode.REFUSED  # an update is all or nothing
    assert dnslab.query_auth(f"ok.{zone}", "TXT").rcode() == dns.rcode.NXDOMAIN
    assert dnslab.query_auth(f"_dmarc.{zone}", "TXT").rcode() == dns.rcode.NXDOMAIN
    with pytest.raises(LabError, match="REFUSED"):
        dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=none")  # the lab's key is refused as well


# ---------------------------------------------------------------------------------------- two servers
def test_two_server_zone_can_diverge(dnslab: DnsLab, fresh_prop_zone: str):
    nsa, nsb = dnslab.prop_addrs
    assert dnslab.servers_for(fresh_prop_zone) == [nsa, nsb]
    assert dnslab.soa_serial(fresh_prop_zone, nsa) == dnslab.soa_serial(fresh_prop_zone, nsb)
    name = f"_dmarc.{fresh_prop_zone}"
    dnslab.publish(name, "TXT", "v=DMARC1; p=none", servers=[nsa])
    assert dnslab.soa_serial(fresh_prop_zone, nsa) > dnslab.soa_serial(fresh_prop_zone, nsb)
    assert txt_strings(dnslab, name, nsa) == [(b"v=DMARC1; p=none",)]
    assert dnslab.query_auth(name, "TXT", nsb).rcode() == dns.rcode.NXDOMAIN
    dnslab.publish(name, "TXT", "v=DMARC1; p=none", servers=nsb)
    assert txt_strings(dnslab, name, nsb) == [(b"v=DMARC1; p=none",)]


def test_two_server_zone_publish_goes_to_both(dnslab: DnsLab, fresh_prop_zone: str):
    name = f"x.{fresh_prop_zone}"
    dnslab.publish(name, "A", "192.0.2.7")
    for server in dnslab.prop_addrs:
        assert [rd.address for rd in dnslab.rdatas(name, "A", server)] == ["192.0.2.7"]
    serials = {dnslab.soa_serial(fresh_prop_zone, s) for s in dnslab.prop_addrs}
    assert len(serials) == 1


def test_prop_release_realigns_serials(dnslab: DnsLab):
    zone = dnslab.acquire_zone("prop")
    nsa, nsb = dnslab.prop_addrs
    dnslab.publish(f"a.{zone}", "A", "192.0.2.1", servers=[nsa])
    dnslab.publish(f"b.{zone}", "A", "192.0.2.1", servers=[nsa])
    dnslab.release_zone(zone)
    assert dnslab.soa_serial(zone, nsa) == dnslab.soa_serial(zone, nsb)
    assert dnslab.query_auth(f"a.{zone}", "A", nsa).rcode() == dns.rcode.NXDOMAIN


# ---------------------------------------------------------------------------------------- resolver
def test_resolver_resolves_spf_stackshift_email(dnslab: DnsLab):
    reply = dnslab.query_resolver("spf.stackshift.email", "TXT")
    assert reply.rcode() == dns.rcode.NOERROR
    assert [b"".join(rd.strings) for rd in reply.answer[0]] == [b"v=spf1 ip4:192.0.2.0/24 ~all"]
    answer = dnslab.make_resolver().resolve("spf.stackshift.email", "TXT")
    assert answer.rrset is not None and len(answer.rrset) == 1


def test_resolver_answers_nxdomain_outside_the_lab_quickly(dnslab: DnsLab):
    start = time.monotonic()
    for name in ["gmail.com", "example.org", "nonexistent.invalid-tld"]:
        assert dnslab.query_resolver(name, "MX").rcode() == dns.rcode.NXDOMAIN
    assert time.monotonic() - start < 5  # answered by the lab root, no timeouts


def test_resolver_only_ever_talks_to_lab_servers(dnslab: DnsLab):
    for name in ["gmail.com", "spf.stackshift.email", "x.prop.test", "www.servfail.test", "ns1.lab.test"]:
        dnslab.query_resolver(name, "TXT")
    # Unbound's infrastructure cache lists every server address it has sent a query to.
    contacted = [line.split()[0] for line in dnslab.unbound_control("dump_infra").splitlines() if line.strip()]
    assert contacted
    # blackhole and slow too: earlier tests of the session (verify's, on mixed.test, dead.test, slow.test) reach them
    # and pdns: the powerdns fixture's server (tests/dnslab/test_powerdns.py), when it ran earlier in this worker
    lab_servers = {f"{dnslab.addr(host)}@{dnslab.port}" for host in ("root", "ns1", "nsa", "nsb", "servfail",
                                                                      "blackhole", "slow", "pdns")}
    assert set(contacted) <= lab_servers


def test_resolver_lag_negative_cache(dnslab: DnsLab, fresh_zone: str):
    name = f"_dmarc.{fresh_zone}"
    first = dnslab.query_resolver(name, "TXT")
    assert first.rcode() == dns.rcode.NXDOMAIN
    assert 0 < first.authority[0].ttl <= NEGATIVE_TTL  # negative TTL = SOA minimum
    dnslab.publish(name, "TXT", "v=DMARC1; p=none")
    assert dnslab.query_auth(name, "TXT", dnslab.ns1_addr).rcode() == dns.rcode.NOERROR
    assert dnslab.query_resolver(name, "TXT").rcode() == dns.rcode.NXDOMAIN  # still the cached NXDOMAIN
    dnslab.flush_resolver(name)
    reply = dnslab.query_resolver(name, "TXT")
    assert reply.rcode() == dns.rcode.NOERROR
    assert [b"".join(rd.strings) for rd in reply.answer[0]] == [b"v=DMARC1; p=none"]


def test_resolver_caches_positive_answers(dnslab: DnsLab, fresh_zone: str):
    name = f"www.{fresh_zone}"
    dnslab.publish(name, "A", "192.0.2.1")
    assert dnslab.query_resolver(name, "A").answer[0][0].address == "192.0.2.1"
    dnslab.replace(name, "A", "192.0.2.2")
    assert dnslab.query_resolver(name, "A").answer[0][0].address == "192.0.2.1"  # stale until flushed
    dnslab.flush_resolver()
    assert dnslab.query_resolver(name, "A").answer[0][0].address == "192.0.2.2"


def test_resolver_servfail_zone(dnslab: DnsLab):
    assert dnslab.query_resolver("www.servfail.test", "A").rcode() == dns.rcode.SERVFAIL


def test_resolver_mixed_zone_still_answers(dnslab: DnsLab):
    reply = dnslab.query_resolver("mixed.test", "SOA", timeout=10)
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer


# ---------------------------------------------------------------------------------------- oddballs
def test_blackhole_times_out_on_udp_and_tcp(dnslab: DnsLab):
    for tcp in (False, True):
        start = time.monotonic()
        with pytest.raises(dns.exception.Timeout):
            dnslab.query_auth("dead.test", "SOA", tcp=tcp, timeout=0.3)
        assert 0.29 <= time.monotonic() - start < 3
    with pytest.raises(dns.exception.Timeout):
        dnslab.query_auth("mixed.test", "SOA", dnslab.blackhole_addr, timeout=0.3)


def test_servfail_server_on_udp_and_tcp(dnslab: DnsLab):
    for tcp in (False, True):
        reply = dnslab.query_auth("servfail.test", "SOA", tcp=tcp)
        assert reply.rcode() == dns.rcode.SERVFAIL
        assert reply.question[0].name.to_text() == "servfail.test."


def test_slow_zone_is_delayed(dnslab: DnsLab):
    proxy = dnslab.slow_proxy
    assert proxy is not None and proxy.address == (dnslab.slow_addr, dnslab.port)
    for tcp in (False, True):
        start = time.monotonic()
        reply = dnslab.query_auth("slow.test", "SOA", tcp=tcp)
        elapsed = time.monotonic() - start
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer
        assert 0.09 <= elapsed < 3


def test_start_delay_proxy(dnslab: DnsLab):
    proxy = dnslab.start_delay_proxy(dnslab.ns1_addr, delay_ms=300)
    try:
        assert proxy.address[1] == dnslab.port
        start = time.monotonic()
        reply = dnslab.query_auth("example.test", "SOA", proxy.address[0])
        slow = time.monotonic() - start
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer
        assert slow >= 0.29
        proxy.delay_ms = 0
        start = time.monotonic()
        assert dnslab.query_auth("example.test", "SOA", proxy.address[0], tcp=True).answer
        assert time.monotonic() - start < slow
        assert proxy.queries == 2
    finally:
        proxy.stop()


def test_delay_proxy_standalone(dnslab: DnsLab):
    with DelayProxy(upstream=(dnslab.ns1_addr, dnslab.port), listen=("127.0.0.1", 0), delay_ms=50) as proxy:
        ip, port = proxy.address
        start = time.monotonic()
        reply = dns.query.udp(dns.message.make_query("other.test", "SOA"), ip, port=port, timeout=2)
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer
        assert time.monotonic() - start >= 0.045
