"""The DNS lab: BIND authoritative servers, Python oddball servers and an Unbound resolver on loopback.

See the package docstring (``tests/dnslab/__init__.py``) for the topology. This module holds the
zone table, the config/zone-file rendering, process management and the :class:`DnsLab` API.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import errno
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.tsig
import dns.tsigkeyring
import dns.update

from .netutil import (add_loopback_address, find_program, owner_label, pick_free_port, reap_stale_addresses,
                      remove_loopback_address)
from .pyservers import BlackholeServer, DelayProxy, ServfailServer

__all__ = [
    "ADDON_HOSTS",
    "DEFAULT_TTL",
    "DnsLab",
    "DnsLabUnavailable",
    "HOSTS",
    "LabError",
    "NEGATIVE_TTL",
    "POOLS",
    "PROP_POOL",
    "SINGLE_POOL",
    "TSIG_ALGORITHM",
    "TSIG_DENY_POOL",
    "TSIG_KEY_NAME",
    "TSIG_POOL",
    "ZONES",
    "ZoneSpec",
    "split_txt",
]

DEFAULT_TTL = 300  # $TTL of every zone and default TTL of publish()
NEGATIVE_TTL = 300  # SOA minimum (negative caching TTL) of every zone
SOA_TIMERS = f"3600 600 86400 {NEGATIVE_TTL}"  # refresh retry expire minimum
LAB_DOMAIN = "lab.test"  # the zone holding the nameserver host names

# Last octet of each lab host inside the lab's 127.B.C.0/24 block.
HOSTS: dict[str, int] = {
    "root": 10,  # named: the lab root zone "."
    "ns1": 11,  # named: most zones
    "nsa": 21,  # named: first independent primary of the two-server zones
    "nsb": 22,  # named: second independent primary of the two-server zones
    "blackhole": 31,  # Python: bound, never answers
    "servfail": 32,  # Python: SERVFAIL to everything
    "slow": 33,  # Python DelayProxy in front of ns1 (slow.test)
}
# Addresses the lab does not use itself but keeps for servers started on demand by other fixtures: the
# lab's port is checked free on them too, so such a server can listen on lab.port like every other one.
ADDON_HOSTS: dict[str, int] = {
    "pdns": 12,  # PowerDNS Authoritative (tests/dnslab/powerdns.py, the ``powerdns`` fixture)
}
NAMED_HOSTS = ("root", "ns1", "nsa", "nsb")
PROXY_OCTETS = range(40, 60)  # addresses handed out by DnsLab.start_delay_proxy()
RESOLVER_ADDR = "127.0.0.1"

NAMED_BIN = "named"
UNBOUND_BIN = "unbound"
INSTALL_HINT = (
    "The DNS lab needs BIND 9 (`named`) and Unbound (`unbound`). Run the project's test script, "
    "which installs them (`apt-get install -y bind9 bind9-utils unbound`), or install them by hand."
)

# The lab's TSIG key. The name is fixed; the secret is drawn per lab (DnsLab.tsig_secret), so a test can
# only sign an update for a TSIG zone with what the lab hands it, and a stale secret from an earlier
# session is simply wrong.
TSIG_KEY_NAME = "stackshift-lab-key."
TSIG_ALGORITHM = "hmac-sha256"


@dataclass(frozen=True)
class ZoneSpec:
    """One lab zone: its NS set (lab host names) and the named instances that load it."""

    name: str
    ns: tuple[str, ...]
    primaries: tuple[str, ...]
    records: tuple[str, ...] = field(default=())  # extra zone-file lines (absolute names)
    # True: updates must be signed with the lab's TSIG key (no IP ACL), so an unsigned one is REFUSED.
    tsig: bool = False
    # Absolute names the key may NOT update (BIND update-policy "deny ... name"); only with tsig.
    deny: tuple[str, ...] = field(default=())


SINGLE_POOL = tuple(f"z{i:02d}.test" for i in range(1, 21))  # fresh_zone pool, served by ns1
PROP_POOL = tuple(f"prop{i}.test" for i in range(1, 9))  # fresh_prop_zone pool, served by nsa + nsb
TSIG_POOL = tuple(f"tsig{i}.test" for i in range(1, 9))  # fresh_tsig_zone pool: ns1, signed updates only
# fresh_tsig_deny_zone pool: signed updates only, and even a signed update of _dmarc.<zone> is REFUSED
# (update-policy), for "the third of three changes fails" (DMARC comes after SPF and DKIM).
TSIG_DENY_POOL = ("tsigdeny.test",)
# acquire_zone(kind) -> the zones of that kind
POOLS: dict[str, tuple[str, ...]] = {
    "single": SINGLE_POOL,
    "prop": PROP_POOL,
    "tsig": TSIG_POOL,
    "tsigdeny": TSIG_DENY_POOL,
}


def _build_zones() -> dict[str, ZoneSpec]:
    zones: dict[str, ZoneSpec] = {}

    def add(name: str, ns: Sequence[str], primaries: Sequence[str] | None = None, records: Sequence[str] = (),
            tsig: bool = False, deny: Sequence[str] = ()) -> None:
        zones[name] = ZoneSpec(name, tuple(ns), tuple(ns if primaries is None else primaries), tuple(records),
                               tsig, tuple(deny))

    add(LAB_DOMAIN, ["ns1"])
    for name in ("example.test", "other.test", "example.co.uk"):
        add(name, ["ns1"])
    add(
        "stackshift.email",
        ["ns1"],
        records=[
            'spf.stackshift.email. TXT "v=spf1 ip4:192.0.2.0/24 ~all"',
            "bounces.stackshift.email. A 192.0.2.10",
            "inbound.stackshift.email. A 192.0.2.20",
        ],
    )
    for name in SINGLE_POOL:
        add(name, ["ns1"])
    for name in ("prop.test", *PROP_POOL):
        add(name, ["nsa", "nsb"])
    for name in TSIG_POOL:
        add(name, ["ns1"], tsig=True)
    for name in TSIG_DENY_POOL:
        add(name, ["ns1"], tsig=True, deny=[f"_dmarc.{name}."])
    add("mixed.test", ["ns1", "blackhole"], primaries=["ns1"])  # one good NS, one silent NS
    add("slow.test", ["slow"], primaries=["ns1"])  # answered by ns1 through the delay proxy
    add("dead.test", ["blackhole"], primaries=[])  # every NS silent
    add("servfail.test", ["servfail"], primaries=[])  # every NS answers SERVFAIL
    return zones


ZONES: dict[str, ZoneSpec] = _build_zones()


class LabError(RuntimeError):
    """A lab operation failed (server did not start, update refused, ...)."""


class DnsLabUnavailable(LabError):
    """The lab cannot run on this machine (binaries missing, no privilege for loopback addresses)."""


class _PortClash(LabError):
    """Another process took the lab's port between the check and the bind (start() retries)."""


# Log lines (lower-cased) of named/unbound meaning "the port was taken".
_PORT_CLASH_MARKERS = ("address in use", "address already in use", "unable to listen on any configured interfaces")


RdataValue = Union[str, bytes, Sequence[Union[str, bytes]], dns.rdata.Rdata]


def split_txt(value: str | bytes | Sequence[str | bytes]) -> list[bytes]:
    """The character-strings of one TXT record.

    A ``str``/``bytes`` is ONE logical value (raw text, not zone-file syntax: no quoting needed),
    split into 255-byte strings when longer. A list/tuple is taken as the exact strings
    (each at most 255 bytes), to publish a deliberately multi-string record.
    """
    if isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        return [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    strings = [s.encode() if isinstance(s, str) else bytes(s) for s in value]
    for s in strings:
        if len(s) > 255:
            raise ValueError(f"TXT character-string longer than 255 bytes ({len(s)})")
    if not strings:
        raise ValueError("a TXT record needs at least one string")
    return strings


def _name(name: str | dns.name.Name) -> dns.name.Name:
    return name if isinstance(name, dns.name.Name) else dns.name.from_text(name)


def _zone_key(zone: str | dns.name.Name) -> str:
    return _name(zone).to_text(omit_final_dot=True).lower()


def _server(server: Any, default_port: int) -> tuple[str, int]:
    """Accept "ip", "ip:port" or (ip, port)."""
    if isinstance(server, (tuple, list)):
        return str(server[0]), int(server[1])
    text = str(server)
    if text.count(":") == 1:
        ip, port = text.split(":")
        return ip, int(port)
    return text, default_port


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


try:  # loaded once here: nothing but the prctl call may run between fork and exec
    _LIBC_PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _LIBC_PRCTL = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _LIBC_PRCTL is not None:
        _LIBC_PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def _worker_octet() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        return 100 + int(worker[2:]) % 100
    return 99


def named_conf(directory: Path, address: str, port: int, stanzas: Sequence[str], *, comment: str) -> str:
    """A named.conf for an authoritative-only BIND on one loopback address: no recursion, no DNSSEC, no notify, no
    rndc channel, zone checks relaxed (test zones hold what real zones would refuse); `stanzas` are the keys and
    zones. The DNS lab and the benchmark's world (bench/world.py) both run BIND with it."""
    d = str(directory)
    return f"""// {comment}
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    dump-file "{d}/named_dump.db";
    statistics-file "{d}/named.stats";
    memstatistics-file "{d}/named.memstats";
    listen-on port {port} {{ {address}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    empty-zones-enable no;
    automatic-interface-scan no;
    interface-interval 0;
    allow-query {{ 127.0.0.0/8; }};
    allow-transfer {{ 127.0.0.0/8; }};
    check-names primary ignore;
    check-mx ignore;
    check-mx-cname ignore;
    check-srv-cname ignore;
    check-integrity no;
    check-wildcard no;
    check-sibling no;
    check-dup-records ignore;
    check-spf ignore;
}};
controls {{ }};
{chr(10).join(stanzas)}
"""


class _Proc:
    def __init__(self, name: str, cmd: list[str], log: Path, cwd: Path) -> None:
        self.name = name
        self.log = log
        self._log_fh = open(log, "wb")
        main = threading.current_thread() is threading.main_thread()
        self.popen = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # PDEATHSIG fires when the creating *thread* exits, so only use it from the main thread.
            preexec_fn=_die_with_parent if main and _LIBC_PRCTL is not None else None,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def failure(self, what: str) -> LabError:
        """A LabError with the log tail; a _PortClash when the log says the port was taken."""
        status = self.popen.poll()
        state = "is running" if status is None else f"exited with status {status}"
        tail = _tail(self.log)
        lowered = tail.lower()
        clash = any(marker in lowered for marker in _PORT_CLASH_MARKERS)
        return (_PortClash if clash else LabError)(f"{self.name} {what}; it {state}. Log {self.log}:\n{tail}")

    def terminate(self) -> None:
        if self.alive():
            try:
                self.popen.terminate()
            except ProcessLookupError:
                pass

    def wait_or_kill(self, timeout: float) -> None:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
        self._log_fh.close()


class DnsLab:
    """A running DNS lab. Create with :meth:`DnsLab.start`; stop with :meth:`close` (idempotent).

    Addresses are strings ("127.B.C.x"); every authoritative server (named or Python) listens on
    UDP+TCP :attr:`port`; the Unbound resolver on :attr:`resolver_addr`::attr:`resolver_port`.
    Zone arguments accept "example.test" or "example.test."; name arguments are absolute
    (a missing final dot is implied).

    TSIG zones (:data:`TSIG_POOL`, :data:`TSIG_DENY_POOL`) only take updates signed with the lab's
    key: :attr:`tsig_key_name`, :attr:`tsig_algorithm`, :attr:`tsig_secret` (base64 text, new per
    lab); :attr:`tsig_keyring` is the dnspython keyring. The lab's own helpers sign their updates
    for these zones by themselves.
    """

    # ------------------------------------------------------------------ construction / teardown
    def __init__(self, workdir: Path, *, base_octets: tuple[int, int], port: int, resolver_port: int) -> None:
        self.workdir = Path(workdir)
        self.base = f"127.{base_octets[0]}.{base_octets[1]}"
        self.port = port
        self.resolver_addr = RESOLVER_ADDR
        self.resolver_port = resolver_port
        self.zone_specs: dict[str, ZoneSpec] = dict(ZONES)
        self.startup_seconds: float | None = None
        self._procs: dict[str, _Proc] = {}
        self._pyservers: list[Any] = []
        self._proxies: list[DelayProxy] = []
        self._added_addrs: list[str] = []
        self._ctl_dir: Path | None = None
        self._ctl_path: Path | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._pools: dict[str, deque[str]] = {kind: deque(zones) for kind, zones in POOLS.items()}
        self.tsig_key_name = TSIG_KEY_NAME
        self.tsig_algorithm = TSIG_ALGORITHM
        self.tsig_secret = base64.b64encode(os.urandom(32)).decode()
        self.slow_proxy: DelayProxy | None = None
        self._remove_on_close: Path | None = None  # the temp dir DnsLab.start() made itself

    @classmethod
    def start(cls, workdir: str | os.PathLike[str] | None = None, *, attempts: int = 3,
              timeout: float = 15.0) -> DnsLab:
        """Start a lab in ``workdir`` (a fresh temp dir when None) and wait until every server answers.

        Raises :class:`DnsLabUnavailable` if named/unbound are missing or loopback addresses can't
        be added, :class:`LabError` (with the server logs) if a server does not come up.
        Retries on a new address block and new ports (up to ``attempts`` times) only when a port
        turned out to be taken; any other failure is raised at once.
        """
        missing = [b for b in (NAMED_BIN, UNBOUND_BIN) if find_program(b) is None]
        if missing:
            raise DnsLabUnavailable(f"missing {', '.join(missing)}. {INSTALL_HINT}")
        own_dir = workdir is None
        root = Path(tempfile.mkdtemp(prefix="dnslab-")) if own_dir else Path(workdir)
        root.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        for attempt in range(attempts):
            lab_dir = root / ("lab" if attempt == 0 else f"lab-retry{attempt}")
            lab = cls._allocate(lab_dir)
            try:
                lab._boot(timeout)
            except (_PortClash, OSError) as exc:  # lost a race for the port: retry elsewhere
                lab.close()
                errors.append(f"attempt {attempt + 1}: {exc}")
                continue
            except Exception as exc:
                lab.close()
                if isinstance(exc, LabError) and not isinstance(exc, DnsLabUnavailable):
                    raise LabError(f"DNS lab failed to start: {exc}") from None
                raise
            except BaseException:
                lab.close()
                raise
            if own_dir:
                lab._remove_on_close = root
            return lab
        if own_dir:
            errors.append(f"(logs kept in {root})")
        raise LabError("DNS lab failed to start:\n" + "\n\n".join(errors))

    @classmethod
    def _allocate(cls, lab_dir: Path) -> DnsLab:
        """Pick a 127.B.C.0/24 block not already on lo, add the named addresses, pick ports."""
        rng = random.SystemRandom()
        second = _worker_octet()
        try:
            reap_stale_addresses()
        except OSError:
            pass  # not root: reported below when adding fails
        label = owner_label()
        for _ in range(30):
            third = rng.randrange(1, 255)
            base = f"127.{second}.{third}"
            added: list[str] = []
            try:
                for host in NAMED_HOSTS:
                    addr = f"{base}.{HOSTS[host]}"
                    add_loopback_address(addr, label)
                    added.append(addr)
            except OSError as exc:
                for addr in added:
                    remove_loopback_address(addr)
                if exc.errno == errno.EEXIST:
                    continue  # another lab uses this block: pick another one
                raise DnsLabUnavailable(
                    f"cannot add loopback address {base}.x/32 to lo ({exc}); the DNS lab needs root "
                    "(CAP_NET_ADMIN) because BIND only listens on addresses configured on an interface."
                ) from exc
            all_addrs = [f"{base}.{o}" for o in (*HOSTS.values(), *ADDON_HOSTS.values(), *PROXY_OCTETS)]
            port = pick_free_port(all_addrs)
            resolver_port = pick_free_port([RESOLVER_ADDR], exclude=[port])
            lab = cls(lab_dir, base_octets=(second, third), port=port, resolver_port=resolver_port)
            lab._added_addrs = added
            atexit.register(lab.close)
            return lab
        raise LabError(f"no free 127.{second}.x.0/24 block found on lo")

    def close(self) -> None:
        """Stop every server, remove the loopback addresses. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for proc in self._procs.values():
            proc.terminate()
        for proc in self._procs.values():
            proc.wait_or_kill(timeout=5)
        for server in [*self._proxies, *self._pyservers]:
            try:
                server.stop()
            except Exception:
                pass
        for addr in self._added_addrs:
            try:
                remove_loopback_address(addr)
            except OSError:
                pass
        self._added_addrs = []
        if self._ctl_dir is not None:
            shutil.rmtree(self._ctl_dir, ignore_errors=True)
        if self._remove_on_close is not None:
            shutil.rmtree(self._remove_on_close, ignore_errors=True)
        try:
            atexit.unregister(self.close)
        except Exception:
            pass

    def __enter__(self) -> DnsLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ boot
    def _boot(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Python servers first: they bind immediately, so a port clash shows up right here.
        self._pyservers.append(BlackholeServer((self.blackhole_addr, self.port)).start())
        self._pyservers.append(ServfailServer((self.servfail_addr, self.port)).start())
        self.slow_proxy = DelayProxy((self.ns1_addr, self.port), (self.slow_addr, self.port), delay_ms=100).start()
        self._pyservers.append(self.slow_proxy)
        named = find_program(NAMED_BIN)
        for host in NAMED_HOSTS:
            conf = self._write_named(host)
            self._procs[host] = _Proc(
                f"named[{host} {self.addr(host)}:{self.port}]",
                [named, "-g", "-4", "-n", "1", "-c", str(conf)],
                conf.parent / "named.log",
                conf.parent,
            )
        conf = self._write_unbound()
        self._procs["unbound"] = _Proc(
            f"unbound[{self.resolver}]",
            [find_program(UNBOUND_BIN), "-d", "-c", str(conf)],
            conf.parent / "unbound.log",
            conf.parent,
        )
        for host in NAMED_HOSTS:
            zones = ["."] if host == "root" else [z for z, s in self.zone_specs.items() if host in s.primaries]
            self._wait_authoritative(host, zones, deadline)
        self._wait_resolver(deadline)
        self.startup_seconds = time.monotonic() - started

    def _write_named(self, host: str) -> Path:
        directory = self.workdir / f"named-{host}"
        directory.mkdir(parents=True, exist_ok=True)
        zone_stanzas = []
        if host == "root":
            (directory / "root.db").write_text(self._root_zone_text())
            zone_stanzas.append('zone "." { type primary; file "root.db"; allow-update { 127.0.0.0/8; }; };')
        else:
            for zone, spec in self.zone_specs.items():
                if host in spec.primaries:
                    (directory / f"{zone}.db").write_text(self._zone_text(spec))
                    zone_stanzas.append(f'zone "{zone}" {{ type primary; file "{zone}.db"; {self._update_rule(spec)} }};')
        key = f'key "{self.tsig_key_name}" {{ algorithm {self.tsig_algorithm}; secret "{self.tsig_secret}"; }};'
        conf = named_conf(directory, self.addr(host), self.port, [key, *zone_stanzas],
                          comment=f'DNS lab: named instance "{host}" ({self.addr(host)}:{self.port}), authoritative only.')
        path = directory / "named.conf"
        path.write_text(conf)
        return path

    def _update_rule(self, spec: ZoneSpec) -> str:
        """Who may update a zone: any loopback address, or (TSIG zones) only the lab key.

        A TSIG zone has no IP ACL at all, so an unsigned update from loopback is REFUSED like one
        from anywhere else. With ``deny`` names it is an update-policy instead: BIND applies the
        first rule that matches, so the deny rules come before the grant; type ANY (rather than no
        type, which leaves out NS and SOA) lets reset_zone() restore the apex NS set.
        """
        if not spec.tsig:
            return "allow-update { 127.0.0.0/8; };"
        key = self.tsig_key_name
        if not spec.deny:
            return f'allow-update {{ key "{key}"; }};'
        rules = [f"deny {key} name {name} ANY;" for name in spec.deny]
        rules.append(f"grant {key} subdomain {spec.name}. ANY;")
        return f"update-policy {{ {' '.join(rules)} }};"

    def _zone_text(self, spec: ZoneSpec) -> str:
        lines = [
            f"$ORIGIN {spec.name}.",
            f"$TTL {DEFAULT_TTL}",
            f"@ IN SOA {spec.ns[0]}.{LAB_DOMAIN}. hostmaster.{LAB_DOMAIN}. 1 {SOA_TIMERS}",
        ]
        lines += [f"@ IN NS {ns}.{LAB_DOMAIN}." for ns in spec.ns]
        if spec.name == LAB_DOMAIN:
            lines += [f"{host} IN A {self.addr(host)}" for host in HOSTS]
        lines += list(spec.records)
        return "\n".join(lines) + "\n"

    def _root_zone_text(self) -> str:
        lines = [
            "$ORIGIN .",
            f"$TTL {DEFAULT_TTL}",
            f". IN SOA root.{LAB_DOMAIN}. hostmaster.{LAB_DOMAIN}. 1 {SOA_TIMERS}",
            f". IN NS root.{LAB_DOMAIN}.",
        ]
        for zone, spec in self.zone_specs.items():
            lines += [f"{zone}. IN NS {ns}.{LAB_DOMAIN}." for ns in spec.ns]
        lines += [f"{host}.{LAB_DOMAIN}. IN A {self.addr(host)}" for host in HOSTS]  # glue
        return "\n".join(lines) + "\n"

    def _write_unbound(self) -> Path:
        directory = self.workdir / "unbound"
        directory.mkdir(parents=True, exist_ok=True)
        hints = directory / "root.hints"
        hints.write_text(
            f".  3600000 IN NS root.{LAB_DOMAIN}.\nroot.{LAB_DOMAIN}. 3600000 IN A {self.root_addr}\n"
        )
        ctl = directory / "unbound.ctl"
        if len(str(ctl)) > 100:  # AF_UNIX path limit is 108 bytes
            self._ctl_dir = Path(tempfile.mkdtemp(prefix="dnslab-ctl-"))
            ctl = self._ctl_dir / "unbound.ctl"
        self._ctl_path = ctl
        # Unbound can't learn a non-53 port from a referral, so every lab zone is a stub zone whose
        # stub-addrs carry the port; "." is a stub to the lab root (NXDOMAIN for everything else).
        stub_lines = []
        for zone, spec in [(".", None), *self.zone_specs.items()]:
            hosts = ["root"] if spec is None else spec.ns
            stub_lines.append("stub-zone:")
            stub_lines.append(f'    name: "{zone.rstrip(".")}."')
            stub_lines += [f"    stub-addr: {self.addr(h)}@{self.port}" for h in hosts]
            stub_lines.append("    stub-prime: no")
            stub_lines.append("    stub-first: no")
        stubs = "\n".join(stub_lines)
        conf = f"""# DNS lab: caching resolver. Only queries the lab servers (stub zones, 127.B.C.x:{self.port}).
server:
    verbosity: 1
    interface: {self.resolver_addr}
    port: {self.resolver_port}
    outgoing-interface: {self.resolver_addr}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    use-systemd: no
    use-syslog: no
    logfile: ""
    log-time-ascii: yes
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    num-threads: 1
    so-reuseport: no
    outgoing-range: 1024
    num-queries-per-thread: 512
    discard-timeout: 0
    wait-limit: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    local-zone: "test." nodefault
    qname-minimisation: no
    cache-min-ttl: 0
    serve-expired: no
    prefetch: no
    harden-referral-path: no
    minimal-responses: no

{stubs}
remote-control:
    control-enable: yes
    control-interface: "{ctl}"
    control-use-cert: no
"""
        path = directory / "unbound.conf"
        path.write_text(conf)
        return path

    def _wait_authoritative(self, host: str, zones: Iterable[str], deadline: float) -> None:
        proc = self._procs[host]
        pending = list(zones)
        while pending:
            zone = pending[0]
            if not proc.alive():
                raise proc.failure("died during start-up")
            log = proc.log.read_text(errors="replace").lower()
            if any(marker in log for marker in _PORT_CLASH_MARKERS):
                raise proc.failure("could not bind its port")
            if "not loaded due to errors" in log:
                raise proc.failure("failed to load a zone")
            try:
                reply = self.query_auth(zone, "SOA", self.addr(host), timeout=0.2)
                if reply.rcode() == dns.rcode.NOERROR and reply.flags & dns.flags.AA and reply.answer:
                    pending.pop(0)
                    continue
            except (dns.exception.DNSException, OSError):
                pass
            if time.monotonic() > deadline:
                raise proc.failure(f"does not answer SOA for {zone}")
            time.sleep(0.02)

    def _wait_resolver(self, deadline: float) -> None:
        """Unbound is up when it answers "localhost" (a built-in local zone, no upstream needed);
        then its cache is flushed (in case it queried a named that was not up yet) and the full
        path is checked with a lookup of ns1.lab.test."""
        proc = self._procs["unbound"]
        for name, check_path in (("localhost", False), (f"ns1.{LAB_DOMAIN}", True)):
            while True:
                if not proc.alive():
                    raise proc.failure("died during start-up")
                try:
                    if check_path:
                        self.flush_resolver()
                    reply = self.query_resolver(name, "A", timeout=0.5)
                    if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                        break
                except (dns.exception.DNSException, OSError, LabError):
                    pass
                if time.monotonic() > deadline:
                    raise proc.failure(f"does not resolve {name}")
                time.sleep(0.02)

    # ------------------------------------------------------------------ topology
    def addr(self, host: str) -> str:
        """Address of a lab host: one of :data:`HOSTS` ("root", "ns1", "nsa", "nsb", "blackhole", ...)
        or of :data:`ADDON_HOSTS` ("pdns": reserved, only in use while its fixture runs)."""
        return f"{self.base}.{HOSTS[host] if host in HOSTS else ADDON_HOSTS[host]}"

    @property
    def root_addr(self) -> str:
        return self.addr("root")

    @property
    def ns1_addr(self) -> str:
        return self.addr("ns1")

    @property
    def prop_addrs(self) -> tuple[str, str]:
        return self.addr("nsa"), self.addr("nsb")

    @property
    def blackhole_addr(self) -> str:
        return self.addr("blackhole")

    @property
    def servfail_addr(self) -> str:
        return self.addr("servfail")

    @property
    def slow_addr(self) -> str:
        return self.addr("slow")

    @property
    def resolver(self) -> str:
        """The resolver as "ip:port"."""
        return f"{self.resolver_addr}:{self.resolver_port}"

    @property
    def zones(self) -> list[str]:
        """Every lab zone (without the root)."""
        return list(self.zone_specs)

    def zone_for(self, name: str | dns.name.Name) -> str:
        """The lab zone containing ``name`` (longest match). Raises LabError outside the lab."""
        labels = _zone_key(name).split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.zone_specs:
                return candidate
        raise LabError(f"{name} is not inside any lab zone")

    def spec(self, zone: str) -> ZoneSpec:
        return self.zone_specs[self.zone_for(zone)]

    def nameservers_for(self, zone: str) -> list[str]:
        """NS host names of the zone containing ``zone`` (e.g. ["ns1.lab.test."])."""
        return [f"{ns}.{LAB_DOMAIN}." for ns in self.spec(zone).ns]

    def servers_for(self, zone: str) -> list[str]:
        """Addresses of the zone's NS set (what a client querying "all authoritative servers" hits)."""
        return [self.addr(ns) for ns in self.spec(zone).ns]

    def primaries_for(self, zone: str) -> list[str]:
        """Addresses of the named instances that hold the zone and accept updates for it."""
        return [self.addr(h) for h in self.spec(zone).primaries]

    def describe(self) -> str:
        lines = [f"DNS lab in {self.workdir}: authoritative port {self.port}, resolver {self.resolver}"]
        lines += [f"  {host:<10} {self.addr(host)}" for host in HOSTS]
        for zone, spec in self.zone_specs.items():
            lines.append(f"  zone {zone:<18} NS {','.join(spec.ns):<16} primaries {','.join(spec.primaries) or '-'}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<DnsLab {self.base}.0/24 port={self.port} resolver={self.resolver}>"

    # ------------------------------------------------------------------ queries
    def query_auth(self, name: str, rdtype: str | int = "SOA", server: Any = None, *, tcp: bool = False,
                   timeout: float = 2.0) -> dns.message.Message:
        """Query one authoritative server (default: the first NS of the zone) on :attr:`port`.

        ``server`` is "ip", "ip:port" or (ip, port). UDP falls back to TCP on truncation.
        Raises dns.exception.Timeout when the server is silent.
        """
        if server is None:
            server = self.servers_for(self.zone_for(name))[0]
        ip, port = _server(server, self.port)
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD
        if tcp:
            return dns.query.tcp(query, ip, timeout=timeout, port=port)
        return dns.query.udp_with_fallback(query, ip, timeout=timeout, port=port)[0]

    def query_resolver(self, name: str, rdtype: str | int = "A", *, tcp: bool = False,
                       timeout: float = 5.0) -> dns.message.Message:
        """Query the Unbound resolver (recursion desired)."""
        query = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(query, self.resolver_addr, timeout=timeout, port=self.resolver_port)
        return dns.query.udp_with_fallback(query, self.resolver_addr, timeout=timeout, port=self.resolver_port)[0]

    def make_resolver(self, timeout: float = 5.0) -> dns.resolver.Resolver:
        """A dnspython stub resolver that uses the lab resolver (no client-side cache)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.resolver_addr]
        resolver.port = self.resolver_port
        resolver.timeout = resolver.lifetime = timeout
        resolver.cache = None
        return resolver

    def rdatas(self, name: str, rdtype: str | int, server: Any = None) -> list[dns.rdata.Rdata]:
        """The records of ``name``/``rdtype`` at one authoritative server ([] if none)."""
        reply = self.query_auth(name, rdtype, server)
        rrset = reply.get_rrset(dns.message.ANSWER, _name(name), dns.rdataclass.IN, _rdtype(rdtype))
        return list(rrset) if rrset is not None else []

    def soa_serial(self, zone: str, server: Any = None) -> int:
        """The SOA serial that ``server`` (default: the zone's first primary) serves for ``zone``."""
        zone = self.zone_for(zone)
        server = server if server is not None else self.primaries_for(zone)[0]
        records = self.rdatas(zone, "SOA", server)
        if not records:
            raise LabError(f"{server} has no SOA for {zone}")
        return records[0].serial

    # ------------------------------------------------------------------ dynamic updates
    @staticmethod
    def make_rdatas(rdtype: str | int, values: Iterable[RdataValue],
                    origin: str | None = None) -> list[dns.rdata.Rdata]:
        """Turn publish() values into rdata objects.

        TXT/SPF: see :func:`split_txt` (str = one raw value, auto-split; list = exact strings).
        Other types: presentation format ("10 mail.example.test", "192.0.2.1"); relative names
        are taken relative to ``origin`` (default: the root, i.e. names are absolute).
        An ``Rdata`` object is used as is.
        """
        rdtype = _rdtype(rdtype)
        origin_name = _name(origin) if origin else dns.name.root
        out: list[dns.rdata.Rdata] = []
        for value in values:
            if isinstance(value, dns.rdata.Rdata):
                out.append(value)
            elif rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
                cls = dns.rdata.get_rdata_class(dns.rdataclass.IN, rdtype)
                out.append(cls(dns.rdataclass.IN, rdtype, split_txt(value)))
            else:
                if not isinstance(value, str):
                    raise TypeError(f"{dns.rdatatype.to_text(rdtype)} values must be presentation-format strings")
                out.append(dns.rdata.from_text(dns.rdataclass.IN, rdtype, value, origin=origin_name, relativize=False))
        return out

    def _targets(self, zone: str, servers: Any) -> list[tuple[str, int]]:
        if servers is None:
            servers = self.primaries_for(zone)
            if not servers:
                raise LabError(f"zone {zone} has no updatable (named) server")
        elif isinstance(servers, (str, tuple)):
            servers = [servers]
        return [_server(s, self.port) for s in servers]

    @property
    def tsig_keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        """The lab's TSIG key as a dnspython keyring (``keyring=`` of UpdateMessage / dns.query)."""
        return dns.tsigkeyring.from_text({self.tsig_key_name: (self.tsig_algorithm, self.tsig_secret)})

    def update_message(self, zone: str) -> dns.update.UpdateMessage:
        """An empty RFC 2136 update for ``zone``, signed with the lab key if the zone is a TSIG zone.

        Every lab helper builds its updates here, so publish()/remove()/reset_zone()... work on the
        TSIG zones too; tests can use it for a correctly signed update of their own.
        """
        zone = self.zone_for(zone)
        if not self.zone_specs[zone].tsig:
            return dns.update.UpdateMessage(zone)
        return dns.update.UpdateMessage(zone, keyring=self.tsig_keyring, keyname=self.tsig_key_name,
                                        keyalgorithm=dns.tsig.HMAC_SHA256)

    def _send_update(self, update: dns.update.UpdateMessage, target: tuple[str, int]) -> None:
        try:
            reply = dns.query.tcp(update, target[0], timeout=5.0, port=target[1])
        except (dns.exception.DNSException, OSError) as exc:
            raise LabError(f"update of {update.origin} at {target[0]}:{target[1]} failed: {exc!r}") from exc
        if reply.rcode() != dns.rcode.NOERROR:
            raise LabError(
                f"update of {update.origin} at {target[0]}:{target[1]} refused: {dns.rcode.to_text(reply.rcode())}"
            )

    def publish(self, name: str, rdtype: str | int, *values: RdataValue, ttl: int = DEFAULT_TTL,
                servers: Any = None) -> None:
        """Add records (RFC 2136) at every primary of the zone holding ``name`` (or at ``servers``).

        Existing records of the RRset are kept (use :meth:`replace` to overwrite). Checks NOERROR
        and that the server then serves every added record (BIND silently ignores e.g. a CNAME
        next to other data); raises LabError otherwise.
        """
        if not values:
            raise ValueError("publish() needs at least one value")
        zone = self.zone_for(name)
        rdatas = self.make_rdatas(rdtype, values)
        update = self.update_message(zone)
        update.add(_name(name), ttl, *rdatas)
        for target in self._targets(zone, servers):
            self._send_update(update, target)
            served = self.rdatas(name, rdtype, target)
            missing = [rd for rd in rdatas if rd not in served]
            if missing:
                raise LabError(
                    f"{target[0]} accepted the update but does not serve {name} "
                    f"{dns.rdatatype.to_text(_rdtype(rdtype))} "
                    f"{[rd.to_text() for rd in missing]} (conflicting data such as a CNAME at the name?)"
                )

    def replace(self, name: str, rdtype: str | int, *values: RdataValue, ttl: int = DEFAULT_TTL,
                servers: Any = None) -> None:
        """Replace the whole RRset ``name``/``rdtype`` with ``values`` at the zone's primaries (or ``servers``)."""
        if not values:
            raise ValueError("replace() needs at least one value; use remove() to delete")
        zone = self.zone_for(name)
        rdatas = self.make_rdatas(rdtype, values)
        update = self.update_message(zone)
        update.replace(_name(name), ttl, *rdatas)
        for target in self._targets(zone, servers):
            self._send_update(update, target)
            served = self.rdatas(name, rdtype, target)
            if sorted(rd.to_text() for rd in served) != sorted(rd.to_text() for rd in rdatas):
                raise LabError(f"{target[0]} serves {[rd.to_text() for rd in served]} after replace of {name}")

    def remove(self, name: str, rdtype: str | int | None = None, *values: RdataValue, servers: Any = None) -> None:
        """Delete records at the zone's primaries (or ``servers``).

        ``remove(name)``: every RRset at the name (at a zone apex SOA and NS stay);
        ``remove(name, "TXT")``: the whole RRset; ``remove(name, "TXT", "v=...")``: just those records.
        """
        zone = self.zone_for(name)
        update = self.update_message(zone)
        if rdtype is None:
            if values:
                raise ValueError("remove(): values need an rdtype")
            update.delete(_name(name))
        elif values:
            update.delete(_name(name), *self.make_rdatas(rdtype, values))
        else:
            update.delete(_name(name), _rdtype(rdtype))
        for target in self._targets(zone, servers):
            self._send_update(update, target)

    # ------------------------------------------------------------------ zone pool / reset
    def reset_zone(self, zone: str, servers: Any = None) -> None:
        """Put a zone back to its initial content (names, apex NS, the spec's extra records).

        Uses AXFR to find the names, then one update per server deleting every name (apex SOA/NS
        survive), restoring the NS set and re-adding the spec's records. For zones with several
        primaries the SOA serials are then aligned again (all set to max + 1).
        """
        zone = self.zone_for(zone)
        spec = self.zone_specs[zone]
        apex = _name(zone)
        targets = self._targets(zone, servers)
        for target in targets:
            names: set[dns.name.Name] = set()
            apex_ns: set[dns.rdata.Rdata] = set()
            try:
                for message in dns.query.xfr(target[0], zone, port=target[1], timeout=5.0, lifetime=10.0,
                                               relativize=False):
                    for rrset in message.answer:
                        names.add(rrset.name)
                        if rrset.name == apex and rrset.rdtype == dns.rdatatype.NS:
                            apex_ns.update(rrset)
            except (dns.exception.DNSException, OSError) as exc:
                raise LabError(f"AXFR of {zone} from {target[0]} failed: {exc!r}") from exc
            update = self.update_message(zone)
            for owner in sorted(names):
                update.delete(owner)  # at the apex this keeps SOA and NS (RFC 2136 3.4.2.3)
            # The apex NS RRset can't be deleted as a whole, so add the original set and delete extras.
            ns = [dns.rdata.from_text("IN", "NS", f"{h}.{LAB_DOMAIN}.") for h in spec.ns]
            update.add(apex, DEFAULT_TTL, *ns)
            extra = [rd for rd in apex_ns if rd not in ns]
            if extra:
                update.delete(apex, *extra)
            for line in spec.records:
                owner, rtype, text = line.split(None, 2)
                rdata = dns.rdata.from_text("IN", rtype, text, origin=dns.name.root, relativize=False)
                update.add(_name(owner), DEFAULT_TTL, rdata)
            if zone == LAB_DOMAIN:
                for host in HOSTS:
                    glue = dns.rdata.from_text("IN", "A", self.addr(host))
                    update.add(_name(f"{host}.{LAB_DOMAIN}"), DEFAULT_TTL, glue)
            self._send_update(update, target)
        if len(targets) > 1:
            self.align_serials(zone, servers)

    def align_serials(self, zone: str, servers: Any = None) -> int:
        """Set the SOA serial of ``zone`` on all its primaries (or ``servers``) to max(serials) + 1."""
        zone = self.zone_for(zone)
        targets = self._targets(zone, servers)
        soas = [self.rdatas(zone, "SOA", t)[0] for t in targets]
        serial = max(soa.serial for soa in soas) + 1
        for target, soa in zip(targets, soas):
            update = self.update_message(zone)
            update.replace(_name(zone), DEFAULT_TTL, soa.replace(serial=serial))
            self._send_update(update, target)
        return serial

    def acquire_zone(self, kind: str = "single") -> str:
        """Take an unused spare zone of a kind of :data:`POOLS`: "single" (z01-z20.test, ns1), "prop"
        (prop1-8.test, nsa+nsb), "tsig" (tsig1-8.test, ns1, signed updates only) or "tsigdeny"
        (tsigdeny.test, signed updates only and _dmarc.tsigdeny.test refused)."""
        with self._lock:
            try:
                return self._pools[kind].popleft()
            except IndexError:
                raise LabError(f"no free {kind!r} zone left in the lab pool") from None
            except KeyError:
                raise ValueError(f"kind must be one of {', '.join(POOLS)}, not {kind!r}") from None

    def release_zone(self, zone: str) -> None:
        """Reset a zone taken with :meth:`acquire_zone`, flush it from the resolver, return it to the pool."""
        zone = self.zone_for(zone)
        kind = next((k for k, zones in POOLS.items() if zone in zones), None)
        if kind is None:
            raise ValueError(f"{zone} is not a pool zone (see POOLS)")
        try:
            self.reset_zone(zone)
            self.flush_resolver(zone)
        finally:
            with self._lock:
                if zone not in self._pools[kind]:
                    self._pools[kind].append(zone)

    # ------------------------------------------------------------------ resolver cache
    def unbound_control(self, *command: str) -> str:
        """Run an unbound-control command over the control socket (protocol "UBCT1 <cmd>\\n")."""
        if self._ctl_path is None:
            raise LabError("unbound is not running")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self._ctl_path))
            sock.sendall(("UBCT1 " + " ".join(command) + "\n").encode())
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        text = b"".join(chunks).decode(errors="replace")
        if text.startswith("error"):
            raise LabError(f"unbound-control {' '.join(command)}: {text.strip()}")
        return text

    def flush_resolver(self, name: str | None = None) -> None:
        """Drop cached data at and below ``name`` (everything, plus the server infra cache, when None)."""
        if name is None:
            self.unbound_control("flush_zone", ".")
            self.unbound_control("flush_infra", "all")
        else:
            self.unbound_control("flush_zone", _name(name).to_text())

    # ------------------------------------------------------------------ delay proxies
    def start_delay_proxy(self, upstream: Any = None, delay_ms: float = 100.0) -> DelayProxy:
        """Start a :class:`DelayProxy` on a fresh lab address at :attr:`port` in front of ``upstream``
        ("ip", "ip:port" or (ip, port); default ns1). Stopped by :meth:`close` or ``proxy.stop()``.
        """
        upstream = _server(upstream if upstream is not None else self.ns1_addr, self.port)
        with self._lock:
            used = {p.address[0] for p in self._proxies if p.address and p._thread is not None}
            for octet in PROXY_OCTETS:
                listen = f"{self.base}.{octet}"
                if listen in used:
                    continue
                try:
                    proxy = DelayProxy(upstream, (listen, self.port), delay_ms=delay_ms).start()
                except OSError:
                    continue
                self._proxies.append(proxy)
                return proxy
        raise LabError("no free address left for a delay proxy")


def _rdtype(rdtype: str | int) -> dns.rdatatype.RdataType:
    return dns.rdatatype.RdataType.make(rdtype)
