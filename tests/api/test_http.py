"""The HTTP transport on its own (stackshift_cli/http.py): the retry policy as a table, redaction, and the retry
loop over scripted answers. No server: what a real one does is in test_api_faults.py and test_api_limits.py."""

from __future__ import annotations

import io
import random
import socket

import httpx
import pytest

from stackshift_cli.errors import ApiError, AuthError
from stackshift_cli.http import (Reply, RetryPolicy, Transport, Wording, is_repeatable, request_line,
                                 retry_delay)
from stackshift_cli.output import Ui

POLICY = RetryPolicy()


class Highest:
    """An rng whose draw is always the top of the range: the backoff is its ceiling."""

    def uniform(self, low: float, high: float) -> float:
        return high


def delay(*, attempt=1, status=503, retry_after=None, elapsed=0.0, repeatable=True, rng=None):
    return retry_delay(POLICY, attempt=attempt, status=status, retry_after=retry_after, elapsed=elapsed,
                       repeatable=repeatable, rng=rng or Highest())


# ---------------------------------------------------------------- which failures are retried, and after how long


@pytest.mark.parametrize("status, retried", [
    (429, True), (500, True), (502, True), (503, True), (504, True), (None, True),  # None: no answer at all
    (400, False), (401, False), (403, False), (404, False), (409, False), (422, False), (501, False), (302, False),
])
def test_transient_statuses_and_lost_connections_are_retried(status, retried):
    assert (delay(status=status) is not None) == retried


@pytest.mark.parametrize("attempt, waited", [(1, 0.5), (2, 1.0), (3, 2.0)])
def test_backoff_doubles_from_half_a_second(attempt, waited):
    assert delay(attempt=attempt) == waited


def test_backoff_is_capped():
    policy = RetryPolicy(max_attempts=10)
    assert retry_delay(policy, attempt=9, status=503, retry_after=None, elapsed=0, repeatable=True,
                       rng=Highest()) == 8.0


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_backoff_jitter_is_drawn_between_half_and_all_of_the_step(attempt):
    ceiling = 0.5 * 2 ** (attempt - 1)
    rng = random.Random(attempt)
    draws = [delay(attempt=attempt, rng=rng) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in draws)
    assert len(set(draws)) > 100, "jittered, not fixed"


def test_the_fourth_attempt_is_the_last():
    assert delay(attempt=3) is not None
    assert delay(attempt=4) is None


@pytest.mark.parametrize("retry_after, waited", [
    ("0", 0.0), ("1", 1.0), ("59", 59.0), (" 7 ", 7.0),
    ("soon", 0.5), ("1.5", 0.5), ("-1", 0.5), ("²", 0.5), ("", 0.5),  # unusable: backoff applies
    ("Mon, 01 Jan 2001 00:00:00 GMT", 0.0),  # a date in the past: at once
])
def test_retry_after_is_obeyed_when_usable(retry_after, waited):
    assert delay(retry_after=retry_after) == waited


@pytest.mark.parametrize("retry_after, elapsed, retried", [
    ("60", 0.0, True), ("61", 0.0, False), ("3600", 0.0, False), ("9" * 400, 0.0, False),
    ("30", 29.0, True), ("30", 31.0, False),  # the budget counts what was spent already
    (None, 59.0, True), (None, 59.6, False),  # a backoff too
])
def test_a_wait_that_would_end_past_the_budget_ends_the_retries(retry_after, elapsed, retried):
    assert (delay(retry_after=retry_after, elapsed=elapsed) is not None) == retried


def test_a_request_that_is_not_repeatable_is_never_retried():
    assert delay(status=503, repeatable=False) is None
    assert delay(status=None, repeatable=False) is None


@pytest.mark.parametrize("method, headers, declared, repeatable", [
    ("GET", {}, None, True), ("HEAD", {}, None, True), ("PUT", {}, None, True), ("DELETE", {}, None, True),
    ("OPTIONS", {}, None, True), ("get", {}, None, True),
    ("POST", {}, None, False), ("PATCH", {}, None, False),
    ("POST", {"Idempotency-Key": "k"}, None, True), ("POST", {"idempotency-key": "k"}, None, True),
    ("POST", {}, True, True), ("GET", {}, False, False),  # the caller's word wins
])
def test_which_requests_may_be_sent_again(method, headers, declared, repeatable):
    assert is_repeatable(POLICY, method, headers, declared) is repeatable


# ---------------------------------------------------------------- redaction in the --debug log

SECRET = "sk_live_0123456789abcdef"


def test_the_debug_line_shows_a_secret_by_its_last_four_characters_only():
    line = request_line("POST", "https://api.example/x", {"limit": 1},
                        {"User-Agent": "ua", "Accept": "application/json", "Authorization": f"Bearer {SECRET}"},
                        {"Idempotency-Key": "k1"}, [SECRET], 2, 4)
    assert line == ("-> POST https://api.example/x?limit=1 (attempt 2/4; Authorization: Bearer ****cdef; "
                    "Idempotency-Key: k1)")


def test_the_debug_line_leaves_out_fixed_headers_without_secrets():
    line = request_line("GET", "https://api.example/x", None, {"User-Agent": "ua"}, {}, [], 1, 4)
    assert line == "-> GET https://api.example/x (attempt 1/4)"


# ---------------------------------------------------------------- the retry loop, over scripted answers


class Scripted(Transport):
    """A transport whose attempts get the next scripted answer (a Reply, or an exception to raise)."""

    def __init__(self, answers, **kwargs) -> None:
        self.answers = list(answers)
        self.slept: list[float] = []
        self.attempts = 0
        kwargs.setdefault("wording", Wording(api="the Example API"))
        super().__init__("https://api.example", headers={"Authorization": f"Bearer {SECRET}"}, timeout=5,
                         max_bytes=1000, ui=Ui(stderr=io.StringIO()), secrets=[SECRET], rng=Highest(),
                         sleep=self.slept.append, **kwargs)

    def _exchange(self, method, path, params, json, headers, expected):
        self.attempts += 1
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, "", httpx.Headers(headers or {}), body)


def test_a_transient_failure_then_success_returns_the_success_after_the_backoff():
    transport = Scripted([reply(503), reply(502, headers={"Retry-After": "2"}), reply(200, b"ok")])
    assert transport.request("GET", "/x").content == b"ok"
    assert transport.slept == [0.5, 2.0]


def test_the_last_failure_says_how_many_attempts_were_made():
    transport = Scripted([reply(503)] * 4)
    with pytest.raises(ApiError) as raised:
        transport.request("GET", "/x")
    assert raised.value.message == "The Example API failed GET /x (HTTP 503: an empty body) (gave up after 4 attempts)."
    assert transport.attempts == 4


def test_a_final_status_ends_at_once_with_the_callers_error():
    transport = Scripted([reply(503), reply(401)])
    with pytest.raises(AuthError) as raised:
        transport.request("GET", "/x", failure=lambda r: AuthError(f"refused (HTTP {r.status_code})."))
    assert raised.value.message == "refused (HTTP 401)."  # not "gave up": it was not worth another try
    assert transport.attempts == 2


def test_a_post_without_idempotency_is_sent_once():
    transport = Scripted([reply(503)])
    with pytest.raises(ApiError):
        transport.request("POST", "/x")
    assert transport.attempts == 1 and transport.slept == []


def test_a_repeated_delete_that_finds_nothing_is_done():
    transport = Scripted([reply(502), reply(404)])
    assert transport.request("DELETE", "/x/1", expected=(204,)).status_code == 404


def test_a_first_delete_that_finds_nothing_is_the_callers_error():
    transport = Scripted([reply(404)])
    with pytest.raises(ApiError, match="HTTP 404"):
        transport.request("DELETE", "/x/1", expected=(204,))


def test_a_read_timeout_is_not_retried_and_names_the_callers_setting():
    transport = Scripted([httpx.ReadTimeout("slow")], wording=Wording(api="the Example API",
                                                                      timeout_setting="example.timeout"))
    with pytest.raises(ApiError) as raised:
        transport.request("GET", "/x")
    assert raised.value.message == "The Example API at https://api.example did not answer GET /x within 5s " \
                                   "(example.timeout)."
    assert transport.attempts == 1


def test_an_echoed_secret_never_reaches_a_message():
    transport = Scripted([httpx.ConnectError(f"refused for {SECRET}")] * 4,
                         wording=Wording(api="the Example API", unreachable_hint="Check example.url."))
    with pytest.raises(ApiError) as raised:
        transport.request("GET", "/x")
    assert SECRET not in raised.value.message and "[redacted]" in raised.value.message
    assert raised.value.message.startswith("Cannot reach the Example API at https://api.example: refused for")
    assert raised.value.hint == "Check example.url."


def test_the_debug_log_shows_each_attempt_with_the_secret_redacted():
    transport = Scripted([reply(503), reply(200)])
    transport.ui.debug = True
    transport.request("GET", "/x")
    log = transport.ui.stderr.getvalue()
    assert "debug: -> GET https://api.example/x (attempt 1/4; Authorization: Bearer ****cdef)" in log
    assert "debug: -> GET https://api.example/x (attempt 2/4; Authorization: Bearer ****cdef)" in log
    assert "debug: retrying in 0.5s" in log and SECRET not in log


def test_a_refused_connection_is_retried_then_reported_in_the_callers_words():
    """Real httpx against a loopback port nobody listens on: no server needed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    transport = Transport(f"http://127.0.0.1:{port}", headers={}, timeout=5, max_bytes=1000,
                          ui=Ui(stderr=io.StringIO()), wording=Wording(api="the Example API"), sleep=slept.append)
    try:
        with pytest.raises(ApiError) as raised:
            transport.request("GET", "/x")
    finally:
        transport.close()
    assert raised.value.message.startswith(f"Cannot reach the Example API at http://127.0.0.1:{port}: ")
    assert raised.value.message.endswith("(gave up after 4 attempts).")
    assert len(slept) == 3
