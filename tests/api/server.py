"""A StackShift API on loopback for tests: the contract of docs/api.md over the project's own LocalBackend,
plus faults a test can queue (error statuses, slow answers, bodies that are not JSON, dropped connections,
and hostile answers written byte by byte: see tests/api/hostile.py).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from stackshift_cli.backends.local import LocalBackend
from stackshift_cli.config import ConfigFile, Settings
from stackshift_cli.domain import CHECK_FIELDS, Domain, utcnow
from stackshift_cli.errors import AlreadyExists, NotFound, StackshiftError, UsageError
from stackshift_cli.names import looks_like_id, normalize_domain
from stackshift_cli.verify import check_domain

DEFAULT_PAGE = 50
MAX_PAGE = 100


@dataclass
class Fault:
    """One injected answer, used once by the first request it matches.

    status None answers normally after `delay`. `after` runs the real handler first (the server
    has done the work) and then answers with the fault, as when a response is lost on the way back.
    `drop` closes the connection without answering.

    Hostile answers: `respond` computes (status, payload) from the request; `stream` yields the raw bytes of
    the whole answer (status line, headers, body), written piece by piece `pace` seconds apart and for at most
    `give_up` seconds, then the connection is closed. `skip` lets that many matching requests through first;
    `times` is how many requests the fault answers.
    """

    status: int | None = None
    body: bytes | str | dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0
    method: str | None = None
    path: str | None = None  # a prefix of the request path
    after: bool = False
    drop: bool = False
    respond: Callable[[Seen], tuple[int, Any]] | None = None
    stream: Callable[[], Iterable[bytes]] | None = None
    pace: float = 0.0
    give_up: float = 30.0
    skip: int = 0
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class ApiServer:
    """The server, its key, its own store, and the faults and requests a test can see."""

    def __init__(self, directory: Path, key: str = "sk_test_server_key_0123456789abcdef") -> None:
        self.key = key
        self.directory = directory
        self.settings = Settings("default", ConfigFile(directory / "server-config.toml"))
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.page_limit = MAX_PAGE  # lower it to force pagination
        # What verify answers instead of checking DNS: one {purpose: (status, explanation)} per call, the last repeated.
        self.verdicts: list[dict[str, tuple[str, str | None]]] = []
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: stop() (shutdown) waits for it, at the end of every test.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="api-server", daemon=True)

    # ------------------------------------------------------------ lifecycle and test helpers

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def env(self) -> dict[str, str]:
        """What a client needs to use this server."""
        return {"STACKSHIFT_API_URL": self.url, "STACKSHIFT_API_KEY": self.key, "STACKSHIFT_BACKEND": "api"}

    def fail(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def store(self) -> LocalBackend:
        return LocalBackend(self.settings, self.directory / "store")

    def domains(self) -> list[Domain]:
        with self._lock:
            backend = self.store()
            try:
                return backend.list()
            finally:
                backend.close()

    def requests_to(self, method: str, path_prefix: str = "/") -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    # ------------------------------------------------------------ the contract

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> tuple[int, Any]:
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, error_body("unauthorized", "Invalid or missing API key.")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] != ["mail", "domains"]:
            return 404, error_body("not_found", f"No route {method} {path}.")
        rest = parts[2:]
        with self._lock:
            backend = self.store()
            try:
                if not rest and method == "POST":
                    return self._create(backend, headers, body)
                if not rest and method == "GET":
                    return self._list(backend, query)
                if len(rest) in (1, 2) and not looks_like_id(rest[0]):
                    return 404, error_body("not_found", f"No domain with id {rest[0]}.")
                if len(rest) == 1 and method == "GET":
                    return 200, backend.get(rest[0]).to_json()
                if len(rest) == 1 and method == "DELETE":
                    backend.delete(rest[0])
                    return 204, None
                if len(rest) == 2 and rest[1] == "verify" and method == "POST":
                    return 200, self._verify(backend, backend.get(rest[0])).to_json()
                return 405, error_body("method_not_allowed", f"{method} {path} is not supported.")
            except NotFound as exc:
                return 404, error_body("not_found", exc.message)
            except AlreadyExists as exc:
                return 409, error_body("already_exists", exc.message)
            except UsageError as exc:
                return 422, error_body("invalid", exc.message)
            except StackshiftError as exc:
                return 500, error_body("internal", exc.message)
            finally:
                backend.close()

    def _create(self, backend: LocalBackend, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        key = headers.get("idempotency-key")
        if key and key in self._idempotent:
            return self._idempotent[key]
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return 400, error_body("bad_request", "The body must be a JSON object with a 'name' string.")
        name = normalize_domain(body["name"])
        if name != body["name"]:
            return 422, error_body("invalid_name", f"'{body['name']}' is not in canonical form.")
        domain, created = backend.create(name, selector=body.get("dkimSelector"), inbound=bool(body.get("inbound")),
                                         exist_ok=False)
        answer = (201, _public(domain))
        if key:
            self._idempotent[key] = answer
        return answer

    def _list(self, backend: LocalBackend, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit", [DEFAULT_PAGE])[0])
            offset = int(query["cursor"][0].removeprefix("c")) if "cursor" in query else 0
        except ValueError:
            return 400, error_body("bad_request", "limit and cursor must come from this API.")
        if limit < 1:
            return 400, error_body("bad_request", "limit must be at least 1.")
        domains = backend.list()
        end = offset + min(limit, self.page_limit)
        page = domains[offset:end]
        return 200, {"data": [_public(d) for d in page], "nextCursor": f"c{end}" if end < len(domains) else None}

    def _verify(self, backend: LocalBackend, domain: Domain) -> Domain:
        """The domain after a check: the next verdicts a test queued, else the project's own verifier."""
        if self.verdicts:
            verdicts = self.verdicts.pop(0) if len(self.verdicts) > 1 else self.verdicts[0]
            records = [r.with_verdict(*verdicts[r.purpose]) if r.purpose in verdicts else r for r in domain.records]
            window = timedelta(seconds=self.settings.duration("verify.window"))
            return backend.save_check(domain.with_records(records, utcnow(), window))
        return backend.save_check(check_domain(domain, self.settings))


def _public(domain: Domain) -> dict[str, Any]:
    """A domain as the API shows it, with a field this client does not know (it must ignore it)."""
    data = domain.to_json()
    data["region"] = "eu-west"
    assert set(CHECK_FIELDS.values()) <= set(data)
    return data


def _handler_for(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError:  # a client that stopped reading (a limit) and closed: nothing to answer
                self.close_connection = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(method, split.path, parse_qs(split.query), headers, body)
            with server._lock:
                server.requests.append(seen)
                fault = next((f for f in server.faults if f.matches(method, split.path)), None)
                if fault and fault.skip:
                    fault.skip -= 1
                    fault = None
                elif fault:
                    fault.times -= 1
                    if fault.times <= 0:
                        server.faults.remove(fault)
            if fault and fault.delay:
                server.wait(fault.delay)
            if fault and fault.stream is not None:
                if fault.after:
                    server.handle(method, split.path, seen.query, headers, body)
                seen.status = fault.status or 0
                self._stream(fault)
                return
            if fault and fault.respond is not None:
                seen.status, payload = fault.respond(seen)
                self._send(seen.status, payload, fault.headers, fault.content_type)
                return
            if fault is None or (fault.status is None and not fault.drop):
                seen.status, payload = server.handle(method, split.path, seen.query, headers, body)
                self._send(seen.status, payload)
                return
            if fault.after:  # do the work, then lose the answer
                server.handle(method, split.path, seen.query, headers, body)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            seen.status = fault.status or 0
            self._send(seen.status, fault.body, fault.headers, fault.content_type)

        def _stream(self, fault: Fault) -> None:
            """Write a hostile answer as it comes, until it ends, the client goes, or `give_up` seconds pass."""
            self.close_connection = True
            started = time.monotonic()
            try:
                for piece in fault.stream():
                    self.wfile.write(piece)
                    if fault.pace:
                        server.wait(fault.pace)
                    if server._stopping.is_set() or time.monotonic() - started > fault.give_up:
                        break
            except OSError:  # the client gave up (what a limit is for)
                pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:
            if payload is None:
                data = b""
            elif isinstance(payload, bytes):
                data = payload
            elif isinstance(payload, str):
                data = payload.encode("utf-8")
            else:
                data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                self.close_connection = True

    return Handler


def refused_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
