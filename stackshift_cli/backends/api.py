"""The StackShift API backend: the Backend interface over HTTPS (`/mail/domains`, see docs/api.md).

This is the only module that imports httpx, and it is imported only when the API backend is used.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Sequence
from urllib.parse import quote

import httpx

from stackshift_cli import __version__
from stackshift_cli.backends.base import resolve_ref
from stackshift_cli.config import Settings, redact
from stackshift_cli.domain import VERIFIED, DnsRecord, Domain
from stackshift_cli.errors import AlreadyExists, ApiError, AuthError, NotFound, StackshiftError, UsageError
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
        domains: list[Domain] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            response = self._request("GET", DOMAINS_PATH, params=params, expected=(200,))
            page = self._json(response)
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ApiError(f"The StackShift API answered HTTP {response.status_code} to the domain list "
                               "without a 'data' list; stackshift cannot read it.")
            domains.extend(Domain.from_json(item) for item in items if isinstance(item, dict))
            cursor = page.get("nextCursor")
            if not cursor:
                return domains
            if not isinstance(cursor, str) or cursor in seen:
                raise ApiError("The StackShift API returned a pagination cursor it had already returned; "
                               "stopping instead of listing forever.")
            seen.add(cursor)

    def _domain(self, response: httpx.Response) -> Domain:
        data = self._json(response)
        if not isinstance(data, dict) or not data.get("id"):
            raise ApiError(f"The StackShift API answered HTTP {response.status_code} without a domain object; "
                           "stackshift cannot read it.")
        return Domain.from_json(data)

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
        )

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
    ) -> httpx.Response:
        """Send one logical request, retrying transient failures; return a response with an expected
        status (or 409 when conflict_ok) or raise the StackshiftError that describes the failure."""
        all_headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self._log_request(method, path, params, all_headers, attempt)
            sent = time.monotonic()
            try:
                response = self.client.request(method, path, params=params, json=json_body, headers=all_headers)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout):
                    failure = self._unreachable(exc)
                else:  # the server is reachable but slow: retrying would multiply the wait the user set
                    raise ApiError(
                        f"The StackShift API at {self.base_url} did not answer {method} {path} within "
                        f"{_seconds(self.settings.duration('api.timeout'))} (api.timeout)."
                    ) from None
                response = None
            except httpx.TransportError as exc:  # refused, reset, DNS failure, closed before answering
                failure = self._unreachable(exc)
                response = None
            if response is not None:
                self.ui.debug_log(f"<- HTTP {response.status_code} {response.reason_phrase} "
                                  f"({(time.monotonic() - sent) * 1000:.0f} ms)")
                if response.status_code in expected or (conflict_ok and response.status_code == 409):
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

    def _retry_delay(self, response: httpx.Response | None, attempt: int) -> float | None:
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

    def _failure(self, response: httpx.Response, method: str, path: str, not_found: str | None) -> StackshiftError:
        """The error an unexpected status stands for, carrying the server's message when it sent one."""
        status = response.status_code
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

    def _error_message(self, response: httpx.Response) -> str:
        """The server's `{"error": {"message"}}`, or what the body was when it is not that: one line."""
        try:
            data = json.loads(response.content)
        except ValueError:
            return self._scrub(describe_body(response))
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            text = str(error["message"])
            if error.get("code"):
                text = f"{text} [{error['code']}]"
        elif isinstance(error, str):
            text = error
        else:
            text = "no error message in the response"
        return self._scrub(_one_line(text))

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:
            raise ApiError(f"The StackShift API answered HTTP {response.status_code} with "
                           f"{describe_body(response)} instead of JSON.") from None

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
    """Retry-After in seconds or as an HTTP date -> seconds from now (never negative)."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def describe_body(response: httpx.Response) -> str:
    """What a body that is not the expected JSON looks like, in a few words."""
    content = response.content
    if not content.strip():
        return "an empty body"
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    head = content.lstrip()[:200].lower()
    if content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        title = _html_title(content)
        return f"an HTML page{f' ({title!r})' if title else ''}, probably from a proxy"
    if content_type.endswith("json") or head.startswith((b"{", b"[")):
        return f"malformed or truncated JSON ({len(content)} bytes)"
    return f"a {content_type} body ({len(content)} bytes)"


def _html_title(content: bytes) -> str | None:
    import re

    match = re.search(rb"<title[^>]*>(.*?)</title>", content[:4096], re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    return _one_line(match.group(1).decode("utf-8", errors="replace"))[:80] or None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_SHOWN_MESSAGE else line[: _MAX_SHOWN_MESSAGE - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def merge_explanations(api_record: DnsRecord, local: DnsRecord) -> str | None:
    """The API's explanation (if any), then what stackshift's own DNS check found."""
    if not local.explanation:
        return api_record.explanation
    ours = f"stackshift: {local.explanation}"
    if local.status != api_record.status:
        ours = f"stackshift sees {local.status}: {local.explanation}"
    return f"{api_record.explanation} — {ours}" if api_record.explanation else ours


def merge_diagnosis(api_records: Sequence[DnsRecord], local: Sequence[DnsRecord]) -> list[DnsRecord]:
    """Each API record with its status kept and stackshift's explanation added (same order, same length)."""
    return [replace(a, explanation=merge_explanations(a, b)) for a, b in zip(api_records, local)]
