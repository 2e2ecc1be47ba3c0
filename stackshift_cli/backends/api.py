"""The StackShift API backend: the Backend interface over HTTPS (`/mail/domains`, see docs/api.md).

This is the only module that imports httpx, and it is imported only when the API backend is used.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Sequence
from urllib.parse import quote

import httpx

from stackshift_cli import __version__
from stackshift_cli.backends.base import resolve_ref
from stackshift_cli.config import MAX_RESPONSE_BYTES, Settings, redact, shown_url
from stackshift_cli.domain import VERIFIED, DnsRecord, Domain
from stackshift_cli.errors import (AlreadyExists, ApiError, AuthError, InvalidApiData, NotFound, StackshiftError,
                                   UsageError)
from stackshift_cli.escape import quoted
from stackshift_cli.namecache import remember_api_domains
from stackshift_cli.output import Ui

DOMAINS_PATH = "/mail/domains"
PAGE_SIZE = 100
# Retries: every request stackshift sends is safe to repeat (GET, DELETE, a re-check, and a create
# carrying its Idempotency-Key), so transient failures are retried within these bounds.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 4
RETRY_BUDGET_S = 60.0  # total time of all attempts and waits, after which the last failure is reported
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
LOGIN_HINT = "run `stackshift auth login`"
_MAX_SHOWN_MESSAGE = 300
# Limits that hold whatever the server does (api.timeout and api.max_response_bytes are the configurable ones).
MAX_LIST_PAGES = 1000  # pages of one listing: a server that hands out new cursors forever is stopped here
MAX_LIST_DOMAINS = 100_000  # domains (valid or not) in one listing
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, only this much is read: it is for a one-line message
_CURSOR = re.compile(r"[\x21-\x7e]{1,1024}")  # a pagination cursor: printable ASCII, sent back as a query parameter
_DIGITS = re.compile(r"[0-9]+")


class ApiBackend:
    """Domains in the user's StackShift account; a domain NAME is resolved to its id by listing."""

    kind = "api"

    def __init__(self, settings: Settings, ui: Ui, *, key: str | None = None) -> None:
        self.settings = settings
        self.ui = ui
        self.base_url: str = settings.get("api.url")
        self._key = key
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()  # `verify --all` checks domains from several threads

    # ------------------------------------------------------------ the Backend interface

    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool) -> tuple[Domain, bool]:
        body: dict[str, Any] = {"name": name}
        if selector is not None:
            body["dkimSelector"] = selector
        if inbound:
            body["inbound"] = True
        # One key for every attempt of this create: a retry after a lost response never makes two domains.
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = self._request("POST", DOMAINS_PATH, json_body=body, headers=headers, expected=(200, 201),
                                 conflict_ok=True)
        if response.status_code == 409:
            existing = self._find_by_name(name)
            if existing is None:  # deleted between the conflict and our look-up; report what the API said
                raise AlreadyExists(f"{name} already exists in your StackShift account "
                                    f"({self._error_message(response)}).")
            if not exist_ok:
                raise AlreadyExists(
                    f"{existing.name} already exists (id {existing.id}).",
                    hint="Use --exist-ok to print it instead, or `stackshift domains records` to see its records.",
                )
            return existing, False
        return self._domain(response), True

    def list(self, status: str | None = None) -> list[Domain]:
        domains = self._list_all()
        remember_api_domains(self.settings.profile, self.base_url, domains)  # for TAB completion
        return [d for d in domains if d.status == status] if status else domains

    def get(self, ref: str) -> Domain:
        return resolve_ref(ref, by_id=self._get_by_id, by_name=self._find_by_name, where="your StackShift account")

    def delete(self, ref: str) -> Domain:
        domain = self.get(ref)
        self._request("DELETE", _domain_path(domain.id), expected=(200, 202, 204), not_found=domain.id)
        return domain

    def verify(self, domain: Domain) -> Domain:
        return self.check(domain)

    def check(self, domain: Domain) -> Domain:
        """Ask the API to check the domain now (the API stores the verdicts itself); safe in worker threads."""
        response = self._request("POST", _domain_path(domain.id) + "/verify", expected=(200,), not_found=domain.id)
        checked = self._domain(response)
        if all(r.status == VERIFIED for r in checked.records):
            return checked
        return self._with_local_diagnosis(checked)

    def save_check(self, checked: Domain) -> Domain:
        return checked  # the API stored it when it checked

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------ beyond the interface

    def check_key(self) -> None:
        """One cheap authenticated request; raises AuthError when the API refuses the key."""
        self._request("GET", DOMAINS_PATH, params={"limit": 1}, expected=(200,))

    # ------------------------------------------------------------ domains

    def _get_by_id(self, domain_id: str) -> Domain:
        return self._domain(self._request("GET", _domain_path(domain_id), expected=(200,), not_found=domain_id))

    def _find_by_name(self, name: str) -> Domain | None:
        return next((d for d in self._list_all() if d.name == name), None)

    def _list_all(self) -> list[Domain]:
        """Every domain of the account, page after page; domains stackshift cannot use are left out with one
        warning, and a listing longer than MAX_LIST_PAGES pages or MAX_LIST_DOMAINS domains is an error."""
        domains: list[Domain] = []
        skipped = Skipped()
        cursor: str | None = None
        seen: set[str] = set()
        count = 0
        for _ in range(MAX_LIST_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            reply = self._request("GET", DOMAINS_PATH, params=params, expected=(200,))
            page = parse_page(reply.content, reply.status_code, reply.content_type, room=MAX_LIST_DOMAINS - count)
            count += page.items
            domains.extend(page.domains)
            skipped.extend(page.skipped)
            if not page.cursor:
                break
            if page.cursor in seen:
                raise ApiError("The StackShift API returned a pagination cursor it had already returned; "
                               "stopping instead of listing forever.")
            seen.add(page.cursor)
            cursor = page.cursor
        else:
            raise ApiError(f"The StackShift API's domain list goes on past {MAX_LIST_PAGES} pages; stackshift stopped "
                           f"there (it reads at most {MAX_LIST_PAGES} pages and {MAX_LIST_DOMAINS} domains).")
        skipped.warn(self.ui)
        return domains

    def _domain(self, reply: Reply) -> Domain:
        domain, skipped = parse_domain(reply.content, reply.status_code, reply.content_type)
        Skipped(records=skipped).warn(self.ui)
        return domain

    def _with_local_diagnosis(self, checked: Domain) -> Domain:
        """The API's verdicts, with stackshift's own DNS diagnosis of each record that is not verified."""
        from stackshift_cli.verify import check_records

        pending = [i for i, r in enumerate(checked.records) if r.status != VERIFIED]
        try:
            diagnosed = check_records(checked.name, [checked.records[i] for i in pending], self.settings)
        except StackshiftError as exc:
            self.ui.warn(f"stackshift could not run its own DNS check: {exc.message}")
            return checked
        records = list(checked.records)
        for index, merged in zip(pending, merge_diagnosis([records[i] for i in pending], diagnosed)):
            records[index] = merged
        return replace(checked, records=tuple(records))

    # ------------------------------------------------------------ HTTP

    @property
    def key(self) -> str:
        if self._key is None:
            key = self.settings.get("api.key")
            if not key:
                raise AuthError(f"No API key for profile {self.settings.profile}: {LOGIN_HINT} "
                                "or set STACKSHIFT_API_KEY.")
            self._key = str(key)
        return check_key_text(self._key)

    @property
    def client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._new_client()
        return self._client

    def _new_client(self) -> httpx.Client:
        timeout = self.settings.duration("api.timeout")
        return httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"stackshift-cli/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
            # One connection per request: the deadline (_Deadline) knows the socket of each request because it
            # sees the connection being made, and can end it.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    @property
    def max_response_bytes(self) -> int:
        return int(self.settings.get("api.max_response_bytes"))

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        expected: tuple[int, ...],
        not_found: str | None = None,
        conflict_ok: bool = False,
    ) -> Reply:
        """Send one logical request, retrying transient failures; return a reply with an expected
        status (or 409 when conflict_ok) or raise the StackshiftError that describes the failure."""
        all_headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        wanted = expected + ((409,) if conflict_ok else ())
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self._log_request(method, path, params, all_headers, attempt)
            sent = time.monotonic()
            try:
                response = self._exchange(method, path, params, json_body, all_headers, wanted)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout):
                    failure = self._unreachable(exc)
                else:  # the server is reachable but slow: retrying would multiply the wait the user set
                    raise self._too_slow(method, path) from None
                response = None
            except httpx.TransportError as exc:  # refused, reset, DNS failure, closed before answering
                failure = self._unreachable(exc)
                response = None
            except httpx.HTTPError as exc:  # a body that does not decode as its Content-Encoding says, ...
                raise ApiError(f"The StackShift API's answer to {method} {path} cannot be read: "
                               f"{self._scrub(str(exc) or type(exc).__name__)}.") from None
            if response is not None:
                self.ui.debug_log(f"<- HTTP {response.status_code} {response.reason_phrase} "
                                  f"({(time.monotonic() - sent) * 1000:.0f} ms)")
                if response.status_code in wanted:
                    return response
                if method == "DELETE" and attempt > 1 and response.status_code == 404:
                    return response  # an earlier attempt deleted it and its answer was lost
                failure = self._failure(response, method, path, not_found)
                if response.status_code not in RETRY_STATUSES:
                    raise failure
            delay = self._retry_delay(response, attempt)
            elapsed = time.monotonic() - started
            if attempt >= MAX_ATTEMPTS or delay is None or elapsed + delay > RETRY_BUDGET_S:
                if attempt > 1:
                    failure.message = f"{failure.message.rstrip('.')} (gave up after {attempt} attempts)."
                raise failure
            self.ui.debug_log(f"retrying in {delay:.1f}s")
            time.sleep(delay)

    def _exchange(self, method: str, path: str, params: dict[str, Any] | None, json_body: Any,
                  headers: dict[str, str], wanted: tuple[int, ...]) -> Reply:
        """One HTTP request and its whole answer, within api.timeout in all and api.max_response_bytes.

        httpx's timeouts bound each read; a server that sends a byte now and then would keep a request alive
        forever. _Deadline ends the connection when the request's total time is up."""
        timeout = self.settings.duration("api.timeout")
        deadline = _Deadline(timeout)
        request = self.client.build_request(method, path, params=params, json=json_body, headers=headers,
                                            extensions={"trace": deadline.trace})
        with deadline:
            try:
                response = self.client.send(request, stream=True)
                try:
                    content = self._read_body(response, method, path, strict=response.status_code in wanted)
                finally:
                    response.close()
            except httpx.HTTPError:
                if deadline.cut:
                    raise self._too_slow(method, path) from None
                raise
        if deadline.cut:  # the connection was ended: what was read may be only part of the answer
            raise self._too_slow(method, path)
        if self._key:  # an answer that echoes the key (a proxy's page, a record): it never reaches the terminal
            content = content.replace(self._key.encode(), b"[redacted]")
        return Reply(response.status_code, response.reason_phrase, response.headers, content)

    def _read_body(self, response: httpx.Response, method: str, path: str, *, strict: bool) -> bytes:
        """The body, read in bounded memory: over api.max_response_bytes it is an error when `strict` (an answer
        stackshift must read whole), else it is cut at ERROR_BODY_BYTES (an error answer: a message is enough)."""
        limit = self.max_response_bytes if strict else min(ERROR_BODY_BYTES, self.max_response_bytes)
        declared = response.headers.get("content-length", "").strip()
        if strict and _DIGITS.fullmatch(declared) and (len(declared) > 15 or int(declared) > limit):
            raise self._too_large(method, path, limit)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > limit:
                if strict:
                    raise self._too_large(method, path, limit)
                chunks.append(chunk[: limit - size])
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _too_slow(self, method: str, path: str) -> ApiError:
        return ApiError(f"The StackShift API at {self.base_url} did not answer {method} {path} within "
                        f"{_seconds(self.settings.duration('api.timeout'))} (api.timeout).")

    def _too_large(self, method: str, path: str, limit: int) -> ApiError:
        more = min(limit * 5, MAX_RESPONSE_BYTES)
        how = (f"to allow more: `stackshift config set api.max_response_bytes {_size(more).replace(' ', '')}`"
               if more > limit else f"{_size(limit)} is the most it can be")
        return ApiError(f"The StackShift API's answer to {method} {path} is larger than {_size(limit)}, the limit "
                        f"api.max_response_bytes sets; stackshift stopped reading it ({how}).")

    def _retry_delay(self, response: Reply | None, attempt: int) -> float | None:
        """Seconds to wait before the next attempt: the server's Retry-After when it gives one,
        else exponential backoff with jitter; None when the server asks for more than the budget."""
        if response is not None and "retry-after" in response.headers:
            wait = parse_retry_after(response.headers["retry-after"])
            if wait is not None:
                return wait if wait <= RETRY_BUDGET_S else None
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _unreachable(self, exc: httpx.TransportError) -> ApiError:
        reason = str(exc) or type(exc).__name__
        return ApiError(f"Cannot reach the StackShift API at {self.base_url}: {self._scrub(reason)}.",
                        hint="Check your network, or the URL (api.url, STACKSHIFT_API_URL).")

    def _failure(self, response: Reply, method: str, path: str, not_found: str | None) -> StackshiftError:
        """The error an unexpected status stands for, carrying the server's message when it sent one."""
        status = response.status_code
        if 300 <= status < 400:  # not followed: the key is for api.url, not for wherever a redirect points
            location = response.headers.get("location")
            where = f"to '{shown_url(self._scrub(location), 120)}'" if location else "without a Location"
            return ApiError(f"The StackShift API answered {method} {path} with a redirect (HTTP {status}) {where}; "
                            f"stackshift does not follow redirects: check api.url ({self.base_url}).")
        message = self._error_message(response)
        if status in (401, 403):
            what = "refused the API key" if status == 401 else "does not allow this API key to do that"
            return AuthError(f"The StackShift API {what} (HTTP {status}: {message}); {LOGIN_HINT}.")
        if status == 404:
            if not_found:
                return NotFound(f"No domain with id {not_found} in your StackShift account.",
                                hint="Run `stackshift domains list` to see your domains.")
            return ApiError(f"The StackShift API has no {method} {path} (HTTP 404: {message}); "
                            f"check api.url ({self.base_url}).")
        if status == 409:
            return AlreadyExists(f"The StackShift API refused the request: {message} (HTTP 409).")
        if status in (400, 422):
            return UsageError(f"The StackShift API rejected the request: {message} (HTTP {status}).")
        if status == 429:
            return ApiError(f"The StackShift API is rate-limiting requests (HTTP 429: {message}); try again later.")
        return ApiError(f"The StackShift API failed {method} {path} (HTTP {status}: {message}).")

    def _error_message(self, response: Reply) -> str:
        """The server's `{"error": {"message"}}`, or what the body was when it is not that: one line.
        The key is taken out before anything is shortened (and out of the body already), so no part of it shows."""
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError):
            return describe_body(response.content, response.content_type)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            text = _as_text(error["message"])
            if error.get("code"):
                text = f"{text} [{_as_text(error['code'])}]"
        elif isinstance(error, str):
            text = error
        else:
            text = "no error message in the response"
        return _one_line(self._scrub(text))

    def _scrub(self, text: str) -> str:
        """Servers and proxies sometimes echo what they were sent; the key must not reach the terminal."""
        return text.replace(self._key, "[redacted]") if self._key else text

    def _log_request(self, method: str, path: str, params: dict[str, Any] | None,
                     headers: dict[str, str], attempt: int) -> None:
        if not self.ui.debug:
            return
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        shown = {"Authorization": "Bearer " + redact(self.key)} | {
            k: v for k, v in headers.items() if k != "Authorization"}
        extra = "".join(f"; {k}: {v}" for k, v in shown.items())
        self.ui.debug_log(f"-> {method} {self.base_url}{path}{query} (attempt {attempt}/{MAX_ATTEMPTS}{extra})")


# ---------------------------------------------------------------- helpers (pure)


def _domain_path(domain_id: str) -> str:
    return f"{DOMAINS_PATH}/{quote(domain_id, safe='')}"


def check_key_text(key: str) -> str:
    """An API key is one printable ASCII token; anything else cannot go in a header (and must not be echoed)."""
    if not key or not all(33 <= ord(c) < 127 for c in key):
        raise AuthError(f"The API key contains characters an API key cannot have (spaces, control or "
                        f"non-ASCII characters); {LOGIN_HINT} again.")
    return key


def parse_retry_after(value: str) -> float | None:
    """Retry-After in seconds or as an HTTP date -> seconds from now (never negative); None when it is neither."""
    text = value.strip()
    if _DIGITS.fullmatch(text):  # ASCII digits only: "²".isdigit() is True, but it is no number
        return float(text)  # a number too large to wait for (even inf) ends the retries
    try:
        when = parsedate_to_datetime(text)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, read whole (within the limits)."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _Deadline:
    """Ends one HTTP exchange when its total time is up, whatever the server does.

    httpx's timeouts bound each operation: a server that trickles its headers or body a byte at a time never
    trips them. httpcore's trace extension tells us each connection as it is made (the client keeps none
    alive, so every request makes its own); when the time is up a timer thread shuts that socket down, which
    ends any read blocked on it. `cut` says it did. (Before a connection exists there is nothing to cut: the
    connect timeout, which is api.timeout too, ends a slow connect as it always did.)"""

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


@dataclass
class Skipped:
    """Domains and records the API sent that stackshift cannot use: left out, said in one warning line each."""

    domains: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)

    def extend(self, other: Skipped) -> None:
        self.domains.extend(other.domains)
        self.records.extend(other.records)

    def warn(self, ui: Ui) -> None:
        for reasons, what in ((self.domains, "domain"), (self.records, "record")):
            if len(reasons) == 1:
                ui.warn(f"Left out a {what} the StackShift API sent that stackshift cannot use: {reasons[0]}.")
            elif reasons:
                ui.warn(f"Left out {len(reasons)} {what}s the StackShift API sent that stackshift cannot use "
                        f"(the first: {reasons[0]}).")


@dataclass
class Page:
    """One page of the domain list."""

    domains: list[Domain]
    cursor: str | None
    items: int
    skipped: Skipped


def read_json(content: bytes, status: int, content_type: str) -> Any:
    """The JSON of a body, or ApiError saying what the body was instead."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ApiError(f"The StackShift API answered HTTP {status} with JSON nested too deeply to read "
                       f"({len(content)} bytes).") from None
    except ValueError:
        raise ApiError(f"The StackShift API answered HTTP {status} with {describe_body(content, content_type)} "
                       "instead of JSON.") from None


def parse_domain(content: bytes, status: int, content_type: str) -> tuple[Domain, list[str]]:
    """The domain an answer carries, and what was left out of it; an ApiError when it carries none stackshift
    can use."""
    data = read_json(content, status, content_type)
    if not isinstance(data, dict) or "id" not in data:
        raise ApiError(f"The StackShift API answered HTTP {status} without a domain object; "
                       "stackshift cannot read it.")
    skipped: list[str] = []
    try:
        domain = Domain.from_json(data, skipped=skipped)
    except InvalidApiData as exc:
        raise InvalidApiData(f"The StackShift API answered HTTP {status} with a domain stackshift cannot use: "
                             f"{exc.message}.") from None
    return domain, skipped


def parse_page(content: bytes, status: int, content_type: str, *, room: int = MAX_LIST_DOMAINS) -> Page:
    """One page of `GET /mail/domains`: its domains (those stackshift cannot use left out and described), and
    the next cursor. More than `room` items is an error (the listing's limit)."""
    page = read_json(content, status, content_type)
    items = page.get("data") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise ApiError(f"The StackShift API answered HTTP {status} to the domain list "
                       "without a 'data' list; stackshift cannot read it.")
    if len(items) > room:
        raise ApiError(f"The StackShift API's domain list holds more than {MAX_LIST_DOMAINS} domains; stackshift "
                       f"reads at most {MAX_LIST_DOMAINS}.")
    cursor = page.get("nextCursor")
    if cursor is not None and not (isinstance(cursor, str) and (cursor == "" or _CURSOR.fullmatch(cursor))):
        shown = f"'{quoted(cursor, 40)}'" if isinstance(cursor, str) else type(cursor).__name__
        raise ApiError(f"The StackShift API returned a pagination cursor stackshift cannot send back ({shown}); "
                       "a cursor is up to 1024 printable ASCII characters.")
    skipped = Skipped()
    domains: list[Domain] = []
    for item in items:
        try:
            domains.append(Domain.from_json(item, skipped=skipped.records))
        except InvalidApiData as exc:
            skipped.domains.append(exc.message)
    return Page(domains, cursor or None, len(items), skipped)


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
    import re

    match = re.search(rb"<title[^>]*>(.*?)</title>", content[:4096], re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    return _one_line(match.group(1).decode("utf-8", errors="replace"))[:80] or None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_SHOWN_MESSAGE else line[: _MAX_SHOWN_MESSAGE - 1] + "…"


def _as_text(value: Any) -> str:
    """A field of an error body as text (a message that is not a string is shown as its JSON)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        return "(a message stackshift cannot show)"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _size(value: int) -> str:
    """Bytes as a size `api.max_response_bytes` reads back: 10 MB, 2 KB, 524288 (no unit when not round)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return str(value)


def merge_explanations(api_record: DnsRecord, local: DnsRecord) -> str | None:
    """The API's explanation (if any), then what stackshift's own DNS check found; said once when both say
    the same thing (or one says all the other does)."""
    theirs, ours = api_record.explanation, local.explanation
    if not ours:
        return theirs
    label = "stackshift" if local.status == api_record.status else f"stackshift sees {local.status}"
    if theirs and _same_words(ours) in _same_words(theirs):  # the API's says it all
        return theirs if local.status == api_record.status else f"{theirs} — {label}"
    if theirs and _same_words(theirs) in _same_words(ours):  # ours repeats the API's, and adds to it
        return f"{label}: {ours}"
    return f"{theirs} — {label}: {ours}" if theirs else f"{label}: {ours}"


def _same_words(text: str) -> str:
    """Text compared for meaning: case, spacing and final punctuation aside."""
    return " ".join(text.casefold().split()).rstrip(".!")


def merge_diagnosis(api_records: Sequence[DnsRecord], local: Sequence[DnsRecord]) -> list[DnsRecord]:
    """Each API record with its status kept and stackshift's explanation added (same order, same length)."""
    return [replace(a, explanation=merge_explanations(a, b)) for a, b in zip(api_records, local)]
