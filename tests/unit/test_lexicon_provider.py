"""providers/lexicon.py, the parts that need no server: TXT content in every shape lexicon's providers use, the
content sent to a provider, a listed record's checks, and the errors made from HTTP statuses and exceptions."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackshift_cli.errors import ProviderAuthError, ProviderError, UsageError
from stackshift_cli.providers import Credential, ProviderInfo, ZoneRecord, provider_info
from stackshift_cli.providers.lexicon import (
    MAX_VALUE_CHARS,
    LexiconPublisher,
    _extra_requirements,
    _needs,
    _option,
    _quoted_strings,
    _unreachable,
    http_failure,
    parse_value,
    record_content,
    scrub,
    txt_text,
)

LONG = "v=DKIM1; k=rsa; p=" + "A" * 382  # 400 characters


@pytest.mark.parametrize("content, text", [
    ("v=spf1 -all", "v=spf1 -all"),  # plain text
    ('"v=spf1 -all"', "v=spf1 -all"),  # one quoted string
    ('"v=DKIM1; p=AAAA" "BBBB"', "v=DKIM1; p=AAAABBBB"),  # several
    ('"a""b"', "ab"),  # several, not separated
    ('  "a"   "b"  ', "ab"),
    ('v=DKIM1; p=AAAA" "BBBB', "v=DKIM1; p=AAAABBBB"),  # outer quotes stripped (PowerDNS, _clean_TXT_record)
    ('"say \\"hi\\""', 'say "hi"'),  # escaped quote
    ('"back\\\\slash"', "back\\slash"),  # escaped backslash
    ('"b\\195\\188cher"', "bücher"),  # decimal escapes: UTF-8 bytes
    ('"bücher"', "bücher"),  # UTF-8 as it is
    ('"\\150all"', b"\x96all".decode("utf-8", "surrogateescape")),  # a byte that is not UTF-8
    ('"tab\\009"', "tab\t"),
    ('""', ""),
    ('"unclosed', '"unclosed'),  # not quoted strings: the text as it is
    ('he said "hi" there', 'he said "hi" there'),
    ('"a" b', '"a" b'),
    ('"\\999"', '"\\999"'),  # not a byte
    ("", ""),
], ids=["plain", "quoted", "split", "split-unseparated", "spaces", "outer-stripped", "escaped-quote",
        "escaped-backslash", "decimal-utf8", "raw-utf8", "non-utf8", "tab", "empty-quoted", "unclosed", "inner-quotes",
        "trailing-word", "bad-decimal", "empty"])
def test_txt_text_reads_every_shape(content, text):
    assert txt_text(content) == text


@pytest.mark.parametrize("provider, record, content, priority", [
    ("cloudflare", ZoneRecord("TXT", "x.example.com", LONG), LONG, None),  # plain: the provider splits
    ("powerdns", ZoneRecord("TXT", "x.example.com", "v=spf1 -all"), '"v=spf1 -all"', None),
    ("powerdns", ZoneRecord("TXT", "x.example.com", LONG), f'"{LONG[:255]}" "{LONG[255:]}"', None),
    ("powerdns", ZoneRecord("TXT", "x.example.com", 'a "b" \\c'), '"a \\"b\\" \\\\c"', None),
    ("powerdns", ZoneRecord("TXT", "x.example.com", "bü"), '"b\\195\\188"', None),
    ("powerdns", ZoneRecord("TXT", "x.example.com", ""), '""', None),
    ("powerdns", ZoneRecord("MX", "x.example.com", "mx.example.net", priority=10), "10 mx.example.net.", "10"),
    ("route53", ZoneRecord("MX", "x.example.com", "mx.example.net", priority=5), "5 mx.example.net.", "5"),
    ("cloudflare", ZoneRecord("MX", "x.example.com", "mx.example.net", priority=10), "mx.example.net", "10"),
    ("powerdns", ZoneRecord("CNAME", "x.example.com", "t.example.net"), "t.example.net.", None),
    ("cloudflare", ZoneRecord("CNAME", "x.example.com", "t.example.net"), "t.example.net", None),
    ("cloudflare", ZoneRecord("A", "x.example.com", "192.0.2.1"), "192.0.2.1", None),
], ids=["txt-plain", "pdns-txt", "pdns-txt-long", "pdns-txt-escapes", "pdns-txt-utf8", "pdns-txt-empty",
        "pdns-mx", "route53-mx", "cloudflare-mx", "pdns-cname", "cloudflare-cname", "a"])
def test_record_content(provider, record, content, priority):
    assert record_content(provider, record) == (content, priority)


@given(st.text(max_size=1200))
def test_powerdns_txt_content_reads_back_whole_in_strings_of_at_most_255_octets(text):
    content, _ = record_content("powerdns", ZoneRecord("TXT", "x.example.com", text))
    strings = _quoted_strings(content)
    assert strings is not None and all(len(s) <= 255 for s in strings)
    assert txt_text(content) == text
    assert b"".join(strings) == text.encode()
    assert content.isascii() and content.isprintable()


def test_utf8_characters_are_not_split_between_strings():
    text = "x" * 254 + "ü" + "y"
    strings = _quoted_strings(record_content("powerdns", ZoneRecord("TXT", "x.example.com", text))[0])
    assert strings == [b"x" * 254, "üy".encode()]


@pytest.mark.parametrize("rtype, content, record, parsed", [
    ("MX", "10 mx.example.net.", {}, ("mx.example.net", 10)),
    ("MX", "  0   MX.Example.NET  ", {}, ("mx.example.net", 0)),
    ("MX", "mx.example.net", {"priority": 20}, ("mx.example.net", 20)),
    ("MX", "mx.example.net", {"priority": "20"}, ("mx.example.net", 20)),
    ("MX", "mx.example.net.", {"options": {"mx": {"priority": 5}}}, ("mx.example.net", 5)),
    ("MX", "mx.example.net", {}, ("mx.example.net", None)),  # Cloudflare lists no priority
    ("MX", "70000 mx.example.net", {}, None),
    ("MX", "10 mx.example.net extra", {}, None),
    ("MX", "mx.example.net", {"priority": True}, ("mx.example.net", None)),
    ("CNAME", "Target.Example.NET.", {}, ("target.example.net", None)),
    ("CNAME", "two words", {}, None),
    ("CNAME", "", {}, None),
    ("CNAME", "evil\x1b[2J.example", {}, None),
    ("A", "192.0.2.1", {}, ("192.0.2.1", None)),
    ("A", "2001:db8::1", {}, None),
    ("A", "not an address", {}, None),
    ("AAAA", "2001:DB8:0::1", {}, ("2001:db8::1", None)),
    ("TXT", '"a" "b"', {}, ("ab", None)),
], ids=["mx", "mx-spaces-case", "mx-priority-field", "mx-priority-text", "mx-options", "mx-no-priority",
        "mx-priority-range", "mx-extra", "mx-bool-priority", "cname", "cname-space", "cname-empty", "cname-control",
        "a", "a-given-v6", "a-junk", "aaaa", "txt"])
def test_parse_value(rtype, content, record, parsed):
    assert parse_value(rtype, content, record) == parsed


def _publisher(zone: str = "example.com") -> LexiconPublisher:
    return LexiconPublisher(provider_info("powerdns"), zone, None, None, {}, timeout=1, secrets=())


@pytest.mark.parametrize("item, kept", [
    ({"type": "TXT", "name": "x.example.com", "content": "v"}, ZoneRecord("TXT", "x.example.com", "v")),
    ({"type": "txt", "name": "X.Example.COM.", "content": '"v"', "ttl": 60},
     ZoneRecord("TXT", "x.example.com", "v", 60)),
    ({"type": "TXT", "name": "example.com", "content": "v", "ttl": "300"}, ZoneRecord("TXT", "example.com", "v", 300)),
    ({"type": "TXT", "name": "x.example.com", "content": "v", "ttl": -1}, ZoneRecord("TXT", "x.example.com", "v")),
    ({"type": "TXT", "name": "x.example.net", "content": "v"}, None),  # not under the zone
    ({"type": "TXT", "name": "xexample.com", "content": "v"}, None),
    ({"type": "NS", "name": "example.com", "content": "ns1.example.com"}, None),  # not a type stackshift reads
    ({"type": "TXT", "name": "x.example.com", "content": 5}, None),
    ({"type": "TXT", "name": None, "content": "v"}, None),
    (["TXT", "x.example.com", "v"], None),
    ({"type": "A", "name": "x.example.com", "content": "junk"}, None),
], ids=["plain", "case-dot-ttl", "apex-ttl-text", "bad-ttl", "other-zone", "suffix-only", "ns", "content-int",
        "name-none", "not-a-dict", "bad-address"])
def test_a_listed_record_is_checked(item, kept):
    entry = _publisher()._check(item)
    assert (entry.record if entry else None) == kept


def test_a_value_too_long_is_an_error_only_where_stackshift_reads():
    publisher = _publisher()
    long = publisher._check({"type": "TXT", "name": "big.example.com", "content": "x" * (MAX_VALUE_CHARS + 1)})
    fine = publisher._check({"type": "TXT", "name": "x.example.com", "content": "v"})
    assert long is not None and long.record is None and fine is not None
    assert publisher._at([long, fine], ["x.example.com"]) == [fine.record]
    with pytest.raises(ProviderError, match="longer than 4000"):
        publisher._at([long, fine], ["big.example.com"])


CREDENTIALS = provider_info("cloudflare").credentials


@pytest.mark.parametrize("status, authenticating, kind, message", [
    (401, True, ProviderAuthError, "cloudflare refused the credentials (HTTP 401) while opening the zone."),
    (403, False, ProviderAuthError, "cloudflare refused the credentials (HTTP 403) while opening the zone."),
    (429, False, ProviderError, "cloudflare is rate limiting (HTTP 429) while opening the zone; try again later."),
    (404, True, ProviderError, "cloudflare has no zone example.com (HTTP 404)."),
    (404, False, ProviderError, "cloudflare refused the request (HTTP 404) while opening the zone."),
    (503, False, ProviderError, "cloudflare failed (HTTP 503) while opening the zone; try again later."),
    (422, False, ProviderError, "cloudflare refused the request (HTTP 422) while opening the zone: bad\\x1b[2J "
                                "content."),
], ids=["401", "403", "429", "404-zone", "404-record", "503", "422-body"])
def test_http_failure(status, authenticating, kind, message):
    error = http_failure("cloudflare", status, "opening the zone", zone="example.com", authenticating=authenticating,
                         credentials=CREDENTIALS, body="bad\x1b[2J\n  content")
    assert type(error) is kind
    assert error.message == message


def test_the_auth_hint_names_the_secret_settings_only():
    error = http_failure("cloudflare", 401, "x", zone="example.com", credentials=CREDENTIALS)
    assert error.hint == "Check LEXICON_CLOUDFLARE_AUTH_TOKEN (or publish.cloudflare.auth_token)."


def test_a_long_body_is_cut():
    error = http_failure("powerdns", 400, "x", zone="example.com", body="e" * 5000)
    assert len(error.message) < 300 and error.message.endswith("….")


def test_scrub_removes_secrets_and_their_url_encoded_form():
    assert scrub("token=s3cr/t+x and s3cr%2Ft%2Bx, s3cr/t+x", ["s3cr/t+x", "", "ab"]) == "token=**** and ****, ****"


def test_why_a_connection_failed_is_told_in_our_own_words():
    import requests

    refused = requests.ConnectionError("HTTPSConnectionPool(host='h', port=443): url /?token=SECRET")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert _unreachable(refused) == "connection refused"
    assert _unreachable(requests.ConnectTimeout("url /?token=SECRET")) == "the connection timed out"
    assert _unreachable(requests.ConnectionError("url /?token=SECRET")) == "the connection failed"


def test_an_option_of_a_key_the_config_does_not_know_is_unset():
    from stackshift_cli.config import Settings

    settings = Settings("default")
    assert _option(settings, Credential("auth_token", "publish.nosuchprovider.auth_token", "X")) is None


def test_a_provider_module_that_cannot_be_imported_names_the_package(monkeypatch):
    monkeypatch.delitem(sys.modules, "lexicon._private.providers.powerdns", raising=False)
    monkeypatch.setitem(sys.modules, "requests_unixsocket", None)  # as if not installed
    from stackshift_cli.config import Settings

    with pytest.raises(UsageError) as caught:
        LexiconPublisher.open(provider_info("powerdns"), Settings("default"), "example.com")
    assert caught.value.message == "Publishing to powerdns needs requests_unixsocket, which is not installed."
    assert caught.value.hint == "Install it with: pip install requests_unixsocket"


def test_a_provider_extra_names_lexicons_extra():
    # route53 imports boto3 in a try block: lexicon's metadata says what it needs
    assert _extra_requirements("route53") == ["boto3"]
    assert _extra_requirements("powerdns") == []
    error = _needs("route53", "boto3", extra=True)
    assert error.message == "Publishing to route53 needs boto3, which is not installed."
    assert error.hint == "Install it with: pip install 'dns-lexicon[route53]'"


def test_without_lexicon_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "lexicon.config", None)
    from stackshift_cli.config import Settings

    with pytest.raises(UsageError) as caught:
        LexiconPublisher.open(ProviderInfo("cloudflare", "lexicon"), Settings("default"), "example.com")
    assert caught.value.message == "Publishing to cloudflare needs dns-lexicon, which is not installed."
    assert caught.value.hint == "Install it with: pip install 'stackshift-cli[publish]'"
