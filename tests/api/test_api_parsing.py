"""Property tests of the functions that turn an API answer into Domain objects (api.parse_domain, api.parse_page)
and of http.parse_retry_after: whatever the bytes or JSON, the outcome is a value stackshift can use or a
StackshiftError (one error line), never another exception."""

from __future__ import annotations

import json
import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackshift_cli.backends.api import MAX_LIST_DOMAINS, parse_domain, parse_page
from stackshift_cli.domain import MAX_RECORDS, RECORD_TYPES, Domain, is_dns_name
from stackshift_cli.errors import StackshiftError
from stackshift_cli.http import parse_retry_after
from stackshift_cli.names import ID as DOMAIN_ID, normalize_domain
from stackshift_cli.output import json_text

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values that have broken (or could break) parsing: Unicode digits, huge numbers, times that overflow in UTC ...
TRICKY = ["", "²", "①", "9" * 5000, 10**400, -1, 1.5, float("inf"), True, None, [], {}, "dom_1", "dom 1", "d" * 65,
          "example.com", "Example.COM.", "bücher.example", "xn--bcher-kva.example", "-x.example", "192.0.2.1",
          "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2026-01-01T00:00:00Z", "99999-01-01T00:00:00Z",
          "TXT", "mx", "CNAME", "SRV", "verified", "@", "a\x00b", "x.example.\nevil IN A 192.0.2.1", "65536", "10"]
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
           | st.sampled_from(TRICKY))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=30)
field_values = st.sampled_from(TRICKY) | json_values

# Near-valid objects, a few fields replaced by something tricky or random, or left out: where validation has to
# be exact. Plus any JSON at all.
RECORD = {"type": "TXT", "name": "example.com", "host": "@", "value": "v=spf1 -all", "status": "missing",
          "required": True, "explanation": None, "purpose": "spf", "priority": None}
DOMAIN = {"id": "dom_0123456789abcdef", "name": "example.com", "status": "pending", "spfStatus": "missing",
          "createdAt": "2026-01-01T00:00:00Z", "lastCheckedAt": None, "dkimSelector": "stackshift", "records": []}


@st.composite
def near(draw, base: st.SearchStrategy[dict]) -> dict:
    data = dict(draw(base))
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=3)):
        if draw(st.booleans()):
            data[key] = draw(field_values)
        else:
            data.pop(key, None)
    return data


records = near(st.just(RECORD)) | json_values
domains = near(st.builds(lambda rs: {**DOMAIN, "records": rs}, st.lists(records, max_size=4))) | json_values


def encode(value) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity too: json.loads reads them


def assert_usable(domain: Domain) -> None:
    """What every parsed domain guarantees to the rest of stackshift."""
    assert DOMAIN_ID.fullmatch(domain.id)
    assert normalize_domain(domain.name) == domain.name
    assert len(domain.records) <= MAX_RECORDS
    for record in domain.records:
        assert record.type in RECORD_TYPES and is_dns_name(record.name) and isinstance(record.value, str)
        assert record.name.lower() == domain.name or record.name.lower().endswith("." + domain.name)
        assert record.priority is None or 0 <= record.priority <= 65535
    json_text(domain.to_json())  # every format starts from this: times format, nothing overflows


def outcome(parse, content: bytes):
    try:
        return parse(content)
    except StackshiftError as exc:
        assert exc.message and "\n" not in exc.message
        return None


@SETTINGS
@given(domains)
def test_any_json_as_one_domain_is_a_domain_or_an_error(value):
    parsed = outcome(lambda c: parse_domain(c, 200, "application/json"), encode(value))
    if parsed is not None:
        domain, skipped = parsed
        assert_usable(domain)
        assert all(isinstance(reason, str) for reason in skipped)


@SETTINGS
@given(st.lists(domains, max_size=4), json_values)
def test_any_json_as_a_page_is_a_page_or_an_error(items, cursor):
    for value in ({"data": items, "nextCursor": cursor}, {"data": items}, items):
        page = outcome(lambda c: parse_page(c, 200, "application/json"), encode(value))
        if page is not None:
            assert page.items == len(items) == len(page.domains) + len(page.skipped.domains)
            assert page.cursor is None or (isinstance(page.cursor, str) and 0 < len(page.cursor) <= 1024)
            for domain in page.domains:
                assert_usable(domain)


@SETTINGS
@given(json_values)
def test_any_json_at_all_is_a_value_or_an_error(value):
    content = encode(value)
    outcome(lambda c: parse_domain(c, 200, "application/json"), content)
    outcome(lambda c: parse_page(c, 200, "application/json"), content)


@SETTINGS
@given(st.binary(max_size=300) | st.text(alphabet=string.printable + "[]{}\"\\ü\ud800", max_size=300).map(
    lambda t: t.encode("utf-8", "surrogatepass")), st.sampled_from(["application/json", "text/html", "", "x/\x00"]))
def test_any_bytes_are_a_value_or_an_error(content, content_type):
    outcome(lambda c: parse_domain(c, 502, content_type), content)
    outcome(lambda c: parse_page(c, 200, content_type), content)


def test_the_listing_limit_is_checked_before_the_items_are_read():
    content = encode({"data": [None] * 11, "nextCursor": None})
    assert outcome(lambda c: parse_page(c, 200, "application/json", room=10), content) is None
    assert parse_page(content, 200, "application/json", room=11).items == 11
    assert MAX_LIST_DOMAINS == 100_000


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[0-9]{1,500}", fullmatch=True)
       | st.sampled_from(["²", "①", "٣", "-1", "1e3", "Fri, 31 Dec 9999 23:59:59 -2359",
                          "Sat, 01 Jan 0001 00:00:00 +2359", "Mon, 99 Foo 2026 99:99:99 GMT"]))
def test_any_retry_after_is_seconds_or_none(value):
    wait = parse_retry_after(value)
    assert wait is None or (isinstance(wait, float) and wait >= 0 and not math.isnan(wait))
