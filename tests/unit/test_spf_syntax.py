"""The SPF record grammar (RFC 7208 section 12, the collected ABNF), one table per production (pure).

Each invalid case asserts the term that is wrong (its number) and a key phrase of the reason; positions in
`Problem.describe()` are 1-based characters, counted by hand in the tables below.
"""

from __future__ import annotations

import ipaddress
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.checks.spf_syntax import Record, expand, is_spf, parse

PREFIX = "v=spf1 "  # the first term starts at offset 7, character 8


def spf(terms: str) -> Record:
    return parse(PREFIX + terms)


def assert_one_problem(record: Record, index: int, phrase: str) -> None:
    assert not record.valid
    assert [p.index for p in record.problems] == [index], record.problems
    assert phrase in record.problems[0].message, record.problems[0].message
    assert index not in [t.index for t in record.terms]  # an invalid term is not a term


def assert_single_term(record: Record, text: str):
    assert record.valid, [p.describe() for p in record.problems]
    assert [t.text for t in record.terms] == [text]
    return record.terms[0]


def ids(rows) -> list[str]:
    return [row[0] if isinstance(row, tuple) else row for row in rows]


# ---------------------------------------------------------------------------------------------------------------
# record = version terms *SP ; version = "v=spf1"  (RFC 7208 4.5, 12)

IS_SPF = [
    ("v=spf1", True),
    ("v=spf1 ", True),
    ("v=spf1 mx -all", True),
    ("V=SPF1", True),  # ABNF strings are case-insensitive
    ("v=SpF1 mx", True),
    ("V=Spf1 -all", True),
    ("v=spf1   ", True),  # trailing spaces (4.6.1)
    ("v=spf1  mx   -all", True),  # several spaces between terms
    ("v=spf10", False),  # another version, not SPF
    ("v=spf1mx", False),  # no space after the version
    ("v=spf1-all", False),
    ("v=spf1\tmx", False),  # only SP separates (4.6.1)
    ("v=spf1\r\nmx", False),
    (" v=spf1", False),  # must start the record
    ("v=spf", False),
    ("v=spf2 mx", False),
    ("spf2.0/pra mx", False),
    ("v=DMARC1; p=none", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "expected"), IS_SPF, ids=[repr(row[0]) for row in IS_SPF])
def test_record_version_is_spf(text, expected):
    """RFC 7208 4.5: 'v=spf1' in any case, then a space or the end of the record."""
    assert is_spf(text) is expected


# ---------------------------------------------------------------------------------------------------------------
# terms = *( 1*SP ( directive / modifier ) )  (RFC 7208 4.6.1)

TERM_SPLITS = [
    ("v=spf1", [], []),
    ("v=spf1 ", [], []),
    ("v=spf1 mx -all", ["mx", "-all"], [7, 10]),
    ("v=spf1  mx   -all  ", ["mx", "-all"], [8, 13]),
    ("V=SPF1 MX ~ALL", ["MX", "~ALL"], [7, 10]),
    ("v=spf1 a mx include:_spf.example.com ip4:192.0.2.0/24 -all",
     ["a", "mx", "include:_spf.example.com", "ip4:192.0.2.0/24", "-all"], [7, 9, 12, 37, 54]),
]


@pytest.mark.parametrize(("text", "terms", "offsets"), TERM_SPLITS, ids=[repr(row[0]) for row in TERM_SPLITS])
def test_terms_are_separated_by_spaces(text, terms, offsets):
    """RFC 7208 4.6.1: terms are separated by one or more spaces; trailing spaces are allowed."""
    record = parse(text)
    assert record.valid
    assert [t.text for t in record.terms] == terms
    assert [t.offset for t in record.terms] == offsets
    assert [t.index for t in record.terms] == list(range(1, len(terms) + 1))


# (record, term number, raw character, how describe() shows it, key phrase)
BAD_CHARACTERS = [
    pytest.param("v=spf1 mx\r\n-all", 1, "\r", "\\r", "only spaces may separate", id="CRLF"),
    pytest.param("v=spf1 mx\n-all", 1, "\n", "\\n", "only spaces may separate", id="LF"),
    pytest.param("v=spf1 mx\t-all", 1, "\t", "\\t", "only spaces may separate", id="tab"),
    pytest.param("v=spf1 mx\x0b-all", 1, "\x0b", "\\x0b", "only spaces may separate", id="VT"),
    pytest.param("v=spf1 mx\x0c-all", 1, "\x0c", "\\x0c", "only spaces may separate", id="FF"),
    pytest.param("v=spf1 mx -all\r\n", 2, "\r", "\\r", "only spaces may separate", id="CRLF-at-end"),
    pytest.param("v=spf1 a:foo.example.com\x00", 1, "\x00", "\\x00", "NUL byte", id="NUL"),
    pytest.param("v=spf1 a:x\x01.example.com", 1, "\x01", "\\x01", "control character", id="SOH"),
    pytest.param("v=spf1 a:x\x1b[31m.example.com", 1, "\x1b", "\\x1b", "control character", id="ESC"),
    pytest.param("v=spf1 a:x\x7f.example.com", 1, "\x7f", "\\x7f", "control character", id="DEL"),
    pytest.param("v=spf1 a:ex\udc96ample.com", 1, "\udc96", "\\x96", "not ASCII", id="byte-0x96"),
    pytest.param("v=spf1 mx a:ex\udcffample.com", 2, "\udcff", "\\xff", "not ASCII", id="byte-0xff"),
    pytest.param("v=spf1 a:x\x85.example.com", 1, "\x85", "\\x85", "not ASCII", id="C1-NEL"),
    pytest.param("v=spf1 mx\u00a0-all", 1, "\u00a0", "\\u00a0", "not ASCII", id="NBSP"),
    pytest.param("v=spf1 mx\u3000-all", 1, "\u3000", "\\u3000", "not ASCII", id="ideographic-space"),
    pytest.param("v=spf1 a:x\u200b.example.com", 1, "\u200b", "\\u200b", "not ASCII", id="zero-width-space"),
    pytest.param("v=spf1 a:x\u202e.example.com", 1, "\u202e", "\\u202e", "not ASCII", id="RTL-override"),
    pytest.param("v=spf1 a:bücher.example", 1, "ü", "ü", "not ASCII", id="non-ASCII-letter"),
]


@pytest.mark.parametrize(("text", "index", "raw", "escaped", "phrase"), BAD_CHARACTERS)
def test_term_characters_are_printable_ascii(text, index, raw, escaped, phrase):
    """RFC 7208 4.6.1 and 12: only SP separates terms; a term holds visible ASCII (%x21-7E) only. The problem
    shows the offending character escaped, never raw."""
    record = parse(text)
    assert_one_problem(record, index, phrase)
    described = record.problems[0].describe()
    assert escaped in record.problems[0].message
    assert escaped in described
    if raw != escaped:
        assert raw not in described


# ---------------------------------------------------------------------------------------------------------------
# directive = [ qualifier ] mechanism ; qualifier = "+" / "-" / "?" / "~"  (RFC 7208 4.6.2, 12)

QUALIFIERS = [
    ("mx", "+", "mx"),  # the default qualifier is "+"
    ("+mx", "+", "mx"),
    ("-mx", "-", "mx"),
    ("~mx", "~", "mx"),
    ("?mx", "?", "mx"),
    ("-ALL", "-", "all"),  # mechanism names are case-insensitive
    ("~Include:example.com", "~", "include"),
    ("?IP4:192.0.2.1", "?", "ip4"),
    ("iP6:2001:db8::1", "+", "ip6"),
    ("+Exists:%{i}.example.com", "+", "exists"),
    ("MX/24", "+", "mx"),
    ("A", "+", "a"),
    ("-Ptr", "-", "ptr"),
]


@pytest.mark.parametrize(("text", "qualifier", "name"), QUALIFIERS, ids=ids(QUALIFIERS))
def test_qualifier_and_mechanism_name(text, qualifier, name):
    """RFC 7208 4.6.2: qualifiers + - ~ ?, "+" when absent; mechanism names are case-insensitive (12)."""
    term = assert_single_term(spf(text), text)
    assert (term.qualifier, term.name, term.modifier) == (qualifier, name, False)


UNKNOWN_TERMS = [
    ("!mx", "neither a mechanism"),
    ("--all", "neither a mechanism"),
    ("+", "neither a mechanism"),
    ("-", "neither a mechanism"),
    ("allow", "neither a mechanism"),
    ("ip5:192.0.2.1", "neither a mechanism"),
    ("a.example.com", "'.' cannot follow 'a'"),
    ("mx-backup.example.com", "'-' cannot follow 'mx'"),
]


@pytest.mark.parametrize(("text", "phrase"), UNKNOWN_TERMS, ids=ids(UNKNOWN_TERMS))
def test_term_is_a_directive_or_modifier(text, phrase):
    """RFC 7208 12: every term is a directive or a modifier; anything else is a syntax error (4.6)."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# all = "all"  (RFC 7208 5.1)

ALL_VALID = [
    ("all", ["+"]),
    ("-all", ["-"]),
    ("~all", ["~"]),
    ("?all", ["?"]),
    ("+all", ["+"]),
    ("ALL", ["+"]),
    ("all -all", ["+", "-"]),  # syntactically fine; the second is never reached
]


@pytest.mark.parametrize(("text", "qualifiers"), ALL_VALID, ids=ids(ALL_VALID))
def test_all_valid(text, qualifiers):
    """RFC 7208 5.1: all takes nothing."""
    record = spf(text)
    assert record.valid
    assert [(t.name, t.qualifier) for t in record.terms] == [("all", q) for q in qualifiers]
    assert record.has_all


ALL_INVALID = [
    ("-all.", "'all' takes nothing after it"),
    ("-all:foobar", "'all' takes no domain or prefix length"),
    ("-all:", "'all' takes no domain or prefix length"),
    ("-all/8", "'all' takes no domain or prefix length"),
    ("all//64", "'all' takes no domain or prefix length"),
]


@pytest.mark.parametrize(("text", "phrase"), ALL_INVALID, ids=ids(ALL_INVALID))
def test_all_invalid(text, phrase):
    """RFC 7208 5.1: all = "all" with no argument and no CIDR length."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# include = "include" ":" domain-spec ; exists = "exists" ":" domain-spec  (RFC 7208 5.2, 5.7)

INCLUDE_EXISTS_VALID = [
    ("include:example.com", "include", "example.com"),
    ("include:_spf.example.com", "include", "_spf.example.com"),
    ("include:example.com.", "include", "example.com."),
    ("Include:_SPF.Example.COM", "include", "_SPF.Example.COM"),
    ("include:_spf.%{d2}", "include", "_spf.%{d2}"),
    ("exists:%{i}.example.com", "exists", "%{i}.example.com"),
    ("exists:%{ir}.%{v}._spf.%{d2}", "exists", "%{ir}.%{v}._spf.%{d2}"),
    ("-exists:%{l}.u.%{d}", "exists", "%{l}.u.%{d}"),
]


@pytest.mark.parametrize(("text", "name", "spec"), INCLUDE_EXISTS_VALID, ids=ids(INCLUDE_EXISTS_VALID))
def test_include_exists_valid(text, name, spec):
    """RFC 7208 5.2, 5.7: include/exists take ':' and a domain-spec."""
    term = assert_single_term(spf(text), text)
    assert (term.name, term.domain_spec, term.cidr4, term.cidr6) == (name, spec, None, None)
    assert term.queries_dns


INCLUDE_EXISTS_INVALID = [
    ("include", "include needs a domain"),
    ("include:", "include has no domain after :"),
    ("include/24", "include needs a domain"),
    ("exists", "exists needs a domain"),
    ("exists:", "exists has no domain after :"),
    ("include:x.example.com/24", "include takes no prefix length (/24)"),
    ("include:example.com//64", "include takes no prefix length (//64)"),
    ("include:%{d}/24", "include takes no prefix length (/24)"),
    ("exists:mail.example.com/24", "exists takes no prefix length (/24)"),
    ("include:museum", "needs a dot"),
]


@pytest.mark.parametrize(("text", "phrase"), INCLUDE_EXISTS_INVALID, ids=ids(INCLUDE_EXISTS_INVALID))
def test_include_exists_invalid(text, phrase):
    """RFC 7208 5.2, 5.7: the domain-spec is required and there is no dual-cidr-length."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# a = "a" [ ":" domain-spec ] [ dual-cidr-length ] ; mx likewise
# dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]  (RFC 7208 5.3, 5.4, 5.6)

A_MX_VALID = [
    ("a", "a", None, None, None),
    ("mx", "mx", None, None, None),
    ("a/24", "a", None, 24, None),
    ("a//64", "a", None, None, 64),
    ("a/24//64", "a", None, 24, 64),
    ("a/0", "a", None, 0, None),
    ("a//0", "a", None, None, 0),
    ("a/32//128", "a", None, 32, 128),
    ("mx/24//64", "mx", None, 24, 64),
    ("a:example.com", "a", "example.com", None, None),
    ("A:Example.COM/24", "a", "Example.COM", 24, None),  # the domain keeps its case
    ("mx:example.com//64", "mx", "example.com", None, 64),
    ("a:example.com/24//64", "a", "example.com", 24, 64),
    ("a:foo:bar/baz.example.com/24", "a", "foo:bar/baz.example.com", 24, None),
    ("mx:%{d}/24", "mx", "%{d}", 24, None),
]


@pytest.mark.parametrize(("text", "name", "spec", "cidr4", "cidr6"), A_MX_VALID, ids=ids(A_MX_VALID))
def test_a_mx_dual_cidr_length_valid(text, name, spec, cidr4, cidr6):
    """RFC 7208 5.3, 5.4: optional ':domain-spec', then /N (0-32) and //N (0-128), in that order."""
    term = assert_single_term(spf(text), text)
    assert (term.name, term.domain_spec, term.cidr4, term.cidr6, term.network) == (name, spec, cidr4, cidr6, None)


A_MX_INVALID = [
    ("a/33", "the prefix length must be 0–32"),
    ("a//129", "the prefix length must be 0–128"),
    ("mx/33", "the prefix length must be 0–32"),
    ("mx//129", "the prefix length must be 0–128"),
    ("a/100", "the prefix length must be 0–32"),
    ("a:example.com/33", "the prefix length must be 0–32"),
    ("mx:example.com//129", "the prefix length must be 0–128"),
    ("a/24/64", "is not a prefix length"),  # the IPv6 length is //N
    ("a//64/24", "is not a prefix length"),  # and comes second
    ("a/", "is not a prefix length"),
    ("a//", "is not a prefix length"),
    ("a/-1", "is not a prefix length"),
    ("a/032", "no leading zeros"),
    ("a//064", "no leading zeros"),
    ("a:", "a has no domain after :"),
    ("mx:", "mx has no domain after :"),
    ("mx:/24", "mx has no domain after :"),
]


@pytest.mark.parametrize(("text", "phrase"), A_MX_INVALID, ids=ids(A_MX_INVALID))
def test_a_mx_dual_cidr_length_invalid(text, phrase):
    """RFC 7208 5.3, 5.4, 12: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), at most 32; ip6 at most 128."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# ptr = "ptr" [ ":" domain-spec ]  (RFC 7208 5.5)

PTR_VALID = [
    ("ptr", None),
    ("ptr:example.com", "example.com"),
    ("-PTR:%{d}", "%{d}"),
]


@pytest.mark.parametrize(("text", "spec"), PTR_VALID, ids=ids(PTR_VALID))
def test_ptr_valid(text, spec):
    """RFC 7208 5.5: ptr with an optional ':domain-spec'."""
    term = assert_single_term(spf(text), text)
    assert (term.name, term.domain_spec, term.cidr4, term.cidr6) == ("ptr", spec, None, None)


PTR_INVALID = [
    ("ptr/0", "ptr takes no prefix length"),
    ("ptr//64", "ptr takes no prefix length"),
    ("ptr:", "ptr has no domain after :"),
    ("ptr:museum", "needs a dot"),
    ("ptr:example.com/24", "a top-level name holds only letters, digits and hyphens"),
]


@pytest.mark.parametrize(("text", "phrase"), PTR_INVALID, ids=ids(PTR_INVALID))
def test_ptr_invalid(text, phrase):
    """RFC 7208 5.5: ptr takes no CIDR length, and ':' needs a domain-spec."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]
# ip6 = "ip6" ":" ip6-network [ ip6-cidr-length ]  (RFC 7208 5.6)

IP4_VALID = [
    ("ip4:1.2.3.4", "1.2.3.4/32", None),
    ("ip4:1.2.3.4/0", "0.0.0.0/0", 0),
    ("ip4:1.2.3.4/32", "1.2.3.4/32", 32),
    ("ip4:192.0.2.0/24", "192.0.2.0/24", 24),
    ("ip4:192.0.2.77/24", "192.0.2.0/24", 24),  # host bits set: the network is still 192.0.2.0/24
    ("ip4:255.255.255.255", "255.255.255.255/32", None),
    ("ip4:0.0.0.0/0", "0.0.0.0/0", 0),
    ("-IP4:10.0.0.0/8", "10.0.0.0/8", 8),
]


@pytest.mark.parametrize(("text", "network", "cidr4"), IP4_VALID, ids=ids(IP4_VALID))
def test_ip4_valid(text, network, cidr4):
    """RFC 7208 5.6: a dotted quad, then an optional /0-32."""
    term = assert_single_term(spf(text), text)
    assert term.name == "ip4"
    assert term.network == ipaddress.IPv4Network(network)
    assert (term.cidr4, term.cidr6, term.domain_spec) == (cidr4, None, None)


IP4_INVALID = [
    ("ip4:1.2.3.4/33", "the prefix length must be 0–32"),
    ("ip4:1.2.3.4/100", "the prefix length must be 0–32"),
    ("ip4:1.2.3.4/032", "no leading zeros"),
    ("ip4:1.2.3.4/", "is not a prefix length"),
    ("ip4:1.2.3.4/abc", "is not a prefix length"),
    ("ip4:1.2.3.4//32", "//N is only for a and mx"),
    ("ip4:1.2.3", "1.2.3 is not a full IPv4 address"),
    ("ip4:10", "10 is not a full IPv4 address"),
    ("ip4:1.2.3.4:8080", "1.2.3.4 is followed by a port (:8080)"),
    ("ip4:01.2.3.4", "01.2.3.4 is not an IPv4 address"),  # qnum has no leading zeros
    ("ip4:256.1.1.1", "256.1.1.1 is not an IPv4 address"),
    ("ip4:1.2.3.4.5", "is not an IPv4 address"),
    ("ip4:example.com", "example.com is not an IPv4 address"),
    ("ip4:::1", "is not an IPv4 address"),
    ("ip4", "ip4 needs an address"),
    ("ip4:", "ip4 needs an address"),
    ("ip4/24", "ip4 needs an address"),
]


@pytest.mark.parametrize(("text", "phrase"), IP4_INVALID, ids=ids(IP4_INVALID))
def test_ip4_invalid(text, phrase):
    """RFC 7208 5.6, 12: ip4-network = qnum "." qnum "." qnum "." qnum; one ip4-cidr-length."""
    assert_one_problem(spf(text), 1, phrase)


IP6_VALID = [
    ("ip6:::192.0.2.1/0", "::/0", 0),
    ("ip6:Cafe:Babe:8000::/33", "cafe:babe:8000::/33", 33),
    ("ip6:2001:db8::/32", "2001:db8::/32", 32),
    ("ip6:::1", "::1/128", None),
    ("ip6:2001:db8::1/128", "2001:db8::1/128", 128),
    ("ip6:::/0", "::/0", 0),
    ("ip6:::ffff:192.0.2.1", "::ffff:c000:201/128", None),
    ("~IP6:2001:DB8::/48", "2001:db8::/48", 48),
]


@pytest.mark.parametrize(("text", "network", "cidr6"), IP6_VALID, ids=ids(IP6_VALID))
def test_ip6_valid(text, network, cidr6):
    """RFC 7208 5.6: an RFC 4291 address, then an optional /0-128."""
    term = assert_single_term(spf(text), text)
    assert term.name == "ip6"
    assert term.network == ipaddress.IPv6Network(network)
    assert (term.cidr4, term.cidr6, term.domain_spec) == (None, cidr6, None)


IP6_INVALID = [
    ("ip6::CAFE::BABE", ":CAFE::BABE is not an IPv6 address"),
    ("ip6:::192.0.2.1/129", "the prefix length must be 0–128"),
    ("ip6:::1/1000", "the prefix length must be 0–128"),
    ("ip6:::1/0128", "no leading zeros"),
    ("ip6:2001:db8::/", "is not a prefix length"),
    ("ip6:::192.0.2.1//33", "//N is only for a and mx"),
    ("ip6:fe80::1%eth0", "fe80::1%eth0 is not an IPv6 address"),  # a zone index
    ("ip6:1.2.3.4", "1.2.3.4 is not an IPv6 address"),
    ("ip6:2001:db8:::1", "is not an IPv6 address"),
    ("ip6", "ip6 needs an address"),
    ("ip6:", "ip6 needs an address"),
]


@pytest.mark.parametrize(("text", "phrase"), IP6_INVALID, ids=ids(IP6_INVALID))
def test_ip6_invalid(text, phrase):
    """RFC 7208 5.6, 12: ip6-network per RFC 4291 2.2 (no zone index); one ip6-cidr-length."""
    assert_one_problem(spf(text), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# domain-spec = macro-string domain-end
# domain-end = ( "." toplabel [ "." ] ) / macro-expand
# toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )  (RFC 7208 7.1)

LABEL_63 = "x" * 63
NAME_253 = ".".join([LABEL_63] * 3) + "." + "y" * 57 + ".com"  # 3*63 + 3 + 57 + 4 = 253 octets
NAME_254 = ".".join([LABEL_63] * 3) + "." + "y" * 58 + ".com"
assert (len(NAME_253), len(NAME_254)) == (253, 254)

DOMAIN_SPEC_VALID = [
    pytest.param("foo:bar/baz.example.com", id="any-visible-character-but-percent"),
    pytest.param("foo.example.xn--zckzah", id="toplabel-with-dashes"),
    pytest.param("example.com.", id="trailing-dot"),
    pytest.param("_spf.example.com", id="underscore-label"),
    pytest.param("a-b.example.com", id="hyphen-in-label"),
    pytest.param("example.a1", id="toplabel-letter-digit"),
    pytest.param("example.1a", id="toplabel-digit-letter"),
    pytest.param("example.123-456", id="toplabel-digits-with-hyphen"),  # the second toplabel alternative
    pytest.param("111.222.33.com", id="numeric-labels-alpha-toplabel"),
    pytest.param(LABEL_63 + ".example.com", id="label-63-octets"),
    pytest.param(NAME_253, id="name-253-octets"),
    pytest.param(NAME_253 + ".", id="name-253-octets-trailing-dot"),
]


@pytest.mark.parametrize("spec", DOMAIN_SPEC_VALID)
def test_domain_spec_valid(spec):
    """RFC 7208 7.1: a macro-string (any visible character but %) ending in "." toplabel ["."]."""
    term = assert_single_term(spf("a:" + spec), "a:" + spec)
    assert term.domain_spec == spec


DOMAIN_SPEC_INVALID = [
    pytest.param("foo-bar", "foo-bar is not a domain: it needs a dot", id="foo-bar-no-dot"),
    pytest.param("museum", "museum is not a domain: it needs a dot", id="single-label"),
    pytest.param("museum.", "needs a dot and a top-level name", id="single-label-trailing-dot"),
    pytest.param("%{d}com", "needs a dot and a top-level name", id="macro-then-label-without-dot"),
    pytest.param("111.222.33.44", "is an IP address where a domain is needed: write ip4:111.222.33.44",
                 id="ip-address"),
    pytest.param("abc.123", "a top-level name cannot be all digits", id="numeric-toplabel"),
    pytest.param("example.-com", "a label cannot start or end with a hyphen", id="toplabel-leading-hyphen"),
    pytest.param("example.com-", "a label cannot start or end with a hyphen", id="toplabel-trailing-hyphen"),
    pytest.param("example.com:8080", "has a port (:8080)", id="port"),
    pytest.param("example.com/", "a top-level name holds only letters, digits and hyphens", id="trailing-slash"),
    pytest.param("example.com..", "ends in an empty label", id="two-trailing-dots"),
    pytest.param("mail.example...com", "not a valid DNS name (it has an empty label)", id="empty-label"),
    pytest.param(".example.com", "not a valid DNS name (it has an empty label)", id="leading-dot"),
    pytest.param("x" * 64 + ".example.com", "a label of 64 octets", id="label-64-octets"),
    pytest.param(NAME_254, "longer than 253 octets", id="name-254-octets"),
    pytest.param(NAME_254 + ".", "longer than 253 octets", id="name-254-octets-trailing-dot"),
    pytest.param("foo.example.com\x00", "NUL byte", id="NUL"),
]


@pytest.mark.parametrize(("spec", "phrase"), DOMAIN_SPEC_INVALID)
def test_domain_spec_invalid(spec, phrase):
    """RFC 7208 7.1: domain-end needs a dot and a toplabel; a name no DNS can carry is reported too."""
    assert_one_problem(spf("a:" + spec), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# macro-string = *( macro-expand / macro-literal )
# macro-expand = ( "%{" macro-letter transformers *delimiter "}" ) / "%%" / "%_" / "%-"  (RFC 7208 7.1-7.3)

MACRO_VALID = [
    "%{d}",
    "%{d2}",
    "%{D2}",  # upper case: URL-escaped
    "%{dR}",
    "%{d01}",  # transformers = *DIGIT ["r"]
    "%{o}",
    "%{ir}.example.com",
    "%{l2r+-}.example.com",
    "%{H}.example.com",
    "%{s}.example.com",
    "%{p}.example.com",
    "%{v}.example.com",
    "%{d.-+,/_=}",  # every delimiter
    "%%.example.com",
    "%_.example.com",
    "%-.example.com",
    "macro%%percent%_%_space%-url-space.example.com",
    "_spf.%{d2}",  # a domain-spec may end in a macro
    "foo.%%",  # "%%" is a macro-expand too
    "%{ir}.%{v}._spf.%{d2}",
    "%{d" + "1" * 5000 + "}",  # more digits than int() converts (regression)
]


@pytest.mark.parametrize("spec", MACRO_VALID, ids=[s if len(s) < 60 else "d-5000-digit-count" for s in MACRO_VALID])
def test_macro_string_valid(spec):
    """RFC 7208 7.1, 7.2: macro letters s l o d i p h v, digits, 'r', delimiters; %% %_ %- escapes."""
    term = assert_single_term(spf("exists:" + spec), "exists:" + spec)
    assert term.domain_spec == spec


MACRO_INVALID = [
    ("%(ir).example.com", "'%' at '%(i' must start a macro"),
    ("foo%.example.com", "'%' at '%.e' must start a macro"),
    ("foo.example.com%", "'%' at '%' must start a macro"),
    ("%{a}.example.com", "a is not a macro letter"),
    ("%{x}.example.com", "x is not a macro letter"),
    ("%{}.example.com", "is not a macro"),
    ("%{dx}.example.com", "is not a macro"),
    ("%{1d}.example.com", "is not a macro"),
    ("%{d-2}.example.com", "is not a macro"),  # delimiters come after the digits
    ("%{d0}", "the number of labels to keep must be 1 or more"),
    ("%{d00}", "the number of labels to keep must be 1 or more"),
    ("%{d" + "0" * 5000 + "}", "the number of labels to keep must be 1 or more"),  # regression: no ValueError
    ("%{d", "is not closed with '}'"),
    ("%{d.example.com", "is not closed with '}'"),
    ("%{c}.example.com", "allowed only in explanation text"),
    ("%{r}.example.com", "allowed only in explanation text"),
    ("%{t}.example.com", "allowed only in explanation text"),
    ("%{C}.example.com", "allowed only in explanation text"),
    ("%{ir}.%{t}.example.com", "allowed only in explanation text"),
]


@pytest.mark.parametrize(("spec", "phrase"), MACRO_INVALID,
                         ids=[row[0] if len(row[0]) < 60 else "d-5000-zeros" for row in MACRO_INVALID])
def test_macro_string_invalid(spec, phrase):
    """RFC 7208 7.1, 7.2: '%' starts a macro or an escape; c, r and t are for explanation text only."""
    assert_one_problem(spf("exists:" + spec), 1, phrase)


# ---------------------------------------------------------------------------------------------------------------
# modifier = redirect / explanation / unknown-modifier
# redirect = "redirect" "=" domain-spec ; explanation = "exp" "=" domain-spec
# unknown-modifier = name "=" macro-string ; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
# (RFC 7208 6, 6.1, 6.2, 12; appendix A)

MODIFIER_VALID = [
    ("moo.cow-far_out=man:dog/cat", "moo.cow-far_out", None, "man:dog/cat"),
    ("default=pass", "default", None, "pass"),  # obsolete, an unknown modifier now
    ("default=+", "default", None, "+"),
    ("foo=", "foo", None, ""),  # macro-string may be empty
    ("x1-_.y=%{i}%%", "x1-_.y", None, "%{i}%%"),
    ("redirect=_spf.example.com", "redirect", "_spf.example.com", None),
    ("REDIRECT=Example.COM", "redirect", "Example.COM", None),
    ("redirect=%{d}", "redirect", "%{d}", None),
    ("exp=explain.example.com", "exp", "explain.example.com", None),
    ("Exp=%{l}.explain.%{d}", "exp", "%{l}.explain.%{d}", None),
]


@pytest.mark.parametrize(("text", "name", "spec", "value"), MODIFIER_VALID, ids=ids(MODIFIER_VALID))
def test_modifier_valid(text, name, spec, value):
    """RFC 7208 6, 12: redirect= and exp= take a domain-spec, an unknown modifier any macro-string."""
    term = assert_single_term(spf(text), text)
    assert (term.modifier, term.name, term.domain_spec, term.value) == (True, name, spec, value)


MODIFIER_INVALID = [
    ("moo.cow/far_out=man:dog/cat", "neither a mechanism"),
    ("moo.cow:far_out=man:dog/cat", "neither a mechanism"),
    ("1up=foo", "a modifier name must start with a letter"),
    ("=all", "a modifier name must start with a letter"),
    ("_x=1", "a modifier name must start with a letter"),
    ("foo=%abc", "'%' at '%ab' must start a macro"),
    ("foo=%{c}", "allowed only in explanation text"),
    ("redirect=", "redirect= has no domain after ="),
    ("exp=", "exp= has no domain after ="),
    ("redirect=-all", "-all is not a domain"),
    ("exp=-all", "-all is not a domain"),
    ("redirect=example.com/24", "a top-level name holds only letters"),
    ("exp=%{r}.example.com", "allowed only in explanation text"),  # the exp= target is not explanation text
    ("redirect:example.com", "redirect is a modifier and takes '=': write redirect=example.com"),
    ("exp:explain.example.com", "exp is a modifier and takes '=': write exp=explain.example.com"),
    ("-exp=x.example.com", "a modifier takes no qualifier (-); write exp=x.example.com"),
    ("+redirect=x.example.com", "a modifier takes no qualifier (+)"),
    ("~foo=bar", "a modifier takes no qualifier (~)"),
]


@pytest.mark.parametrize(("text", "phrase"), MODIFIER_INVALID, ids=ids(MODIFIER_INVALID))
def test_modifier_invalid(text, phrase):
    """RFC 7208 6, 6.1, 6.2, 12: name = ALPHA *(ALPHA / DIGIT / "-" / "_" / "."), "=", no qualifier."""
    assert_one_problem(spf(text), 1, phrase)


# (terms, the terms that repeat, the first occurrence, the modifier)
MODIFIER_REPEATED = [
    ("redirect=a.example.com redirect=b.example.com", [2], 1, "redirect"),
    ("exp=a.example.com mx exp=b.example.com", [3], 1, "exp"),
    ("REDIRECT=a.example.com Redirect=b.example.com", [2], 1, "redirect"),
    ("mx redirect=a.example.com redirect=b.example.com redirect=c.example.com", [3, 4], 2, "redirect"),
]


@pytest.mark.parametrize(("terms", "repeats", "first", "name"), MODIFIER_REPEATED, ids=ids(MODIFIER_REPEATED))
def test_modifier_redirect_exp_at_most_once(terms, repeats, first, name):
    """RFC 7208 6: redirect= and exp= may each appear at most once."""
    record = spf(terms)
    assert [p.index for p in record.problems] == repeats
    for problem in record.problems:
        assert f"{name}= appears more than once (also term {first})" in problem.message


UNKNOWN_REPEATED = [
    "foo=1 foo=2 FOO=3",
    "redirect=a.example.com exp=b.example.com",
    "x=%{d} x=%{o}",
]


@pytest.mark.parametrize("terms", UNKNOWN_REPEATED)
def test_modifier_unknown_may_repeat(terms):
    """RFC 7208 6: only redirect= and exp= are limited to one; unknown modifiers may repeat."""
    record = spf(terms)
    assert record.valid
    assert all(t.modifier for t in record.terms)


def test_record_accessors():
    """RFC 7208 4.6.4: the terms that cost a DNS lookup; record.modifier() and has_all."""
    record = spf("include:_spf.example.com mx ip4:192.0.2.1 -all redirect=r.example.com foo=bar")
    assert record.valid
    assert [t.name for t in record.mechanisms] == ["include", "mx", "ip4", "all"]
    assert [t.queries_dns for t in record.terms] == [True, True, False, False, True, False]
    assert record.modifier("redirect").domain_spec == "r.example.com"
    assert record.modifier("foo").value == "bar"
    assert record.modifier("exp") is None
    assert record.has_all
    assert not spf("mx").has_all


# ---------------------------------------------------------------------------------------------------------------
# Problem reporting: a syntax error anywhere is a permerror (RFC 7208 4.6), so every problem is reported, in term
# order, each with its term number and 1-based character position. Positions counted by hand:
#   "v=spf1 " is characters 1-7, so the first term after a single space starts at character 8.

PROBLEMS = [
    # "v=spf1 mx a:xy.com ip4:..." : mx 8-9, a:xy.com 11-18, ip4 at 20
    ("v=spf1 mx a:xy.com ip4:1.2.3.4/33",
     [(3, "ip4:1.2.3.4/33", 20, "the prefix length must be 0–32 for an IPv4 address (/33)")]),
    # three spaces after v=spf1: mx 10-11; two spaces: ip4 at 14
    ("v=spf1   mx  ip4:1.2.3.4/33  ",
     [(2, "ip4:1.2.3.4/33", 14, "the prefix length must be 0–32")]),
    # a:museum 8-15, ip4:1.2.3 17-25, mx 27-28, -all. at 30
    ("v=spf1 a:museum ip4:1.2.3 mx -all.",
     [(1, "a:museum", 8, "needs a dot"),
      (2, "ip4:1.2.3", 17, "is not a full IPv4 address"),
      (4, "-all.", 30, "'all' takes nothing after it")]),
    # redirect=a.example.com 8-29, exp=b.example.com 31-47, redirect= at 49
    ("V=SPF1 redirect=a.example.com exp=b.example.com redirect=c.example.com",
     [(3, "redirect=c.example.com", 49, "redirect= appears more than once (also term 1)")]),
    # exp=a.example.com 8-24, ip4:1.2.3.4/33 26-39, exp=b.example.com 41-57, -all/8 at 59: the repeat is
    # reported between the other two
    ("v=spf1 exp=a.example.com ip4:1.2.3.4/33 exp=b.example.com -all/8",
     [(2, "ip4:1.2.3.4/33", 26, "0–32"),
      (3, "exp=b.example.com", 41, "exp= appears more than once (also term 1)"),
      (4, "-all/8", 59, "'all' takes no domain or prefix length")]),
    # "mx\r\n-all" is one term of 8 characters (8-15); a:bad at 17
    ("v=spf1 mx\r\n-all a:bad",
     [(1, "mx\\r\\n-all", 8, "it contains \\r"),
      (2, "a:bad", 17, "needs a dot")]),
    # "ip4:1.2.3.4\tip4:5.6.7.8" is one term of 23 characters (8-30); ptr: at 32
    ("v=spf1 ip4:1.2.3.4\tip4:5.6.7.8 ptr:",
     [(1, "ip4:1.2.3.4\\tip4:5.6.7.8", 8, "it contains \\t"),
      (2, "ptr:", 32, "ptr has no domain after :")]),
    # a:ex\x96ample.com is 14 characters, the byte being one (8-21); include at 23
    ("v=spf1 a:ex\udc96ample.com include",
     [(1, "a:ex\\x96ample.com", 8, "it contains \\x96"),
      (2, "include", 23, "include needs a domain")]),
]


@pytest.mark.parametrize(("text", "expected"), PROBLEMS, ids=[repr(row[0]) for row in PROBLEMS])
def test_problems_all_reported_with_term_and_position(text, expected):
    """RFC 7208 4.6: every problem in the record, in term order, named by term number and character."""
    record = parse(text)
    assert not record.valid
    described = [p.describe() for p in record.problems]
    assert len(described) == len(expected), described
    for line, (index, shown, character, phrase) in zip(described, expected):
        prefix = f'term {index} ("{shown}", at character {character}): '
        assert line.startswith(prefix), line
        assert phrase in line[len(prefix):], line


def test_term_where_names_term_and_position():
    """Term.where uses the same wording as Problem.describe (1-based character)."""
    record = parse("v=spf1 mx a:xy.com ip4:1.2.3.4/32")
    assert [t.where for t in record.terms] == [
        'term 1 ("mx", at character 8)',
        'term 2 ("a:xy.com", at character 11)',
        'term 3 ("ip4:1.2.3.4/32", at character 20)',
    ]


# ---------------------------------------------------------------------------------------------------------------
# expand(): macro expansion as far as the domains alone decide it (RFC 7208 7.3, 7.4)

EXPAND = [
    ("%{d}", "example.com", "sender.example.org", "example.com"),
    ("%{D}", "example.com", "sender.example.org", "example.com"),
    ("%{o}", "example.com", "sender.example.org", "sender.example.org"),
    ("%{d2}", "a.b.example.com", "s.example", "example.com"),
    ("%{d1}", "a.b.example.com", "s.example", "com"),
    ("%{d01}", "a.b.example.com", "s.example", "com"),
    ("%{d9}", "a.b.example.com", "s.example", "a.b.example.com"),  # more than there are: all of them
    ("%{dr}", "a.b.example.com", "s.example", "com.example.b.a"),
    ("%{d2r}", "a.b.example.com", "s.example", "b.a"),  # reverse first, then keep the rightmost 2
    ("%{o-}", "example.com", "foo-bar.example", "foo.bar.example"),  # split on '-', join with '.'
    ("%{o1r-}", "example.com", "strong-bad", "strong"),  # as %{l1r-} in RFC 7208 7.4
    ("%{o+_}", "example.com", "a+b_c.example", "a.b.c.example"),
    ("_spf.%{d2}", "mail.example.com", "s.example", "_spf.example.com"),
    ("%{o}.%{d}", "example.com", "sender.example.org", "sender.example.org.example.com"),
    ("x%%y%_z%-w.%{d}", "example.com", "s.example", "x%y z%20w.example.com"),
    ("%{d}.", "example.com", "s.example", "example.com"),  # the trailing dot is removed
    ("example.com.", "example.com", "s.example", "example.com"),
    ("%{d" + "1" * 5000 + "}", "a.b.example.com", "s.example", "a.b.example.com"),  # regression: no ValueError
]


@pytest.mark.parametrize(("spec", "domain", "sender", "expected"), EXPAND,
                         ids=[row[0] if len(row[0]) < 60 else "d-5000-digit-count" for row in EXPAND])
def test_expand_domain_macros(spec, domain, sender, expected):
    """RFC 7208 7.3: split on the delimiters, reverse with 'r', keep the rightmost N, join with '.'."""
    assert expand(spec, domain=domain, sender_domain=sender) == expected


LABELS_60 = [c * 60 for c in "abcde"]  # 5*60 + 4 = 304 octets
LABELS_63 = [c * 63 for c in "abcd"]  # 4*63 + 3 = 255 octets

TRUNCATE = [
    pytest.param("%{d}", ".".join(LABELS_60), ".".join(LABELS_60[1:]), id="304-octets-drops-one-label"),
    pytest.param("%{d}", ".".join(LABELS_63), ".".join(LABELS_63[1:]), id="255-octets-drops-one-label"),
    # 182 + 1 + 182 = 365 octets: dropping a (304) is not enough, dropping b too (243) is
    pytest.param("%{d}.%{d}", ".".join(LABELS_60[:3]), ".".join(LABELS_60[2:3] + LABELS_60[:3]),
                 id="two-macros-truncated-together"),
    pytest.param("%{d}", NAME_253, NAME_253, id="253-octets-kept"),
]


@pytest.mark.parametrize(("spec", "domain", "expected"), TRUNCATE)
def test_expand_truncates_to_253_octets_from_the_left(spec, domain, expected):
    """RFC 7208 7.3: over 253 characters, whole labels are removed from the left until it fits."""
    result = expand(spec, domain=domain, sender_domain="s.example")
    assert result == expected
    assert len(result) <= 253


SENDER_DEPENDENT = [
    "%{i}.example.com",
    "%{s}.example.com",
    "%{l}.example.com",
    "%{h}.example.com",
    "%{p}.example.com",
    "%{v}.example.com",
    "%{ir}.%{v}._spf.%{d2}",
    "%{d}.%{I}",
]


@pytest.mark.parametrize("spec", SENDER_DEPENDENT)
def test_expand_sender_dependent_is_none(spec):
    """RFC 7208 7.3: i, s, l, h, p and v depend on the SMTP session; the domains alone cannot expand them."""
    assert expand(spec, domain="example.com", sender_domain="s.example") is None


@pytest.mark.parametrize("spec", ["%{q}.example.com", "%{r}.example.com", "%{d0}", "%{d", "foo%.example.com"])
def test_expand_invalid_macro_string_is_none(spec):
    """RFC 7208 7.1: a macro-string that does not parse is not expanded."""
    assert expand(spec, domain="example.com", sender_domain="s.example") is None


# ---------------------------------------------------------------------------------------------------------------
# Property: parse() never raises on anything is_spf() accepts, and never prints a raw control character.

INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # what visible() escapes
FRAGMENTS = ["a", "mx", "ptr", "all", "-all", "ip4:", "ip6:", "include:", "exists:", "redirect=", "exp=", "%{d}",
             "%{d2r}", "%{ir}", "%%", "%", "{", "}", ":", "/", "//", "=", ".", "-", "1.2.3.4", "::1", "example.com",
             "0", "33", "129", " ", "  "]
CHUNK = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.characters(),  # any code point but surrogates
    st.integers(0xDC80, 0xDCFF).map(chr),  # non-UTF-8 bytes, as surrogateescape delivers them
    st.sampled_from(["\t", "\r", "\n", "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u00a0", "\u200b", "\u202e"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(CHUNK, max_size=40).map("".join))
def test_parse_never_raises_and_describes_safely(tail):
    """RFC 7208 4.6: any record is either valid or has problems; problems name terms with escapes only."""
    text = PREFIX + tail
    assert is_spf(text)
    record = parse(text)
    assert record.valid == (not record.problems)
    indices = [p.index for p in record.problems]
    assert indices == sorted(indices)
    for problem in record.problems:
        described = problem.describe()
        assert not [c for c in described if unicodedata.category(c) in INVISIBLE], described
