"""The StackShift API backend: the Backend interface over HTTPS (`/mail/domains`, see docs/api.md).

Only the endpoints, paging and JSON -> Domain parsing live here; timeouts, limits, retries and redaction are
the transport's (stackshift_cli/http.py), which imports httpx when the first request is sent.
"""

from __future__ import annotations

import builtins

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote

from stackshift_cli.backends.base import Backend, resolve_ref
from stackshift_cli.config import Settings, shown_url
from stackshift_cli.domain import Domain
from stackshift_cli.errors import (AlreadyExists, ApiError, AuthError, InvalidApiData, NotFound, StackshiftError,
                                   UsageError)
from stackshift_cli.escape import quoted
from stackshift_cli.http import REDACTED, Reply, Transport, Wording, describe_body, one_line
from stackshift_cli.namecache import remember_api_domains
from stackshift_cli.output import Ui

if TYPE_CHECKING:
    from stackshift_cli.history import History
    from stackshift_cli.publish.journal import Journal

DOMAINS_PATH = "/mail/domains"
PAGE_SIZE = 100
LOGIN_HINT = "run `stackshift auth login`"
# Limits that hold whatever the server does (api.timeout and api.max_response_bytes are the transport's).
MAX_LIST_PAGES = 1000  # pages of one listing: a server that hands out new cursors forever is stopped here
MAX_LIST_DOMAINS = 100_000  # domains (valid or not) in one listing
_CURSOR = re.compile(r"[\x21-\x7e]{1,1024}")  # a pagination cursor: printable ASCII, sent back as a query parameter
# How the transport's errors name this API and the settings that bound it.
WORDING = Wording(api="the StackShift API", timeout_setting="api.timeout", size_setting="api.max_response_bytes",
                  unreachable_hint="Check your network, or the URL (api.url, STACKSHIFT_API_URL).")


class ApiBackend(Backend):
    """Domains in the user's StackShift account; a domain NAME is resolved to its id by listing."""

    name = "api"
    where = "your StackShift account"
    judges_remotely = True  # the API checks the records and stores its verdicts

    @classmethod
    def open(cls, settings: Settings, ui: Ui) -> ApiBackend:
        return cls(settings, ui)

    def __init__(self, settings: Settings, ui: Ui, *, key: str | None = None) -> None:
        self.settings = settings
        self.ui = ui
        self.base_url: str = settings.get("api.url")
        self._key = key
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()  # `verify --all` checks domains from several threads
        self._history: History | None = None  # history.db, once opened (history())

    # ------------------------------------------------------------ the Backend interface

    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool,
               key_size: int | None = None) -> tuple[Domain, bool]:
        from stackshift_cli.keys import KEY_BITS

        if key_size not in (None, KEY_BITS):  # docs/api.md: the API makes the key; a create names no size
            raise StackshiftError("The StackShift API does not let clients choose the DKIM key size; omit "
                                  "--key-size.", hint="The API makes the key itself. To choose its size, create the "
                                                      "domain in the local store (--backend local).")
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
        """The domain as the API describes it, with what stackshift's history knows of it (verifiedSince,
        lastChangeAt: history.db, read only when it exists)."""
        from dataclasses import replace

        from stackshift_cli.config import data_dir
        from stackshift_cli.history import HISTORY_FILE

        domain = resolve_ref(ref, by_id=self._get_by_id, by_name=self._find_by_name, where=self.where)
        if not (data_dir() / HISTORY_FILE).exists():
            return domain
        history = self.history()
        try:
            state = history.state(domain.id)
        finally:
            history.close()
        if state is None:
            return domain
        return replace(domain, verified_since=state.verified_since if domain.status == "verified" else None,
                       last_change_at=state.last_change_at, regressed_at=state.regressed_at)

    def delete(self, ref: str) -> Domain:
        domain = self.get(ref)
        self._request("DELETE", _domain_path(domain.id), expected=(200, 202, 204), not_found=domain.id)
        return domain

    def check(self, domain: Domain, *, nameservers: Sequence[str] | None = None) -> Domain:
        """Ask the API to check the domain now: its verdicts, which it stores itself (stackshift's own diagnosis
        is the verify service's); safe in worker threads. No DNS lookup here: `nameservers` is not used."""
        response = self._request("POST", _domain_path(domain.id) + "/verify", expected=(200,), not_found=domain.id,
                                 idempotent=True)  # a re-check: safe to repeat
        return self._domain(response)

    def save_check(self, checked: Domain) -> Domain:
        """The API stored the verdict when it checked; what changed since the last check goes to the history
        (history.db in the data directory). The API's status stands: the regression facts are only recorded."""
        from dataclasses import replace
        from datetime import timedelta

        from stackshift_cli.domain import utcnow
        from stackshift_cli.history import changes, settle, with_changes
        from stackshift_cli.sqlitedb import transaction

        history = self.history()
        try:
            before = history.state(checked.id)
            at = checked.last_checked_at or utcnow()
            window = timedelta(seconds=self.settings.duration("verify.regression_window"))
            settled = replace(settle(checked, before, now=at, window=window), status=checked.status, explanation=None)
            events = changes(before, settled, at)
            settled = with_changes(settled, events)
            with transaction(history.conn):  # waits for another process's lock; rolled back on any error
                history.append(events)
                history.save_state(settled)
        finally:
            history.close()
        return settled

    def history(self) -> History:
        """The history in history.db, opened once for the backend's life (verify --all stores a verdict per
        domain): what this returns shares that connection, and closing it leaves the connection open."""
        from stackshift_cli.config import data_dir
        from stackshift_cli.history import HISTORY_FILE, History

        if self._history is None:
            self._history = History.at(data_dir() / HISTORY_FILE, self.base_url)
        return History(self._history.conn, self._history.scope, self._history.path)

    def journal(self, *, create: bool = True) -> Journal:
        from stackshift_cli.config import data_dir
        from stackshift_cli.publish.journal import JOURNAL_FILE, Journal

        path = data_dir() / JOURNAL_FILE
        return Journal.at(path, self.base_url) if create or path.exists() else Journal.empty(self.base_url)

    def close(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None
        with self._transport_lock:
            if self._transport is not None:
                self._transport.close()
                self._transport = None

    # ------------------------------------------------------------ beyond the interface

    def check_key(self) -> None:
        """One cheap authenticated request; raises AuthError when the API refuses the key."""
        self._request("GET", DOMAINS_PATH, params={"limit": 1}, expected=(200,))

    # ------------------------------------------------------------ domains

    def _get_by_id(self, domain_id: str) -> Domain:
        return self._domain(self._request("GET", _domain_path(domain_id), expected=(200,), not_found=domain_id))

    def _find_by_name(self, name: str) -> Domain | None:
        return next((d for d in self._list_all() if d.name == name), None)

    def _list_all(self) -> builtins.list[Domain]:  # (`list` is a method here)
        """Every domain of the account, page after page; domains stackshift cannot use are left out with one
        warning, and a listing longer than MAX_LIST_PAGES pages or MAX_LIST_DOMAINS domains is an error."""
        domains: builtins.list[Domain] = []
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
    def transport(self) -> Transport:
        """The HTTP transport, made on first use: a missing or unusable key stops the command before any request."""
        with self._transport_lock:
            if self._transport is None:
                key = self.key
                self._transport = Transport(
                    self.base_url, headers={"Authorization": f"Bearer {key}"},
                    timeout=self.settings.duration("api.timeout"),
                    max_bytes=int(self.settings.get("api.max_response_bytes")),
                    ui=self.ui, secrets=[key], wording=WORDING)
            return self._transport

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
        idempotent: bool | None = None,
    ) -> Reply:
        """Send one request through the transport; return a reply with an expected status (or 409 when
        conflict_ok) or raise the StackshiftError that describes the failure."""
        transport = self.transport
        return transport.request(method, path, params=params, json=json_body, headers=headers,
                                 expected=expected + ((409,) if conflict_ok else ()), idempotent=idempotent,
                                 failure=lambda reply: self._failure(reply, method, path, not_found))

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
                return NotFound(f"No domain with id {not_found} in {self.where}.",
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
        return one_line(self._scrub(text))

    def _scrub(self, text: str) -> str:
        """Servers and proxies sometimes echo what they were sent; the key must not reach the terminal."""
        return text.replace(self._key, REDACTED) if self._key else text


# ---------------------------------------------------------------- helpers (pure)


def _domain_path(domain_id: str) -> str:
    return f"{DOMAINS_PATH}/{quote(domain_id, safe='')}"


def check_key_text(key: str) -> str:
    """An API key is one printable ASCII token; anything else cannot go in a header (and must not be echoed)."""
    if not key or not all(33 <= ord(c) < 127 for c in key):
        raise AuthError(f"The API key contains characters an API key cannot have (spaces, control or "
                        f"non-ASCII characters); {LOGIN_HINT} again.")
    return key


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


def _as_text(value: Any) -> str:
    """A field of an error body as text (a message that is not a string is shown as its JSON)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        return "(a message stackshift cannot show)"
