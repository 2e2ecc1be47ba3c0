"""verify.wire reads answers as lookup._answer reads dnspython's parse of them, or declines (RFC 1035 4.1).

Each answer is built with dnspython (or mangled byte by byte), then read both ways: when wire.read gives a
message, the Answer made of it must equal the Answer made of dnspython's; when dnspython refuses the bytes,
wire.read must decline too.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.verify import wire
from stackshift_cli.verify.answers import Server
from stackshift_cli.verify.lookup import _answer, _quick_answer

SERVER = Server("127.0.0.1", 53)
QNAME = "example.com"


def both(data: bytes, *, recursion: bool = False, rtype: str = "TXT"):
    """(wire's Answer or None, dnspython's Answer or the exception it raised)."""
    quick = wire.read(data)
    mine = _quick_answer(SERVER, QNAME, rtype, quick, recursion=recursion) if quick is not None else None
    try:
        theirs = _answer(SERVER, QNAME, rtype, dns.message.from_wire(data), recursion=recursion)
    except Exception as exc:  # dnspython refuses it
        theirs = exc
    return mine, theirs


def response(*sections: list[tuple[str, int, str, str]], rcode: int = 0, aa: bool = True, edns: bool = True,
             question: str = QNAME, qtype: str = "TXT") -> bytes:
    """An answer with (owner, ttl, type, rdata text) records in the answer, authority and additional sections."""
    query = dns.message.make_query(question + ".", qtype, use_edns=0 if edns else None, payload=1232)
    message = dns.message.make_response(query)
    message.set_rcode(rcode)
    if aa:
        message.flags |= dns.flags.AA
    else:
        message.flags &= ~dns.flags.AA
    for section, records in zip((message.answer, message.authority, message.additional), sections):
        for owner, ttl, rtype, text in records:
            rdata = dns.rdata.from_text("IN", rtype, text)
            section.append(dns.rrset.from_rdata(dns.name.from_text(owner), ttl, rdata))
    return message.to_wire()


KEY = "v=DKIM1; k=rsa; p=" + "A" * 300


@pytest.mark.parametrize("sections", [
    pytest.param(([("example.com", 300, "TXT", '"v=spf1 include:spf.stackshift.email ~all"')], [], []), id="txt"),
    pytest.param(([("example.com", 300, "TXT", " ".join(f'"{KEY[i:i + 255]}"' for i in range(0, len(KEY), 255)))],
                  [], []), id="txt-several-strings"),
    pytest.param(([("example.com", 300, "TXT", '"caf\\195\\169" "\\255\\000"')], [], []), id="txt-not-utf8"),
    pytest.param(([("Example.COM", 300, "CNAME", "Target.Example.NET."),
                   ("target.example.net", 60, "TXT", '"x"')], [], []), id="cname-chain-case"),
    pytest.param(([("example.com", 300, "MX", "10 Inbound.Example.NET."), ("example.com", 300, "MX", "0 .")],
                  [], []), id="mx-and-null-mx"),
    pytest.param(([], [("example.com", 3600, "SOA", "ns1.example.com. host.example.com. 7 3600 600 86400 300")],
                  []), id="negative-with-soa"),
    pytest.param(([], [("sub.example.com", 300, "NS", "ns1.sub.example.com."),
                       ("sub.example.com", 300, "NS", "ns2.elsewhere.net.")],
                  [("ns1.sub.example.com", 300, "A", "192.0.2.1")]), id="referral-with-glue"),
    pytest.param(([("example.com", 300, "TXT", '"a"'), ("EXAMPLE.com", 100, "TXT", '"a"'),
                   ("example.com", 200, "TXT", '"b"')], [], []), id="duplicates-and-smallest-ttl"),
    pytest.param(([("example.com", 300, "CNAME", "a.example.net."), ("example.com", 100, "CNAME", "b.example.net.")],
                  [], []), id="singleton-keeps-the-last"),
    pytest.param(([("example.com", 300, "DNAME", "Other.Example.")], [], []), id="dname"),
    pytest.param(([("weird\\032name\\.with\\$escapes.example.com", 300, "TXT", '"x"')], [], []), id="escaped-owner"),
    pytest.param(([("example.com", 300, "SPF", '"v=spf1 -all"')], [], []), id="spf-type"),
    pytest.param(([("example.com", 300, "PTR", "host.example.")], [], []), id="ptr"),
    pytest.param(([("example.com", 3000000000, "TXT", '"huge ttl"')], [], []), id="ttl-over-2-31-is-0"),
])
@pytest.mark.parametrize("aa", [True, False], ids=["authoritative", "not-authoritative"])
def test_the_quick_reader_agrees_with_dnspython_on_the_answers_checks_read(sections, aa):
    data = response(*sections, aa=aa)
    for recursion in (False, True):
        mine, theirs = both(data, recursion=recursion)
        assert mine is not None
        assert mine == theirs


@pytest.mark.parametrize("rcode", [dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.REFUSED, 11])
def test_every_rcode_of_the_header_is_read_as_dnspython_names_it(rcode):
    mine, theirs = both(response([], [], [], rcode=rcode))
    assert mine is not None and mine == theirs


def mangle(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1:]


OK = response([("example.com", 300, "TXT", '"v=spf1 -all"')], [], [])


@pytest.mark.parametrize("data", [
    pytest.param(response([("example.com", 300, "AAAA", "2001:db8::1")], [], []), id="another-type"),
    pytest.param(OK + b"\x00", id="trailing-bytes"),
    pytest.param(mangle(OK, 2, OK[2] | 0x28), id="opcode-update"),
    pytest.param(OK[:-3], id="cut-short"),
    pytest.param(response([("example.com", 300, "TXT", '"x"')], [], [], rcode=dns.rcode.BADVERS), id="extended-rcode"),
    pytest.param(response([], [], [("example.com", 300, "A", "192.0.2.1")], edns=False)[:-1], id="short-additional"),
])
def test_what_the_quick_reader_does_not_handle_goes_to_dnspython(data):
    assert wire.read(data) is None


def test_a_compression_pointer_forward_or_into_a_loop_is_declined_as_dnspython_refuses_it():
    base = bytearray(OK)
    answer_owner = 12 + len(dns.name.from_text(QNAME).to_wire()) + 4
    for target in (answer_owner, answer_owner + 2, 0x3FFF):
        data = bytes(base[:answer_owner]) + bytes([0xC0 | (target >> 8), target & 0xFF]) + bytes(base[answer_owner + 2:])
        mine, theirs = both(data)
        assert mine is None and isinstance(theirs, Exception)


def test_label_text_escapes_as_dnspython_does_for_every_byte():
    for byte in range(256):
        label = bytes([byte, ord("a")])
        expected = dns.name.Name([label, b""]).to_text(omit_final_dot=True).lower()
        assert wire._owner([label]) == expected, byte


RTYPES = ["TXT", "CNAME", "MX", "NS", "A", "SOA", "PTR", "DNAME", "SPF"]
LABEL = st.text(alphabet="abcXYZ09-_*. \\\"$()@;\x07é", min_size=1, max_size=12).map(
    lambda s: s.encode("utf-8")[:63])


def _rdata(rtype: str, draw) -> str:
    name = draw(st.sampled_from(["a.example.", "A.example.", "b.example.net.", "."]))
    if rtype in ("TXT", "SPF"):
        return " ".join(f'"{s}"' for s in draw(st.lists(st.sampled_from(["x", "X", "", "v=spf1 -all", "é"]),
                                                          min_size=1, max_size=3)))
    if rtype == "MX":
        return f"{draw(st.integers(0, 65535))} {name}"
    if rtype == "A":
        return draw(st.sampled_from(["192.0.2.1", "192.0.2.2", "10.0.0.1"]))
    if rtype == "SOA":
        return f"{name} host.example. {draw(st.integers(0, 2**32 - 1))} 1 2 3 {draw(st.integers(0, 99))}"
    return name


@st.composite
def messages(draw) -> bytes:
    sections = []
    for _ in range(3):
        records = []
        for _ in range(draw(st.integers(0, 4))):
            labels = draw(st.lists(LABEL, min_size=0, max_size=3))
            owner = dns.name.Name([*labels, b""])
            rtype = draw(st.sampled_from(RTYPES))
            records.append((owner.to_text(), draw(st.sampled_from([0, 1, 300, 2**31 + 5])), rtype, _rdata(rtype, draw)))
        sections.append(records)
    return response(*sections, rcode=draw(st.sampled_from([0, 3])), aa=draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(messages(), st.booleans())
def test_any_answer_of_these_types_reads_the_same_both_ways(data, recursion):
    mine, theirs = both(data, recursion=recursion)
    assert mine is not None
    assert mine == theirs


@settings(max_examples=500, deadline=None)
@given(messages(), st.data())
def test_a_mangled_answer_is_declined_or_read_as_dnspython_reads_it(data, extra):
    at = extra.draw(st.integers(0, len(data) - 1))
    changed = mangle(data, at, extra.draw(st.integers(0, 255)))
    cut = extra.draw(st.integers(12, len(changed)))
    for candidate in (changed, changed[:cut]):
        mine, theirs = both(candidate)
        if mine is not None:
            assert mine == theirs
