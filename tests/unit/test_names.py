"""Domain-name validation: what is accepted, how it is normalised, and what is refused and why."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.errors import ExitCode, InvalidDomainName
from stackshift_cli.names import normalize_domain, to_unicode


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("  mail.example.co.uk  ", "mail.example.co.uk"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.example", "a-b.example"),
        ("123.example", "123.example"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_accepted_names_are_normalised(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment", "hint"),
    [
        ("", "empty", None),
        ("   ", "empty", None),
        ("192.0.2.1", "IP address", None),
        ("2001:db8::1", "IP address", None),
        ("[2001:db8::1]", "IP address", None),
        ("https://example.com/x", "URL", "'example.com'"),
        ("http://Example.com", "URL", "'example.com'"),
        ("user@example.com", "email address", "'example.com'"),
        ("*.example.com", "wildcard", None),
        ("localhost", "single label", None),
        ("com", "single label", None),
        ("a" * 64 + ".com", "64 octets", None),
        (".".join(["a" * 63] * 4) + ".com", "octets long", None),
        ("-example.com", "hyphen", None),
        ("example-.com", "hyphen", None),
        ("exa_mple.com", "'_'", None),
        ("exa mple.com", "' '", None),
        ("example.com..", "empty label", None),
        ("example..com", "empty label", None),
        ("example.123", "all-numeric", None),
        ("xn--zz.example", "invalid A-label", None),
        ("example.com/path", "'/'", "'example.com'"),
    ],
)
def test_rejected_names_say_why(raw, fragment, hint):
    with pytest.raises(InvalidDomainName) as info:
        normalize_domain(raw)
    assert fragment in info.value.message
    assert info.value.exit_code == ExitCode.USAGE
    if hint:
        assert hint in info.value.hint


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_no_input_crashes_validation(raw):
    try:
        name = normalize_domain(raw)
    except InvalidDomainName as exc:
        assert exc.message
        return
    assert name == name.lower() and name.isascii() and not name.endswith(".")


_label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z").filter(lambda s: s[2:4] != "--")
_names = st.lists(_label, min_size=1, max_size=4).map(lambda labels: ".".join(labels + ["example"]))


@settings(max_examples=300, deadline=None)
@given(_names, st.booleans(), st.booleans())
def test_accepted_names_round_trip(name, upper, trailing_dot):
    typed = (name.upper() if upper else name) + ("." if trailing_dot else "")
    normalised = normalize_domain(typed)
    assert normalised == name
    assert normalize_domain(normalised) == normalised
    assert normalize_domain(to_unicode(normalised)) == normalised


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdeüöäßéłñ-", min_size=1, max_size=20))
def test_unicode_names_round_trip_through_a_labels(label):
    try:
        normalised = normalize_domain(label + ".example")
    except InvalidDomainName:
        return
    assert normalised.isascii()
    assert normalize_domain(to_unicode(normalised)) == normalised
