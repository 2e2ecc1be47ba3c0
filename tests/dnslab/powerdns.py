"""PowerDNS Authoritative in the DNS lab: one ``pdns_server`` (sqlite3 backend, HTTP API) on 127.B.C.12.

Why: the publish feature also writes through dns-lexicon's ``powerdns`` provider, which talks to
PowerDNS's HTTP API (``X-API-Key``). Its tests need a real API whose changes are then served on
the DNS port and found through the lab's resolver, like the BIND zones' RFC 2136 changes.

Started once per session (per xdist worker) by the ``powerdns`` fixture in
``tests/conftest_dnslab.py``, on top of the running :class:`tests.dnslab.DnsLab`; usable directly::

    with DnsLab.start() as lab, PowerDns.start(lab) as pdns:
        pdns.publish("_dmarc.pdns1.test", "TXT", "v=DMARC1; p=none")
        print(lab.query_resolver("_dmarc.pdns1.test", "TXT").answer)

Layout
------
* ``pdns_server`` runs in the foreground (``--daemon=no --guardian=no``, no syslog) with its own
  ``--config-dir`` (a ``pdns.conf`` written here, so nothing of ``/etc/powerdns`` is read), its
  control socket in a temp dir, ``launch=gsqlite3`` on a fresh database made from the Debian
  schema file, and logs to ``pdns.log`` (quoted in start-up failures).
* DNS on ``lab.addr("pdns")`` (127.B.C.12, the lab's reserved add-on address, added to ``lo`` as
  a /32 like the named addresses) at the lab's authoritative port ``lab.port``, UDP+TCP.
* The API and webserver on ``127.0.0.1`` at a free port (:attr:`PowerDns.api_url`), key
  :attr:`PowerDns.api_key` (random per start), ``webserver-allow-from=127.0.0.0/8``.
* No packet leaves loopback: ``security-poll-suffix=`` is empty (pdns otherwise asks
  ``secpoll.powerdns.com`` through the system resolver at start-up), zones are ``Native`` (no
  NOTIFY, no AXFR), no ALIAS resolver; the API client here ignores proxy variables.
* The packet, query and negative caches are off (TTL 0) and the zone cache is refreshed on every
  API change, so an API change is served at once.
* Zones ``pdns1.test`` ... ``pdns4.test`` are created through the API (kind Native, NS
  ``pdns.lab.test.``, SOA ``pdns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300``, TTL 300,
  ``soa_edit_api`` INCREASE so each API change adds 1 to the serial).
* Resolution: ``pdns.lab.test A 127.B.C.12`` is published in the lab's ``lab.test`` zone and each
  zone is an Unbound stub (``unbound-control stub_add pdnsN.test 127.B.C.12@<port>``); the lab root
  does NOT delegate them (the lab's root zone only holds BIND-side zones).

:meth:`PowerDns.close` stops pdns and removes what it added to the lab (stubs, A record, address).
"""

from __future__ import annotations

import atexit
import errno
import glob
import json
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode

from .lab import (
    DEFAULT_TTL,
    LAB_DOMAIN,
    SOA_TIMERS,
    DnsLab,
    DnsLabUnavailable,
    LabError,
    RdataValue,
    _Proc,
    _rdtype,
)
from .netutil import add_loopback_address, find_program, owner_label, pick_free_port, remove_loopback_address

__all__ = ["PDNS_POOL", "PowerDns"]

PDNS_BIN = "pdns_server"
PDNS_HOST = "pdns"  # the lab's ADDON_HOSTS entry: 127.B.C.12
PDNS_NS = f"{PDNS_HOST}.{LAB_DOMAIN}."  # NS and SOA MNAME of every pdns zone
PDNS_POOL = tuple(f"pdns{i}.test" for i in range(1, 5))  # fresh_pdns_zone pool
SERVER_ID = "localhost"  # the only server id of a pdns API
_SQLITE_MODULE = "libgsqlite3backend.so"
_SCHEMA_CANDIDATES = (
    "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
    "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
)
_MODULE_GLOBS = ("/usr/lib/*/pdns", "/usr/lib/pdns", "/usr/local/lib/pdns")  # where Debian & co. put backends
INSTALL_HINT = (
    "The PowerDNS tests need pdns_server and its sqlite3 backend. Run the project's test script, which "
    "installs them (`apt-get install -y pdns-server pdns-backend-sqlite3`), or install them by hand."
)

# The API client never goes through a proxy from the environment: the API is on 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _schema_file() -> Path | None:
    return next((Path(p) for p in _SCHEMA_CANDIDATES if Path(p).is_file()), None)


def _has_sqlite_backend() -> bool:
    """Whether pdns-backend-sqlite3 is installed (pdns only says so in its log, after starting)."""
    return any(Path(p).is_file() for pattern in _MODULE_GLOBS for p in glob.glob(f"{pattern}/{_SQLITE_MODULE}"))


def _fqdn(name: str) -> str:
    return dns.name.from_text(name).to_text().lower()


class ApiError(LabError):
    """The PowerDNS API answered with an HTTP error (status and body in the message)."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"PowerDNS API {method} {path}: HTTP {status} {body.strip()[:500]}")
        self.status = status
        self.body = body


class PowerDns:
    """A running pdns_server attached to a lab. Create with :meth:`start`; stop with :meth:`close`.

    Attributes: :attr:`address` (DNS, 127.B.C.12) and :attr:`port` (= ``lab.port``),
    :attr:`api_url` ("http://127.0.0.1:<port>", what lexicon's ``pdns_server`` option takes),
    :attr:`api_key`, :attr:`server_id` ("localhost"), :attr:`zones` (pdns1.test ... pdns4.test),
    :attr:`nameserver` ("pdns.lab.test.").
    """

    def __init__(self, lab: DnsLab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = Path(workdir)
        self.address = lab.addr(PDNS_HOST)
        self.port = lab.port
        self.api_port = 0
        self.api_key = secrets.token_urlsafe(24)
        self.server_id = SERVER_ID
        self.nameserver = PDNS_NS
        self.zones: list[str] = list(PDNS_POOL)
        self.startup_seconds: float | None = None
        self._proc: _Proc | None = None
        self._sock_dir: Path | None = None
        self._added_addr = False
        self._published_a = False
        self._stubs: list[str] = []
        self._pool: deque[str] = deque(PDNS_POOL)
        self._lock = threading.RLock()
        self._closed = False

    # ------------------------------------------------------------------ start / stop
    @classmethod
    def start(cls, lab: DnsLab, workdir: str | Path | None = None, *, attempts: int = 3,
              timeout: float = 15.0) -> PowerDns:
        """Start pdns for ``lab`` in ``workdir`` (default: ``<lab.workdir>/powerdns``), create the zones
        and make them resolvable through the lab resolver.

        Raises :class:`DnsLabUnavailable` when pdns or its sqlite3 backend is missing,
        :class:`LabError` (with the pdns log) when it does not come up. A taken API port is retried
        on another port (up to ``attempts`` times); the DNS port is the lab's and is not changed.
        """
        binary = find_program(PDNS_BIN)
        schema = _schema_file()
        missing = [what for what, found in ((PDNS_BIN, binary), ("the gsqlite3 schema", schema),
                                            (_SQLITE_MODULE, _has_sqlite_backend() or None)) if found is None]
        if missing:
            raise DnsLabUnavailable(f"missing {', '.join(missing)}. {INSTALL_HINT}")
        root = Path(workdir) if workdir is not None else lab.workdir / "powerdns"
        pdns = cls(lab, root)
        atexit.register(pdns.close)
        try:
            pdns._add_address()
            errors: list[str] = []
            for attempt in range(attempts):
                pdns.workdir = root if attempt == 0 else root.with_name(f"{root.name}-retry{attempt}")
                try:
                    pdns._boot(str(binary), schema, timeout)  # type: ignore[arg-type]
                except LabError as exc:
                    clash = pdns._proc is not None and "address already in use" in str(exc).lower()
                    pdns._stop_process()
                    if clash and f":{pdns.api_port}" in str(exc):  # the API port was taken: try another
                        errors.append(f"attempt {attempt + 1}: {exc}")
                        continue
                    raise
                break
            else:
                raise LabError("PowerDNS failed to start:\n" + "\n\n".join(errors))
            pdns._create_zones()
            pdns._attach_to_lab(time.monotonic() + timeout)
        except BaseException:
            pdns.close()
            raise
        return pdns

    def _add_address(self) -> None:
        try:
            add_loopback_address(self.address, owner_label())
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise LabError(f"{self.address} is already on lo: another PowerDns on this lab?") from exc
            raise DnsLabUnavailable(f"cannot add loopback address {self.address}/32 to lo ({exc})") from exc
        self._added_addr = True

    def _boot(self, binary: str, schema: Path, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        database = self.workdir / "pdns.sqlite3"
        database.unlink(missing_ok=True)
        with sqlite3.connect(database) as db:
            db.executescript(schema.read_text())
        db.close()
        sock_dir = self.workdir / "run"
        if len(str(sock_dir / "pdns.controlsocket")) > 100:  # AF_UNIX path limit is 108 bytes
            self._sock_dir = Path(tempfile.mkdtemp(prefix="dnslab-pdns-"))
            sock_dir = self._sock_dir
        sock_dir.mkdir(exist_ok=True)
        self.api_port = pick_free_port(["127.0.0.1"], exclude=[self.port, self.lab.resolver_port])
        conf = f"""# DNS lab: PowerDNS Authoritative ({self.address}:{self.port}), API on 127.0.0.1:{self.api_port}.
launch=gsqlite3
gsqlite3-database={database}
gsqlite3-dnssec=no
local-address={self.address}
local-port={self.port}
local-address-nonexist-fail=yes
api=yes
api-key={self.api_key}
webserver=yes
webserver-address=127.0.0.1
webserver-port={self.api_port}
webserver-allow-from=127.0.0.0/8
webserver-loglevel=normal
daemon=no
guardian=no
disable-syslog=yes
log-timestamp=yes
loglevel=4
socket-dir={sock_dir}
security-poll-suffix=
primary=no
secondary=no
resolver=no
default-ttl={DEFAULT_TTL}
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
zone-cache-refresh-interval=0
distributor-threads=1
receiver-threads=1
"""
        (self.workdir / "pdns.conf").write_text(conf)
        self._proc = _Proc(
            f"pdns_server[{self.address}:{self.port} api 127.0.0.1:{self.api_port}]",
            [binary, f"--config-dir={self.workdir}", "--daemon=no", "--guardian=no"],
            self.workdir / "pdns.log",
            self.workdir,
        )
        while True:
            if not self._proc.alive():
                raise self._proc.failure("died during start-up")
            try:
                self.api("GET", "")
                break
            except (OSError, ApiError):
                pass
            if time.monotonic() > deadline:
                raise self._proc.failure(f"does not answer its API on {self.api_url}")
            time.sleep(0.02)
        self.startup_seconds = time.monotonic() - started

    def _create_zones(self) -> None:
        for zone in self.zones:
            apex = _fqdn(zone)
            soa = f"{PDNS_NS} hostmaster.{LAB_DOMAIN}. 1 {SOA_TIMERS}"
            self.api("POST", "/zones", {
                "name": apex,
                "kind": "Native",
                "nameservers": [PDNS_NS],
                "soa_edit_api": "INCREASE",
                "rrsets": [{"name": apex, "type": "SOA", "ttl": DEFAULT_TTL,
                            "records": [{"content": soa, "disabled": False}]}],
            })

    def _attach_to_lab(self, deadline: float) -> None:
        """pdns.lab.test in the lab zone, one Unbound stub per zone, then a check through the resolver."""
        self.lab.publish(f"{PDNS_HOST}.{LAB_DOMAIN}", "A", self.address)
        self._published_a = True
        for zone in self.zones:
            self.lab.unbound_control("stub_add", zone, f"{self.address}@{self.port}")
            self._stubs.append(zone)
        self.lab.flush_resolver()  # a negative answer from the lab root may be cached for these names
        for zone in [*self.zones, PDNS_NS]:
            rdtype = "A" if zone == PDNS_NS else "SOA"
            while True:
                try:
                    reply = self.lab.query_resolver(zone, rdtype, timeout=1.0)
                    if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                        break
                    problem = f"rcode {dns.rcode.to_text(reply.rcode())}, {len(reply.answer)} answers"
                except (dns.exception.DNSException, OSError) as exc:
                    problem = repr(exc)
                if time.monotonic() > deadline:
                    assert self._proc is not None
                    raise self._proc.failure(f"is not reachable through the lab resolver ({zone} {rdtype}: {problem})")
                self.lab.flush_resolver(zone)
                time.sleep(0.05)

    def _stop_process(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait_or_kill(timeout=5)
            self._proc = None

    def close(self) -> None:
        """Stop pdns; remove the stubs, the A record and the address it added. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        lab_running = not getattr(self.lab, "_closed", False)
        if lab_running:
            for zone in self._stubs:
                try:
                    self.lab.unbound_control("stub_remove", zone)
                    self.lab.flush_resolver(zone)
                except (LabError, OSError):
                    pass
            if self._published_a:
                try:
                    self.lab.remove(f"{PDNS_HOST}.{LAB_DOMAIN}", "A", self.address)
                    self.lab.flush_resolver(f"{PDNS_HOST}.{LAB_DOMAIN}")
                except (LabError, OSError):
                    pass
        self._stubs = []
        self._published_a = False
        self._stop_process()
        if self._added_addr:
            try:
                remove_loopback_address(self.address)
            except OSError:
                pass
            self._added_addr = False
        if self._sock_dir is not None:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
        try:
            atexit.unregister(self.close)
        except Exception:
            pass

    def __enter__(self) -> PowerDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PowerDns {self.address}:{self.port} api={self.api_url}>"

    # ------------------------------------------------------------------ HTTP API
    @property
    def api_url(self) -> str:
        """The webserver's base URL, e.g. "http://127.0.0.1:18081" (the API is under /api/v1)."""
        return f"http://127.0.0.1:{self.api_port}"

    def api(self, method: str, path: str, body: Any = None, *, key: str | None = None) -> Any:
        """One API call on ``/api/v1/servers/localhost<path>``; the decoded JSON (None when empty).

        ``key`` overrides the API key (to test a wrong one). Raises :class:`ApiError` on an HTTP error.
        """
        url = f"{self.api_url}/api/v1/servers/{self.server_id}{path}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("X-API-Key", self.api_key if key is None else key)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=5) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise ApiError(method, path, exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(text) if text.strip() else None

    def zone_for(self, name: str) -> str:
        """The pdns zone containing ``name`` (longest match). Raises LabError outside them."""
        labels = _fqdn(name).rstrip(".").split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.zones:
                return candidate
        raise LabError(f"{name} is not inside any PowerDNS lab zone ({', '.join(self.zones)})")

    def rrsets(self, zone: str) -> list[dict[str, Any]]:
        """Every RRset of ``zone`` as the API returns it ({"name", "type", "ttl", "records": [{"content", ...}]})."""
        return self.api("GET", f"/zones/{_fqdn(self.zone_for(zone))}")["rrsets"]

    def records(self, name: str, rdtype: str) -> list[str]:
        """The contents (presentation format, TXT quoted) of ``name``/``rdtype`` in the API, sorted; [] if none."""
        owner, rdtype = _fqdn(name), rdtype.upper()
        for rrset in self.rrsets(self.zone_for(name)):
            if rrset["name"].lower() == owner and rrset["type"] == rdtype:
                return sorted(r["content"] for r in rrset["records"])
        return []

    def _patch(self, zone: str, rrsets: list[dict[str, Any]]) -> None:
        if rrsets:
            self.api("PATCH", f"/zones/{_fqdn(zone)}", {"rrsets": rrsets})

    @staticmethod
    def contents(rdtype: str, *values: RdataValue) -> list[str]:
        """API contents of ``values``, taken as :meth:`DnsLab.make_rdatas` takes them: a TXT value is raw
        text (quoted and split here, as the API wants it), other types presentation format with
        absolute names ("10 mail.pdns1.test.")."""
        return [rd.to_text() for rd in DnsLab.make_rdatas(rdtype, values)]

    def _set(self, name: str, rdtype: str, contents: list[str], ttl: int) -> None:
        rrset = {"name": _fqdn(name), "type": _rdtype(rdtype).name, "ttl": ttl, "changetype": "REPLACE",
                 "records": [{"content": c, "disabled": False} for c in contents]}
        self._patch(self.zone_for(name), [rrset])

    def replace(self, name: str, rdtype: str, *values: RdataValue, ttl: int = DEFAULT_TTL) -> None:
        """Set the RRset ``name``/``rdtype`` to ``values`` through the API (see :meth:`contents`)."""
        if not values:
            raise ValueError("replace() needs at least one value; use remove() to delete")
        self._set(name, rdtype, self.contents(rdtype, *values), ttl)

    def publish(self, name: str, rdtype: str, *values: RdataValue, ttl: int = DEFAULT_TTL) -> None:
        """Add records to ``name``/``rdtype`` through the API, keeping those already there (to pre-seed a zone).

        The API only replaces whole RRsets, so this reads the RRset and writes it back with the new
        records; the TTL of the RRset becomes ``ttl``.
        """
        if not values:
            raise ValueError("publish() needs at least one value")
        new = self.contents(rdtype, *values)
        kept = [c for c in self.records(name, _rdtype(rdtype).name) if c not in new]
        self._set(name, rdtype, kept + new, ttl)

    def remove(self, name: str, rdtype: str) -> None:
        """Delete the RRset ``name``/``rdtype`` through the API."""
        rrset = {"name": _fqdn(name), "type": _rdtype(rdtype).name, "changetype": "DELETE"}
        self._patch(self.zone_for(name), [rrset])

    # ------------------------------------------------------------------ DNS
    def query(self, name: str, rdtype: str = "SOA", *, tcp: bool = False, timeout: float = 2.0) -> dns.message.Message:
        """Ask pdns itself on its DNS port (no recursion)."""
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD
        if tcp:
            return dns.query.tcp(query, self.address, timeout=timeout, port=self.port)
        return dns.query.udp_with_fallback(query, self.address, timeout=timeout, port=self.port)[0]

    # ------------------------------------------------------------------ zone pool / reset
    def reset_zone(self, zone: str) -> None:
        """Back to SOA + NS: every other RRset is deleted, the apex NS set put back to pdns.lab.test."""
        zone = self.zone_for(zone)
        apex = _fqdn(zone)
        changes: list[dict[str, Any]] = []
        for rrset in self.rrsets(zone):
            at_apex = rrset["name"].lower() == apex
            if at_apex and rrset["type"] == "SOA":
                continue
            if at_apex and rrset["type"] == "NS":
                if [r["content"] for r in rrset["records"]] != [PDNS_NS] or rrset["ttl"] != DEFAULT_TTL:
                    changes.append({"name": apex, "type": "NS", "ttl": DEFAULT_TTL, "changetype": "REPLACE",
                                    "records": [{"content": PDNS_NS, "disabled": False}]})
                continue
            changes.append({"name": rrset["name"], "type": rrset["type"], "changetype": "DELETE"})
        self._patch(zone, changes)
        self.lab.flush_resolver(zone)

    def acquire_zone(self) -> str:
        """Take an unused zone of the pool (pdns1.test ... pdns4.test)."""
        with self._lock:
            try:
                return self._pool.popleft()
            except IndexError:
                raise LabError("no free PowerDNS zone left in the pool") from None

    def release_zone(self, zone: str) -> None:
        """Reset a zone taken with :meth:`acquire_zone`, flush it from the resolver, return it to the pool."""
        zone = self.zone_for(zone)
        try:
            self.reset_zone(zone)
        finally:
            with self._lock:
                if zone not in self._pool:
                    self._pool.append(zone)

