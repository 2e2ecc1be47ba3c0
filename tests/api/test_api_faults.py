"""Failures of the API: each gives its documented exit code and one clear line, and changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.server import Fault, refused_port
from tests.helpers import Cli, Result

HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the client's data and config dirs, with its content."""
    return {str(p): p.read_bytes() for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_one_error_line(result: Result, *fragments: str) -> str:
    """stderr is one `Error:` line (plus at most a hint line), with no traceback; returns the error line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and len(lines) <= 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr
    return errors[0]


@pytest.fixture
def client_state(data_dir, config_dir):
    return lambda: snapshot(data_dir, config_dir)


@pytest.fixture
def existing(api_cli, api_server) -> str:
    """A domain that exists in the account before the fault; returns its id."""
    result = api_cli("domains", "create", "existing.example", "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


# (fault(s), command, exit code, fragments of the error line)
CASES = {
    "401 on list": ([Fault(401, {"error": {"code": "unauthorized", "message": "Invalid API key."}})],
                    ["domains", "list"], 6, ["HTTP 401", "Invalid API key.", "stackshift auth login"]),
    "403 on show": ([Fault(403, {"error": {"code": "forbidden", "message": "Key is read-only."}})],
                    ["domains", "show", "existing.example"], 6, ["HTTP 403", "read-only", "stackshift auth login"]),
    "404 on get by id": ([Fault(404, {"error": {"code": "not_found", "message": "gone"}}, method="GET",
                                path="/mail/domains/dom_")],
                         ["domains", "show", "dom_0000000000000000"], 5, ["dom_0000000000000000"]),
    "409 on create": ([Fault(409, {"error": {"code": "already_exists", "message": "Domain exists."}},
                             method="POST")],
                      ["domains", "create", "existing.example"], 2, ["already exists"]),
    "422 on create": ([Fault(422, {"error": {"code": "invalid_name", "message": "That TLD is not accepted."}},
                             method="POST")],
                      ["domains", "create", "new.example"], 2, ["That TLD is not accepted.", "HTTP 422"]),
    "400 on create": ([Fault(400, {"error": {"code": "bad_request", "message": "Unknown field."}}, method="POST")],
                      ["domains", "create", "new.example"], 2, ["Unknown field.", "HTTP 400"]),
    "429 on every try": ([Fault(429, {"error": {"code": "rate_limited", "message": "Slow down."}},
                                headers={"Retry-After": "0"}) for _ in range(4)],
                         ["domains", "list"], 1, ["HTTP 429", "Slow down.", "gave up after 4 attempts"]),
    "429 asking for an hour": ([Fault(429, {"error": {"code": "rate_limited", "message": "Quota."}},
                                      headers={"Retry-After": "3600"})],
                               ["domains", "list"], 1, ["HTTP 429", "Quota."]),
    "500 on every try": ([Fault(500, {"error": {"code": "internal", "message": "Boom."}},
                                headers={"Retry-After": "0"}) for _ in range(4)],
                         ["domains", "list"], 1, ["HTTP 500", "Boom.", "gave up after 4 attempts"]),
    "501 is not retried": ([Fault(501, {"error": {"code": "not_implemented", "message": "Nope."}})],
                           ["domains", "list"], 1, ["HTTP 501", "Nope."]),
    "HTML from a proxy": ([Fault(502, HTML, content_type="text/html", headers={"Retry-After": "0"})
                           for _ in range(4)],
                          ["domains", "list"], 1, ["HTTP 502", "HTML page", "502 Bad Gateway"]),
    "HTML with 403": ([Fault(403, HTML, content_type="text/html")],
                      ["domains", "list"], 6, ["HTTP 403", "HTML page"]),
    "malformed JSON with 200": ([Fault(200, '{"data": [{"id": "dom_1", "na')],
                                ["domains", "list"], 1, ["HTTP 200", "truncated JSON"]),
    "empty body with 200": ([Fault(200, b"", method="GET", path="/mail/domains/dom_")],
                            ["domains", "show", "dom_0000000000000001"], 1, ["HTTP 200", "empty body"]),
    "JSON without data": ([Fault(200, {"items": []})],
                          ["domains", "list"], 1, ["HTTP 200", "'data'"]),
    "empty body with 503": ([Fault(503, b"", headers={"Retry-After": "0"}) for _ in range(4)],
                            ["domains", "list"], 1, ["HTTP 503", "empty body"]),
    "malformed error body": ([Fault(422, "{not json", method="POST")],
                             ["domains", "create", "new.example"], 2, ["HTTP 422", "JSON"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fault_gives_its_exit_code_one_line_and_changes_nothing(name, api_cli, api_server, existing, client_state):
    faults, args, code, fragments = CASES[name]
    before_server = api_server.domains()
    before_client = client_state()
    api_server.fail(*faults)

    result = api_cli(*args)

    assert result.exit_code == code, result.stderr
    assert_one_error_line(result, *fragments)
    assert result.stdout == ""
    assert api_server.domains() == before_server
    assert client_state() == before_client
    assert api_server.faults == [], "every queued fault was used"


def test_404_on_a_domain_id_that_does_not_exist(api_cli):
    result = api_cli("domains", "show", "dom_ffffffffffffffff")
    assert result.exit_code == 5
    assert_one_error_line(result, "No domain with id dom_ffffffffffffffff")


def test_unknown_name_is_not_found(api_cli, existing):
    result = api_cli("domains", "records", "missing.example")
    assert result.exit_code == 5
    assert_one_error_line(result, "No domain missing.example in your StackShift account")


def test_429_waits_for_retry_after_then_succeeds(api_cli, api_server, existing):
    api_server.fail(Fault(429, {"error": {"code": "rate_limited", "message": "Slow down."}},
                          headers={"Retry-After": "1"}))
    started = time.monotonic()
    result = api_cli("domains", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started >= 1.0
    assert [d["id"] for d in result.json()] == [existing]
    assert [r.status for r in api_server.requests_to("GET", "/mail/domains")] == [429, 200]
    assert result.stderr == ""


def test_500_then_success_is_retried(api_cli, api_server, existing):
    """500 is retried like 502-504: every request stackshift sends is safe to repeat."""
    api_server.fail(Fault(500, {"error": {"code": "internal", "message": "Boom."}}, headers={"Retry-After": "0"}))
    result = api_cli("domains", "show", "existing.example", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["id"] == existing


@pytest.mark.parametrize("fault", [
    Fault(502, HTML, content_type="text/html", method="POST", after=True, headers={"Retry-After": "0"}),
    Fault(503, b"", method="POST", after=True),
    Fault(504, {"error": {"code": "timeout", "message": "upstream"}}, method="POST", after=True),
    Fault(500, {"error": {"code": "internal", "message": "Boom."}}, method="POST", after=True),
    Fault(drop=True, method="POST", after=True),
], ids=["502-html", "503-empty", "504", "500", "connection-dropped"])
def test_create_whose_answer_was_lost_is_retried_and_makes_one_domain(fault, api_cli, api_server):
    api_server.fail(fault)
    result = api_cli("domains", "create", "retried.example", "--json")
    assert result.exit_code == 0, result.stderr
    assert [d.name for d in api_server.domains()] == ["retried.example"]
    posts = api_server.requests_to("POST", "/mail/domains")
    assert len(posts) == 2
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert result.json()["id"] == api_server.domains()[0].id


def test_each_create_has_its_own_idempotency_key(api_cli, api_server):
    assert api_cli("domains", "create", "one.example").exit_code == 0
    assert api_cli("domains", "create", "two.example").exit_code == 0
    keys = {r.headers["idempotency-key"] for r in api_server.requests_to("POST", "/mail/domains")}
    assert len(keys) == 2


def test_slow_response_past_the_timeout(api_cli, api_server, existing, config_dir, client_state):
    from stackshift_cli.config import ConfigFile

    ConfigFile(config_dir / "config.toml").set("default", "api.timeout", "0.5s")
    before = client_state()
    api_server.fail(Fault(delay=3, method="GET"))
    started = time.monotonic()
    result = api_cli("domains", "list")
    assert time.monotonic() - started < 2.5, "a read timeout is not retried"
    assert result.exit_code == 1
    assert_one_error_line(result, "did not answer", "within 0.5s", "api.timeout")
    assert client_state() == before


def test_connection_refused(api_server, data_dir, config_dir, client_state):
    before = client_state()
    cli = Cli({**api_server.env(), "STACKSHIFT_API_URL": f"http://127.0.0.1:{refused_port()}"})
    started = time.monotonic()
    result = cli("domains", "list")
    assert result.exit_code == 1
    line = assert_one_error_line(result, "Cannot reach the StackShift API at http://127.0.0.1:",
                                 "gave up after 4 attempts")
    assert "refused" in line.lower()
    assert time.monotonic() - started < 15
    assert client_state() == before


def test_delete_whose_answer_was_lost_is_still_deleted(api_cli, api_server, existing):
    api_server.fail(Fault(502, b"", method="DELETE", after=True, headers={"Retry-After": "0"}))
    result = api_cli("domains", "delete", "existing.example", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["deleted"] is True
    assert api_server.domains() == []


def test_409_with_exist_ok_prints_the_existing_domain(api_cli, api_server, existing):
    result = api_cli("domains", "create", "EXISTING.example.", "--exist-ok", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["id"] == existing
    assert len(api_server.domains()) == 1


def test_missing_key_on_the_api_backend(api_server, client_state):
    before = client_state()
    cli = Cli({"STACKSHIFT_BACKEND": "api", "STACKSHIFT_API_URL": api_server.url})
    result = cli("domains", "list")
    assert result.exit_code == 6
    assert_one_error_line(result, "No API key for profile default", "stackshift auth login")
    assert api_server.requests == []
    assert client_state() == before
