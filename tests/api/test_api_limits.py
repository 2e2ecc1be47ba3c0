"""Limits that hold whatever the server does: a total deadline per request (api.timeout), a largest answer
(api.max_response_bytes) read in bounded memory, and a longest listing. Each ends in one error line, exit 1.

The wall-clock bounds below (< 20 s) only catch a hang; what each test checks is the error it ends with.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from stackshift_cli.config import ConfigFile
from tests.api import hostile
from tests.api.server import ApiServer, Fault
from tests.api.test_api_faults import assert_one_error_line
from tests.api.tls import self_signed, server_context
from tests.helpers import Cli

HANG = 20.0  # seconds: a test taking longer than this is a request nothing ended


@pytest.fixture
def config(config_dir) -> ConfigFile:
    return ConfigFile(config_dir / "config.toml")


@pytest.fixture
def existing(api_cli) -> str:
    result = api_cli("domains", "create", "existing.example", "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


def timed(api_cli, *args):
    started = time.monotonic()
    result = api_cli(*args)
    return result, time.monotonic() - started


# ---------------------------------------------------------------- the total deadline (api.timeout)


def listing(api_server) -> dict:
    return {"data": [d.to_json() for d in api_server.domains()], "nextCursor": None}


def test_a_server_that_trickles_its_headers_is_cut_at_the_timeout(api_cli, api_server, existing, config):
    """Each byte comes well within api.timeout, so httpx's own (per read) timeout never fires."""
    config.set("default", "api.timeout", "3s")
    api_server.fail(Fault(stream=hostile.byte_by_byte(hostile.answer(200, listing(api_server))), pace=0.5,
                          give_up=30, method="GET", path="/mail/domains"))

    result, elapsed = timed(api_cli, "domains", "list")

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "did not answer GET /mail/domains within 3s (api.timeout)")
    assert elapsed < HANG
    assert len(api_server.requests_to("GET")) == 1, "a request cut at its deadline is not retried"


def test_a_server_that_trickles_its_body_is_cut_at_the_timeout(api_cli, api_server, existing, config):
    config.set("default", "api.timeout", "3s")
    api_server.fail(Fault(stream=hostile.body_byte_by_byte(200, listing(api_server)), pace=2.0, give_up=40,
                          method="GET", path="/mail/domains"))

    result, elapsed = timed(api_cli, "domains", "list")

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "did not answer GET /mail/domains within 3s (api.timeout)")
    assert elapsed < HANG


def test_the_deadline_holds_on_a_later_page_of_a_listing(api_cli, api_server, existing, config):
    """Page 2 comes on a connection of its own, which the deadline ends too."""
    assert api_cli("domains", "create", "second.example").exit_code == 0
    api_server.page_limit = 1
    config.set("default", "api.timeout", "3s")
    page_2 = {"data": [api_server.domains()[1].to_json()], "nextCursor": None}
    api_server.fail(Fault(stream=hostile.byte_by_byte(hostile.answer(200, page_2)), pace=0.5, give_up=30,
                          method="GET", path="/mail/domains", skip=1))

    result, elapsed = timed(api_cli, "domains", "list")

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "did not answer GET /mail/domains within 3s (api.timeout)")
    assert elapsed < HANG
    assert [r.query.get("cursor") for r in api_server.requests_to("GET")] == [None, ["c1"]]


@pytest.fixture
def tls_server(api_server, tmp_path, monkeypatch):
    """The same API over HTTPS (a self-signed certificate the client trusts through SSL_CERT_FILE)."""
    cert_file, key_file = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    server = ApiServer(tmp_path / "tls-server")
    server.httpd.socket = server_context(cert_file, key_file).wrap_socket(server.httpd.socket, server_side=True)
    server.url = f"https://127.0.0.1:{server.port}"
    server.start()
    yield server
    server.stop()


def test_the_deadline_holds_over_https(tls_server, config):
    cli = Cli(tls_server.env())
    assert cli("domains", "create", "existing.example").exit_code == 0, "the client trusts the test certificate"
    config.set("default", "api.timeout", "3s")
    tls_server.fail(Fault(stream=hostile.body_byte_by_byte(200, listing(tls_server)), pace=0.5, give_up=30,
                          method="GET", path="/mail/domains"))

    result, elapsed = timed(cli, "domains", "list")

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "The StackShift API at https://127.0.0.1:", "did not answer GET /mail/domains "
                                                                               "within 3s (api.timeout)")
    assert elapsed < HANG


def test_a_timely_answer_is_not_cut(api_cli, api_server, existing, config):
    """An answer that takes most of api.timeout, in a few pieces, is read whole."""
    config.set("default", "api.timeout", "5s")
    data = hostile.answer(200, listing(api_server))
    pieces = [data[:10], data[10:60], data[60:]]
    api_server.fail(Fault(stream=lambda: pieces, pace=1.0, method="GET", path="/mail/domains"))
    result = api_cli("domains", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert [d["id"] for d in result.json()] == [existing]


# ---------------------------------------------------------------- the largest answer (api.max_response_bytes)


def test_an_endless_chunked_body_ends_at_the_limit_in_bounded_memory(api_cli, api_server):
    api_server.fail(Fault(stream=hostile.endless_chunked(), method="GET", path="/mail/domains"))

    tracemalloc.start()
    try:
        result, elapsed = timed(api_cli, "domains", "list")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "The StackShift API's answer to GET /mail/domains is larger than 10 MB, the limit "
                                  "api.max_response_bytes sets",
                          "`stackshift config set api.max_response_bytes 50MB`")
    assert elapsed < HANG
    assert peak < 40_000_000, f"{peak} bytes allocated at most: the body was not read in bounded memory"


@pytest.mark.parametrize("declared", [True, False], ids=["Content-Length", "until-close"])
def test_a_100_mb_body_fails_fast(declared, api_cli, api_server):
    api_server.fail(Fault(stream=hostile.big_body(100 * hostile.MB, declared=declared), method="GET",
                          path="/mail/domains"))
    result, elapsed = timed(api_cli, "domains", "list")
    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "is larger than 10 MB", "api.max_response_bytes")
    assert elapsed < HANG


def test_a_gzip_bomb_is_measured_inflated(api_cli, api_server):
    api_server.fail(Fault(stream=hostile.gzip_bomb(50 * hostile.MB), method="GET", path="/mail/domains"))
    result = api_cli("domains", "list")
    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "is larger than 10 MB")


def test_the_limit_is_configurable(api_cli, api_server, existing, config):
    for name in ("a.example", "b.example", "c.example", "d.example"):
        assert api_cli("domains", "create", name).exit_code == 0
    assert api_cli("config", "set", "api.max_response_bytes", "2KB").exit_code == 0

    small = api_cli("domains", "list")
    assert small.exit_code == 1
    assert_one_error_line(small, "is larger than 2 KB, the limit api.max_response_bytes sets",
                          "`stackshift config set api.max_response_bytes 10KB`")

    assert api_cli("config", "set", "api.max_response_bytes", "10KB").exit_code == 0
    assert api_cli("config", "get", "api.max_response_bytes").stdout == "10000\n"
    large = api_cli("domains", "list", "--json")
    assert large.exit_code == 0, large.stderr
    assert len(large.json()) == 5


def test_a_huge_error_answer_still_gives_its_status(api_cli, api_server):
    """Of an error answer only the first 64 KiB are read: enough for the one-line message."""
    page = hostile.head(503, {"Content-Type": "text/html", "Connection": "close"},
                        reason="Service Unavailable") + b"<html><title>Down</title>" + b" " * hostile.MB
    api_server.fail(*[Fault(stream=lambda: [page] + [b" " * hostile.MB] * 99, method="GET", path="/mail/domains",
                            status=503) for _ in range(4)])
    result, elapsed = timed(api_cli, "domains", "list")
    assert result.exit_code == 1
    assert_one_error_line(result, "HTTP 503", "HTML page ('Down')", "gave up after 4 attempts")
    assert elapsed < HANG


# ---------------------------------------------------------------- the longest listing


def test_a_server_that_hands_out_new_cursors_forever_is_stopped(api_cli, api_server):
    """1000 pages at most; this server would go on for 1500 (then end, so a client without the limit ends)."""
    counter = iter(range(10**9))
    api_server.fail(Fault(respond=lambda seen: (200, {"data": [], "nextCursor": f"n{next(counter)}"}), times=1500,
                          method="GET", path="/mail/domains"))

    result, elapsed = timed(api_cli, "domains", "list")

    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "The StackShift API's domain list goes on past 1000 pages; stackshift stopped "
                                  "there (it reads at most 1000 pages and 100000 domains).")
    assert len(api_server.requests_to("GET")) == 1000
    assert elapsed < 120  # a thousand requests, each on its own connection


def test_a_listing_of_more_than_100000_domains_is_stopped(api_cli, api_server):
    items = [{"id": f"dom_{i:016x}", "name": f"d{i}.example"} for i in range(100_001)]
    api_server.fail(Fault(200, {"data": items, "nextCursor": None}, method="GET", path="/mail/domains"))
    result = api_cli("domains", "list")
    assert result.exit_code == 1, result.stderr
    assert_one_error_line(result, "The StackShift API's domain list holds more than 100000 domains; stackshift "
                                  "reads at most 100000.")


# ---------------------------------------------------------------- Retry-After (item 2)


@pytest.mark.parametrize("value", [
    "²",  # str.isdigit() is True, float() fails
    "①".encode(),  # the same, sent as UTF-8
    "٣".encode(),  # a decimal digit float() reads: still not what HTTP means
    "-1", "1.5", "1e3", "", "soon", "0x10",
    "Mon, 99 Foo 2026 99:99:99 GMT",
    "Sat, 01 Jan 0001 00:00:00 +2359",
], ids=["superscript", "circled", "arabic-indic", "negative", "fraction", "exponent", "empty", "word", "hex",
        "bad-date", "date-before-year-1"])
def test_an_odd_retry_after_falls_back_to_backoff(value, api_cli, api_server, existing):
    error = hostile.answer(503, {"error": {"code": "busy", "message": "Busy."}}, {"Retry-After": value})
    api_server.fail(Fault(stream=hostile.whole(error), status=503, method="GET", path="/mail/domains"))
    result, elapsed = timed(api_cli, "domains", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert [d["id"] for d in result.json()] == [existing]
    assert [r.status for r in api_server.requests_to("GET")] == [503, 200]
    assert elapsed < HANG


@pytest.mark.parametrize("value", ["9" * 400, "Fri, 31 Dec 9999 23:59:59 -2359"], ids=["400-digits", "year-9999"])
def test_a_retry_after_past_the_budget_ends_the_retries(value, api_cli, api_server, existing):
    api_server.fail(Fault(503, {"error": {"code": "busy", "message": "Busy."}}, headers={"Retry-After": value}))
    result = api_cli("domains", "list")
    assert result.exit_code == 1
    assert_one_error_line(result, "HTTP 503", "Busy.")
    assert len(api_server.requests_to("GET")) == 1


# ---------------------------------------------------------------- redirects (item 6)


def test_a_redirect_names_where_it_points_without_credentials_and_is_not_followed(api_cli, api_server):
    location = "https://admin:hunter2@evil.example/steal?key=" + "k" * 500
    api_server.fail(Fault(302, b"", headers={"Location": location}, method="GET", path="/mail/domains"))
    result = api_cli("domains", "list")
    assert result.exit_code == 1
    line = assert_one_error_line(result, "The StackShift API answered GET /mail/domains with a redirect (HTTP 302) "
                                         "to 'https://…@evil.example/steal?key=kkk", "…'",
                                 "stackshift does not follow redirects: check api.url (http://127.0.0.1:")
    assert "hunter2" not in result.stderr and "admin" not in result.stderr
    assert len(line) < 300
    assert len(api_server.requests) == 1, "not followed"


def test_a_redirect_to_a_location_with_control_characters_shows_them_escaped(api_cli, api_server):
    api_server.fail(Fault(301, b"", headers={"Location": "/v2/mail/domains\x85\u00a0x"}, method="GET"))
    result = api_cli("domains", "list")
    assert result.exit_code == 1
    assert_one_error_line(result, "redirect (HTTP 301) to '/v2/mail/domains\\x85\\u00a0x'")


def test_a_redirect_without_a_location(api_cli, api_server):
    api_server.fail(Fault(307, b"", method="POST"))
    result = api_cli("domains", "create", "new.example")
    assert result.exit_code == 1
    assert_one_error_line(result, "answered POST /mail/domains with a redirect (HTTP 307) without a Location")
