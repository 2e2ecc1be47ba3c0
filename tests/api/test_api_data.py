"""What the API sends is checked where it enters (Domain.from_json): a domain or record stackshift cannot use is
left out of a listing with one warning line, and is one error line (exit 1) when it is the answer itself.
Never an internal error, whatever the JSON holds."""

from __future__ import annotations

import json

import pytest

from tests.api.hostile import nested
from tests.api.server import Fault
from tests.api.test_api_faults import assert_one_error_line
from tests.helpers import Result

GOOD_ID = "dom_00000000000000aa"
BAD_ID = "dom_00000000000000bb"


def bad(**fields) -> dict:
    """A domain object that is valid but for `fields`."""
    return {"id": BAD_ID, "name": "bad.example", "status": "pending", "records": [], **fields}


def record(**fields) -> dict:
    """A record of good.example that is valid but for `fields`."""
    return {"type": "TXT", "name": "good.example", "host": "@", "value": "v=spf1 -all", "status": "missing",
            "required": True, "purpose": "spf", **fields}


def warning_lines(result: Result) -> list[str]:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr and not any(line.startswith("Error") for line in lines), result.stderr
    return [line for line in lines if line.startswith("Warning: ")]


def one_warning_line(result: Result, *fragments: str) -> str:
    """stderr is one `Warning:` line; returns it."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Warning: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], result.stderr
    return lines[0]


# (the bad domain, a fragment of the reason given)
BAD_DOMAINS = {
    "name with a space": (bad(name="ex ample.com"), "its name 'ex ample.com' is not a valid domain name"),
    "name in U-labels": (bad(name="bücher.example"), "not in canonical form"),
    "name with a newline": (bad(name="bad.example\n"), "not a valid domain name"),
    "name that is an IP": (bad(name="192.0.2.1"), "is not a valid domain name"),
    "name of one label": (bad(name="localhost"), "single label"),
    "name 300 long": (bad(name="a" * 300 + ".example"), "308 characters"),
    "name not a string": (bad(name=5), "its name is a number, not a string"),
    "name missing": (bad(name=None), "its name is null"),
    "id with a space": (bad(id="dom 1"), "its id 'dom 1' is not an id"),
    "id with a tab": (bad(id="dom_1\tevil"), "is not an id"),
    "id that walks paths": (bad(id="../../etc/passwd"), "is not an id"),
    "id 65 long": (bad(id="d" * 65), "is not an id"),
    "id empty": (bad(id=""), "its id '' is not an id"),
    "id a number": (bad(id=12), "its id a number is not an id"),
    "records not a list": (bad(records=5), "has 'records' that are a number, not a list"),
    "101 records": (bad(records=[record(name="bad.example")] * 101),
                    "has 101 records; stackshift reads at most 100 records of a domain"),
    "createdAt past year 9999": (bad(createdAt="99999-01-01T00:00:00Z"), "'createdAt' '99999-01-01T00:00:00Z'"),
    "createdAt that overflows in UTC": (bad(createdAt="9999-12-31T23:59:59-05:00"),
                                        "is not a time stackshift can read"),
    "lastCheckedAt before year 1 in UTC": (bad(lastCheckedAt="0001-01-01T00:00:00+05:00"), "is not a time"),
    "createdAt a huge number": (bad(createdAt=1e308), "its 'createdAt' is a number, not a string"),
    "status an object": (bad(status={"x": 1}), "its 'status' is an object, not a string"),
    "status a sentence": (bad(status="pending; rm -rf /"), "is not a status word"),
    "spfStatus a list": (bad(spfStatus=["verified"]), "its 'spfStatus' is a list"),
    "dkimSelector with a space": (bad(dkimSelector="s 1"), "dkimSelector 's 1' that is not a DNS name"),
}


@pytest.fixture
def good(api_cli, api_server) -> dict:
    """A real domain of the account, as the API shows it."""
    assert api_cli("domains", "create", "good.example").exit_code == 0
    return api_server.domains()[0].to_json()


@pytest.mark.parametrize("case", list(BAD_DOMAINS))
def test_a_listing_leaves_out_a_domain_it_cannot_use_with_one_warning(case, api_cli, api_server, good, data_dir):
    domain, reason = BAD_DOMAINS[case]
    api_server.fail(Fault(200, {"data": [good, domain], "nextCursor": None}, method="GET", path="/mail/domains"))

    result = api_cli("domains", "list", "--json")

    assert result.exit_code == 0, result.stderr
    assert [d["name"] for d in result.json()] == ["good.example"]
    one_warning_line(result, "Left out a domain the StackShift API sent that stackshift cannot use", reason)
    cache = json.loads((data_dir / "cache" / "api-domains-default.json").read_text())
    assert [row[0] for row in cache["domains"]] == ["good.example"], "a domain left out is not offered on TAB"


def test_many_unusable_domains_make_one_warning_line(api_cli, api_server, good):
    domains = [good, *(domain for domain, _ in BAD_DOMAINS.values())]
    api_server.fail(Fault(200, {"data": domains, "nextCursor": None}, method="GET", path="/mail/domains"))

    result = api_cli("domains", "list")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("good.example\t")
    assert len(result.stdout.splitlines()) == 1
    one_warning_line(result, f"Left out {len(BAD_DOMAINS)} domains", "(the first: its name 'ex ample.com'")


def test_a_name_resolved_by_listing_ignores_unusable_domains(api_cli, api_server, good):
    """`domains show NAME` lists to find the id: a bad entry with the same name is not picked."""
    api_server.fail(Fault(200, {"data": [bad(name="good.example", id="dom x"), good], "nextCursor": None},
                          method="GET", path="/mail/domains"))
    result = api_cli("domains", "show", "good.example", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["id"] == good["id"]
    one_warning_line(result, "its id 'dom x' is not an id")


@pytest.mark.parametrize("case", list(BAD_DOMAINS))
def test_an_answer_about_one_domain_it_cannot_use_is_one_error_line(case, api_cli, api_server):
    domain, reason = BAD_DOMAINS[case]
    api_server.fail(Fault(200, domain, method="GET", path="/mail/domains/"))

    result = api_cli("domains", "show", GOOD_ID)

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "The StackShift API answered HTTP 200 with a domain stackshift cannot use", reason)
    assert result.stdout == ""


def test_a_created_domain_it_cannot_use_is_an_error(api_cli, api_server):
    api_server.fail(Fault(201, bad(createdAt="9999-12-31T23:59:59-05:00"), method="POST"))
    result = api_cli("domains", "create", "new.example", "--json")
    assert result.exit_code == 1
    assert_one_error_line(result, "with a domain stackshift cannot use", "is not a time stackshift can read")


# (the bad record, a fragment of the reason given)
BAD_RECORDS = {
    "unknown type": (record(type="SRV"), "its type 'SRV' is not one stackshift knows (TXT, CNAME, MX)"),
    "type not a string": (record(type=16), "its 'type' is a number, not a string"),
    "name not a DNS name": (record(name="good example"), "its name 'good example' is not a DNS name"),
    "name with an empty label": (record(name="a..good.example"), "is not a DNS name"),
    "name outside the domain": (record(name="evil.example"), "its name 'evil.example' is not under the domain"),
    "name a suffix but no subdomain": (record(name="notgood.example"), "is not under the domain good.example"),
    "host with a newline": (record(host="@\nevil"), "its host '@\\nevil' is neither '@' nor a DNS name"),
    "value not a string": (record(value=5), "its 'value' is a number, not a string"),
    "CNAME value that injects a zone line": (record(type="CNAME", value="x.example.\nevil 60 IN A 192.0.2.1"),
                                             "its CNAME value 'x.example.\\nevil 60 IN A 192.0.2.1' is not a DNS name"),
    "priority a superscript digit": (record(type="MX", value="mx.example", priority="²"),
                                     "its priority '²' is not a number from 0 to 65535"),
    "priority too large": (record(type="MX", value="mx.example", priority=70000), "its priority '70000'"),
    "priority a float": (record(type="MX", value="mx.example", priority=1.5), "its priority '1.5'"),
    "priority of 5000 digits": (record(type="MX", value="mx.example", priority="9" * 5000), "is not a number"),
    "required a string": (record(required="no"), "its 'required' is a string, not true or false"),
    "status a number": (record(status=3), "its 'status' is a number"),
    "explanation an object": (record(explanation={"text": "x"}), "its 'explanation' is an object"),
    "not an object": (5, "it is a number, not an object"),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_a_record_it_cannot_use_is_left_out_with_one_warning(case, api_cli, api_server):
    item, reason = BAD_RECORDS[case]
    good_record = record()
    api_server.fail(Fault(200, {"id": GOOD_ID, "name": "good.example", "records": [item, good_record]},
                          method="GET", path="/mail/domains/"))

    result = api_cli("domains", "records", GOOD_ID, "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert [(r["type"], r["name"], r["value"]) for r in result.json()] == [("TXT", "good.example", "v=spf1 -all")]
    one_warning_line(result, "Left out a record the StackShift API sent that stackshift cannot use: record 1 of "
                             "good.example: ", reason)


def test_many_unusable_records_make_one_warning_line(api_cli, api_server):
    items = [item for item, _ in BAD_RECORDS.values()]
    api_server.fail(Fault(200, {"id": GOOD_ID, "name": "good.example", "records": [*items, record()]},
                          method="GET", path="/mail/domains/"))
    result = api_cli("domains", "records", GOOD_ID, "--format", "zone")
    assert result.exit_code == 0, result.stderr
    assert "evil" not in result.stdout
    one_warning_line(result, f"Left out {len(BAD_RECORDS)} records", "(the first: record 1 of good.example: its type")


def test_what_the_api_may_send_is_still_read():
    """The documented tolerance stays: trailing dots, any case, unknown fields and statuses, missing optionals."""
    from stackshift_cli.domain import Domain

    domain = Domain.from_json({
        "id": "dom_X-1", "name": "Good.Example.", "status": "suspended", "region": "eu", "dkimSelector": "s1.sub",
        "createdAt": "2026-01-02T03:04:05", "lastCheckedAt": None, "spfStatus": "propagating",
        "records": [{"type": "cname", "name": "s1._domainkey.GOOD.example.", "value": "key.stackshift.email.",
                     "purpose": "delegated", "extra": [1]},
                    {"type": "MX", "name": "inbound.good.example", "value": "mx.example", "priority": "10",
                     "required": False, "status": None}],
    })
    assert (domain.id, domain.name, domain.status, domain.check_status("spfStatus")) == (
        "dom_X-1", "good.example", "suspended", "propagating")
    assert domain.to_json()["createdAt"] == "2026-01-02T03:04:05Z"
    cname, mx = domain.records
    assert (cname.type, cname.name, cname.host, cname.purpose, cname.status) == (
        "CNAME", "s1._domainkey.GOOD.example", "s1._domainkey.GOOD.example", None, "missing")
    assert (mx.priority, mx.required, mx.status) == (10, False, "missing")


@pytest.mark.parametrize("args, path", [
    (["domains", "list"], "/mail/domains"),
    (["domains", "show", GOOD_ID], "/mail/domains/"),
], ids=["list", "show"])
def test_json_nested_too_deep_is_one_error_line(args, path, api_cli, api_server):
    api_server.fail(Fault(200, nested(100_000), method="GET", path=path))
    result = api_cli(*args)
    assert result.exit_code == 1
    assert_one_error_line(result, "The StackShift API answered HTTP 200 with JSON nested too deeply to read "
                                  "(200000 bytes)")


def test_an_error_body_nested_too_deep_still_gives_the_status(api_cli, api_server):
    api_server.fail(Fault(422, nested(20_000), method="POST"))
    result = api_cli("domains", "create", "new.example")
    assert result.exit_code == 2
    assert_one_error_line(result, "HTTP 422", "malformed or truncated JSON (40000 bytes)")


@pytest.mark.parametrize("cursor, fragment", [
    (5, "(int)"),
    (["c1"], "(list)"),
    ("c" * 1025, "'" + "c" * 39 + "…'"),
    ("c 1", "'c 1'"),
], ids=["number", "list", "1025 long", "with a space"])
def test_a_cursor_it_cannot_send_back_is_one_error_line(cursor, fragment, api_cli, api_server, good):
    api_server.fail(Fault(200, {"data": [good], "nextCursor": cursor}, method="GET", path="/mail/domains"))
    result = api_cli("domains", "list")
    assert result.exit_code == 1
    assert_one_error_line(result, "returned a pagination cursor stackshift cannot send back", fragment)


def test_a_success_answer_that_echoes_the_key_never_shows_it(api_cli, api_server):
    """A proxy's page with status 200, or a record: the key is taken out of any answer before it is read."""
    key = api_server.key
    api_server.fail(Fault(200, f"<html><title>Login {key} ok</title></html>", content_type="text/html",
                          method="GET", path="/mail/domains"))
    page = api_cli("domains", "list")
    assert page.exit_code == 1
    assert_one_error_line(page, "HTTP 200 with an HTML page ('Login [redacted] ok')")

    api_server.fail(Fault(200, {"id": GOOD_ID, "name": "good.example", "records": [record(value=f"v=spf1 {key}")]},
                          method="GET", path="/mail/domains/"))
    shown = api_cli("domains", "records", GOOD_ID, "--format", "plain")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == "@\tTXT\tv=spf1 [redacted]\n"
    assert key not in page.stderr + shown.stdout + shown.stderr
