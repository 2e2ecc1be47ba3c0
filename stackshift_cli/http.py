"""The one HTTP transport: every HTTP API stackshift talks to (the StackShift API, a DNS provider's) goes through it.

    transport = Transport("https://api.example", headers={"Authorization": f"Bearer {key}"}, timeout=30.0,
                          max_bytes=10_000_000, ui=ui, secrets=[key], wording=Wording(api="the Example API"))
    reply = transport.request("GET", "/zones", params={"limit": 100}, expected=(200,), failure=my_errors)

What it guarantees, whatever the server does:
- a total deadline per attempt (`timeout`: connecting, sending and reading the whole answer), even against a
  server that trickles a byte now and then (httpx's own timeouts bound each read only);
- a largest answer (`max_bytes`, after decompression), read as it arrives in bounded memory;
- TLS as httpx does it (certificates verified, SSL_CERT_FILE honoured), and redirects never followed, so
  credentials go nowhere but `base_url`;
- retries of transient failures by one pure rule (`retry_delay`): which statuses and methods, Retry-After,
  exponential backoff with jitter, an overall time budget;
- `secrets` never shown: taken out of every answer and message (`[redacted]`), and shown by their last four
  characters in the --debug log;
- every failure a StackshiftError (ApiError, exit 1) worded with the caller's `Wording`; an answer with an
  unexpected status becomes whatever the caller's `failure` makes of it (AuthError, NotFound ...).

It knows nothing of what the API means. httpx is imported when the first request is sent, not before.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from stackshift_cli import __version__
from stackshift_cli.config import MAX_RESPONSE_BYTES, redact
from stackshift_cli.errors import ApiError, StackshiftError
from stackshift_cli.escape import quoted

if TYPE_CHECKING:
    import httpx

    from stackshift_cli.output import Ui

USER_AGENT = f"stackshift-cli/{__version__}"
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, only this much is read: it is for a one-line message
REDACTED = "[redacted]"
MAX_SHOWN_MESSAGE = 300
_DIGITS = re.compile(r"[0-9]+")


# ---------------------------------------------------------------- the retry policy (pure)


@dataclass(frozen=True)
class RetryPolicy:
    """Which failed attempts are tried again, how often, and for how long in all."""

    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    # Safe to send twice by their meaning (RFC 9110 9.2.2); POST and PATCH only when the request says so.
    repeatable_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
    max_attempts: int = 4
    budget: float = 60.0  # seconds of all attempts and waits, after which the last failure is reported
    backoff_base: float = 0.5
    backoff_cap: float = 8.0


def is_repeatable(policy: RetryPolicy, method: str, headers: Mapping[str, str] | None = None,
                  idempotent: bool | None = None) -> bool:
    """Whether a request may be sent again after a failure: as the caller declares it, else by its method, or by
    an Idempotency-Key header (the server answers a repeat with the first answer)."""
    if idempotent is not None:
        return idempotent
    if method.upper() in policy.repeatable_methods:
        return True
    return any(name.lower() == "idempotency-key" for name in (headers or {}))


def retry_delay(policy: RetryPolicy, *, attempt: int, status: int | None, retry_after: str | None,
                elapsed: float, repeatable: bool, rng: random.Random) -> float | None:
    """Seconds to wait before trying again after failed attempt number `attempt` (1 is the first), or None when
    the failure is final.

    `status` is the answer's HTTP status, or None when no answer came (refused, reset, connect timeout, closed).
    The wait is the server's Retry-After when it gives a usable one, else exponential backoff with jitter
    (`backoff_base` doubled each attempt up to `backoff_cap`, drawn between half and all of that). No retry when
    the attempts are used up, or the wait would end past the budget (a Retry-After too long ends them at once).
    """
    if not repeatable or (status is not None and status not in policy.statuses) or attempt >= policy.max_attempts:
        return None
    wait = parse_retry_after(retry_after) if retry_after is not None else None
    if wait is None:
        ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
        wait = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if elapsed + wait > policy.budget:
        return None
    return wait


def parse_retry_after(value: str) -> float | None:
    """Retry-After in seconds or as an HTTP date -> seconds from now (never negative); None when it is neither."""
    text = value.strip()
    if _DIGITS.fullmatch(text):  # ASCII digits only: "²".isdigit() is True, but it is no number
        return float(text)  # a number too large to wait for (even inf) ends the retries
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# ---------------------------------------------------------------- what the caller provides and gets


@dataclass(frozen=True)
class Wording:
    """How the transport's errors name the API and the settings that bound it: the caller's words. The settings
    are stackshift config keys: an answer over the limit suggests `stackshift config set <size_setting> <more>`."""

    api: str = "the API"  # "the StackShift API"
    timeout_setting: str = "timeout"  # the setting `timeout` came from ("api.timeout")
    size_setting: str = "max_response_bytes"  # the setting `max_bytes` came from ("api.max_response_bytes")
    size_ceiling: int = MAX_RESPONSE_BYTES  # the largest value that setting accepts
    unreachable_hint: str | None = None  # "Check your network, or the URL (api.url, STACKSHIFT_API_URL)."

    @property
    def api_title(self) -> str:
        return self.api[:1].upper() + self.api[1:]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, read whole (within the limits), secrets taken out."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


Failure = Callable[[Reply], StackshiftError]


# ---------------------------------------------------------------- the transport


class Transport:
    """Requests to one HTTP API at `base_url`; safe to use from several threads (`verify --all`).

    `headers` go with every request (the --debug log shows those that carry a secret, redacted); `timeout` bounds
    each attempt in all, `max_bytes` each answer. `rng`, `sleep` and `clock` are for tests.
    """

    def __init__(self, base_url: str, *, headers: Mapping[str, str], timeout: float, max_bytes: int, ui: Ui,
                 secrets: Sequence[str] = (), wording: Wording = Wording(), policy: RetryPolicy = RetryPolicy(),
                 rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.ui = ui
        self.secrets = tuple(s for s in secrets if s)
        self.wording = wording
        self.policy = policy
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.clock = clock
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None, expected: tuple[int, ...] = (200,),
                failure: Failure | None = None, idempotent: bool | None = None) -> Reply:
        """Send one logical request, retrying transient failures; return the reply when its status is `expected`,
        else raise `failure(reply)` (by default an ApiError naming the status).

        `idempotent` says whether the request may be sent twice (default: by its method or an Idempotency-Key
        header). A DELETE repeated after a lost answer that finds nothing (404) counts as done: an earlier
        attempt did it. A read timeout, an answer past `timeout` or larger than `max_bytes` is not retried."""
        import httpx

        failure = failure or (lambda reply: self.status_error(reply, method, path))
        headers = dict(headers or {})
        repeatable = is_repeatable(self.policy, method, headers, idempotent)
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            self._log_request(method, path, params, headers, attempt)
            sent = self.clock()
            reply: Reply | None = None
            try:
                reply = self._exchange(method, path, params, json, headers, expected)
            except httpx.TimeoutException as exc:
                if not isinstance(exc, httpx.ConnectTimeout):  # reachable but slow: a retry would multiply the wait
                    raise self.too_slow(method, path) from None
                error: StackshiftError = self.unreachable(exc)
            except httpx.TransportError as exc:  # refused, reset, DNS failure, closed before answering
                error = self.unreachable(exc)
            except httpx.HTTPError as exc:  # a body that does not decode as its Content-Encoding says, ...
                raise ApiError(f"{self.wording.api_title}'s answer to {method} {path} cannot be read: "
                               f"{self.scrub(str(exc) or type(exc).__name__)}.") from None
            if reply is not None:
                self.ui.debug_log(f"<- HTTP {reply.status_code} {reply.reason_phrase} "
                                  f"({(self.clock() - sent) * 1000:.0f} ms)")
                if reply.status_code in expected:
                    return reply
                if method == "DELETE" and attempt > 1 and reply.status_code == 404:
                    return reply  # an earlier attempt deleted it and its answer was lost
                error = failure(reply)
                if reply.status_code not in self.policy.statuses:
                    raise error  # not a transient failure: final at once
            delay = retry_delay(self.policy, attempt=attempt, status=reply.status_code if reply else None,
                                retry_after=reply.headers.get("retry-after") if reply else None,
                                elapsed=self.clock() - started, repeatable=repeatable, rng=self.rng)
            if delay is None:
                if attempt > 1:
                    error.message = f"{error.message.rstrip('.')} (gave up after {attempt} attempts)."
                raise error
            self.ui.debug_log(f"retrying in {delay:.1f}s")
            self.sleep(delay)

    def scrub(self, text: str) -> str:
        """`text` with every secret replaced by [redacted]: servers and proxies sometimes echo what they were sent."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------ errors, in the caller's words

    def status_error(self, reply: Reply, method: str, path: str) -> ApiError:
        """The error of an answer whose status was not expected, when the caller has no words of its own."""
        what = describe_body(reply.content, reply.content_type)
        return ApiError(f"{self.wording.api_title} failed {method} {path} (HTTP {reply.status_code}: {what}).")

    def too_slow(self, method: str, path: str) -> ApiError:
        return ApiError(f"{self.wording.api_title} at {self.base_url} did not answer {method} {path} within "
                        f"{self.timeout:g}s ({self.wording.timeout_setting}).")

    def too_large(self, method: str, path: str, limit: int) -> ApiError:
        setting = self.wording.size_setting
        more = min(limit * 5, self.wording.size_ceiling)
        how = (f"to allow more: `stackshift config set {setting} {size_text(more).replace(' ', '')}`"
               if more > limit else f"{size_text(limit)} is the most it can be")
        return ApiError(f"{self.wording.api_title}'s answer to {method} {path} is larger than {size_text(limit)}, "
                        f"the limit {setting} sets; stackshift stopped reading it ({how}).")

    def unreachable(self, exc: BaseException) -> ApiError:
        reason = str(exc) or type(exc).__name__
        return ApiError(f"Cannot reach {self.wording.api} at {self.base_url}: {self.scrub(reason)}.",
                        hint=self.wording.unreachable_hint)

    # ------------------------------------------------------------ one attempt

    @property
    def client(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.base_url,
                    timeout=httpx.Timeout(self.timeout),
                    headers=self.headers,
                    follow_redirects=False,
                    # One connection per request: the deadline (_Deadline) knows the socket of each request because
                    # it sees the connection being made, and can end it.
                    limits=httpx.Limits(max_keepalive_connections=0),
                )
            return self._client

    def _exchange(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any,
                  headers: dict[str, str], expected: tuple[int, ...]) -> Reply:
        """One HTTP request and its whole answer, within `timeout` in all and `max_bytes`.

        httpx's timeouts bound each read; a server that sends a byte now and then would keep a request alive
        forever. _Deadline ends the connection when the request's total time is up."""
        import httpx

        client = self.client
        deadline = _Deadline(self.timeout)
        request = client.build_request(method, path, params=params, json=json, headers=headers,
                                       extensions={"trace": deadline.trace})
        with deadline:
            try:
                response = client.send(request, stream=True)
                try:
                    content = self._read_body(response, method, path, strict=response.status_code in expected)
                finally:
                    response.close()
            except httpx.HTTPError:
                if deadline.cut:
                    raise self.too_slow(method, path) from None
                raise
        if deadline.cut:  # the connection was ended: what was read may be only part of the answer
            raise self.too_slow(method, path)
        for secret in self.secrets:  # an answer that echoes a secret (a proxy's page, a record) never shows it
            content = content.replace(secret.encode(), REDACTED.encode())
        return Reply(response.status_code, response.reason_phrase, response.headers, content)

    def _read_body(self, response: httpx.Response, method: str, path: str, *, strict: bool) -> bytes:
        """The body, read in bounded memory: over `max_bytes` it is an error when `strict` (an answer the caller
        must read whole), else it is cut at ERROR_BODY_BYTES (an error answer: a message is enough)."""
        limit = self.max_bytes if strict else min(ERROR_BODY_BYTES, self.max_bytes)
        declared = response.headers.get("content-length", "").strip()
        if strict and _DIGITS.fullmatch(declared) and (len(declared) > 15 or int(declared) > limit):
            raise self.too_large(method, path, limit)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > limit:
                if strict:
                    raise self.too_large(method, path, limit)
                chunks.append(chunk[: limit - size])
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _log_request(self, method: str, path: str, params: Mapping[str, Any] | None, headers: Mapping[str, str],
                     attempt: int) -> None:
        if self.ui.debug:
            self.ui.debug_log(request_line(method, self.base_url + path, params, self.headers, headers,
                                           self.secrets, attempt, self.policy.max_attempts))


def request_line(method: str, url: str, params: Mapping[str, Any] | None, fixed: Mapping[str, str],
                 extra: Mapping[str, str], secrets: Sequence[str], attempt: int, attempts: int) -> str:
    """The --debug line of one attempt: method, URL, attempt, the fixed headers that carry a secret (shown by its
    last four characters, so the log says which credential went) and this request's own headers."""
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    shown = {name: value for name, value in fixed.items() if any(s in value for s in secrets)} | dict(extra)
    text = "".join(f"; {name}: {value}" for name, value in shown.items())
    line = f"-> {method} {url}{query} (attempt {attempt}/{attempts}{text})"
    for secret in secrets:
        line = line.replace(secret, redact(secret))
    return line


# ---------------------------------------------------------------- the total deadline


class _Deadline:
    """Ends one HTTP exchange when its total time is up, whatever the server does.

    httpx's timeouts bound each operation: a server that trickles its headers or body a byte at a time never
    trips them. httpcore's trace extension tells us each connection as it is made (the client keeps none
    alive, so every request makes its own); when the time is up a timer thread shuts that socket down, which
    ends any read blocked on it. `cut` says it did. (Before a connection exists there is nothing to cut: the
    connect timeout, which is the same timeout, ends a slow connect.)"""

    def __init__(self, seconds: float) -> None:
        self.cut = False
        self._expired = False
        self._done = False
        self._stream: Any = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: remember the newest stream of this request (TCP, then TLS over it)."""
        if not event.endswith(("connect_tcp.complete", "connect_unix_socket.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        with self._lock:
            self._stream = stream
            late = self._expired and not self._done
            self.cut = self.cut or late
        if late:  # the time was up before the connection was made
            self._shutdown(stream)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._expired = True
            stream = self._stream
            self.cut = stream is not None
        if stream is not None:
            self._shutdown(stream)

    @staticmethod
    def _shutdown(stream: Any) -> None:
        try:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's: wakes a reader blocked on it
        except (OSError, AttributeError, TypeError):
            pass


# ---------------------------------------------------------------- describing what came back (pure)


def describe_body(content: bytes, content_type_header: str) -> str:
    """What a body that is not the expected JSON looks like, in a few words."""
    if not content.strip():
        return "an empty body"
    content_type = content_type_header.split(";")[0].strip().lower() or "no content type"
    head = content.lstrip()[:200].lower()
    if content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        title = _html_title(content)
        return f"an HTML page{f' ({title!r})' if title else ''}, probably from a proxy"
    if content_type.endswith("json") or head.startswith((b"{", b"[")):
        return f"malformed or truncated JSON ({len(content)} bytes)"
    return f"a {quoted(content_type, 60)} body ({len(content)} bytes)"


def _html_title(content: bytes) -> str | None:
    match = re.search(rb"<title[^>]*>(.*?)</title>", content[:4096], re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    return one_line(match.group(1).decode("utf-8", errors="replace"))[:80] or None


def one_line(text: str) -> str:
    """A server's text as one line of at most MAX_SHOWN_MESSAGE characters."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_SHOWN_MESSAGE else line[: MAX_SHOWN_MESSAGE - 1] + "…"


def size_text(value: int) -> str:
    """Bytes as a size setting reads them back: 10 MB, 2 KB, 524288 (no unit when not round)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return str(value)
