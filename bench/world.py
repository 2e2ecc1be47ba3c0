"""The DNS world of the bench, on loopback in the bench's own network namespace (netns.py).

Topology (every server on port 53 of its own address in 127.53.0.0/24)::

    client (stackshift, checkdmarc)
      | resolver: 127.53.0.21 dnsdist (DelayAction D) -> 127.53.0.20 Unbound      (D = 0: Unbound itself)
      | authoritative: 127.53.0.11 dnsdist (DelayAction D) -> 127.53.0.10 BIND     (D = 0: BIND itself)
    Unbound -> root hints and NS records -> 127.53.0.11 (D = 0: 127.53.0.10), so its own cache misses wait D too

One BIND serves the root zone, `bench.` (delegating one zone per benchmark domain, and holding the name server's
address `ns1.nic.bench`), every `dNNNNNN.bench.` zone, and `stackshift.email` (`spf.stackshift.email TXT "v=spf1
ip4:192.0.2.0/24 ~all"`, as in the test lab). Every zone's only NS is `ns1.nic.bench`, whose address is the delayed
one when D > 0, so every answer a client receives, from the resolver or from the authoritative server, is D late,
and so is every query Unbound sends when its cache misses. With D = 0 there is no dnsdist at all.

Unbound is a real iterative resolver (root hints, referrals, its cache, no DNSSEC): port 53 everywhere is what lets
it follow referrals, and the private namespace is what makes port 53 free and keeps every packet on loopback.
BIND loads 10,000 zones (one small file each) in about half a second.

Who sent a query is told by its source address: Unbound sends from 127.53.0.30 and the two dnsdist from 127.53.0.31
and .32, so a capture of `dst port 53` without those sources is exactly what the client sent (capture.py).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from bench import deps, domains, netns
from bench.procs import Server

NET = "127.53.0"
PORT = 53
BIND_ADDR = f"{NET}.10"
AUTH_PROXY_ADDR = f"{NET}.11"
UNBOUND_ADDR = f"{NET}.20"
RESOLVER_PROXY_ADDR = f"{NET}.21"
UNBOUND_OUT = f"{NET}.30"
AUTH_PROXY_OUT = f"{NET}.31"
RESOLVER_PROXY_OUT = f"{NET}.32"
SERVER_SOURCES = (UNBOUND_OUT, AUTH_PROXY_OUT, RESOLVER_PROXY_OUT)
NS_HOST = "ns1.nic.bench"
TTL = 300
SOA = f"{NS_HOST}. hostmaster.nic.bench. 1 3600 600 86400 {TTL}"


class WorldError(RuntimeError):
    """A server of the world did not start or does not answer (the message carries its log)."""


class World:
    """A running DNS world of `count` benchmark domains, with every answer D = `delay_ms` late. Use as a context
    manager, or call close(); the servers are also killed if the bench dies."""

    def __init__(self, workdir: Path, count: int, delay_ms: float, keys: domains.Keys) -> None:
        self.workdir = workdir
        self.count = count
        self.delay_ms = delay_ms
        self.keys = keys
        self.servers: dict[str, Server] = {}
        self.startup_seconds = 0.0
        self.bind_load_seconds = 0.0

    # ------------------------------------------------------------ start and stop

    @classmethod
    def start(cls, workdir: Path, *, count: int, delay_ms: float, keys: domains.Keys, timeout: float = 60) -> World:
        """Write the zones and configs in `workdir`, start every server and wait until each answers."""
        if not netns.entered():
            raise WorldError("the DNS world runs only in the bench's own network namespace (bench.netns.enter())")
        world = cls(workdir, count, delay_ms, keys)
        try:
            world._start(timeout)
        except BaseException:
            world.close()
            raise
        return world

    def _start(self, timeout: float) -> None:
        from tests.dnslab.netutil import add_loopback_address

        started = time.perf_counter()
        deadline = started + timeout
        for address in (BIND_ADDR, AUTH_PROXY_ADDR, UNBOUND_ADDR, RESOLVER_PROXY_ADDR, *SERVER_SOURCES):
            try:
                add_loopback_address(address)  # BIND listens only on addresses configured on an interface
            except FileExistsError:
                pass
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_bind()
        self.servers["bind"] = Server("named", [deps.program("named"), "-g", "-4", "-c", str(self._bind_dir /
                                      "named.conf")], self._bind_dir / "named.log", cwd=self._bind_dir)
        self._wait_bind(deadline)
        self.bind_load_seconds = time.perf_counter() - started
        if self.delay_ms > 0:
            self._start_auth_proxy()
        self._write_unbound()
        self.servers["unbound"] = Server("unbound", [deps.program("unbound"), "-d", "-c",
                                         str(self._unbound_dir / "unbound.conf")], self._unbound_dir / "unbound.log")
        if self.delay_ms > 0:
            self._start_resolver_proxy()
        self._wait_resolver(deadline)
        self.flush_resolver()
        self.startup_seconds = time.perf_counter() - started

    def close(self) -> None:
        """Stop every server (in reverse order of start). Safe to call more than once."""
        for name in reversed(list(self.servers)):
            self.servers.pop(name).stop()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ what a client needs

    @property
    def resolver(self) -> str:
        """The resolver clients use, as IP:PORT."""
        return f"{RESOLVER_PROXY_ADDR if self.delay_ms > 0 else UNBOUND_ADDR}:{PORT}"

    @property
    def authoritative(self) -> str:
        """The address of `ns1.nic.bench`, every zone's name server."""
        return AUTH_PROXY_ADDR if self.delay_ms > 0 else BIND_ADDR

    def env(self) -> dict[str, str]:
        """The environment a stackshift run needs to verify against this world."""
        return {"STACKSHIFT_NAMESERVERS": self.resolver, "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(PORT)}

    def client_filter(self) -> str:
        """A capture filter (pcap-filter(7)) for exactly the queries clients send: to port 53, from no server."""
        return "dst port 53 and not (" + " or ".join(f"src host {a}" for a in SERVER_SOURCES) + ")"

    def describe(self) -> str:
        bind = self.servers.get("bind")
        rss = bind.rss_mb() if bind else None
        via = "direct, no dnsdist" if self.delay_ms == 0 else "dnsdist DelayAction in front of Unbound and BIND"
        return (f"DNS world: {self.count:,} domain zones + root, bench, stackshift.email; D = {self.delay_ms:g} ms "
                f"({via}); BIND loaded in {self.bind_load_seconds:.2f} s, RSS {rss or 0:.0f} MB; "
                f"all up in {self.startup_seconds:.2f} s")

    # ------------------------------------------------------------ the delay

    def set_delay(self, delay_ms: float) -> None:
        """Change D of a world started with D > 0 (dnsdist restarted; Unbound flushed). D = 0 needs a new world."""
        if self.delay_ms <= 0 or delay_ms <= 0:
            raise WorldError("set_delay() changes D > 0 only: a world for D = 0 has no dnsdist (start a new one)")
        for name in ("resolver-proxy", "auth-proxy"):
            self.servers.pop(name).stop()
        self.delay_ms = delay_ms
        self._start_auth_proxy()
        self._start_resolver_proxy()
        self._wait_resolver(time.perf_counter() + 30)
        self.flush_resolver()

    def _start_auth_proxy(self) -> None:
        self.servers["auth-proxy"] = self._dnsdist("auth-proxy", AUTH_PROXY_ADDR, BIND_ADDR, AUTH_PROXY_OUT)
        self._wait_answer(AUTH_PROXY_ADDR, "bench", "SOA", recursion=False, deadline=time.perf_counter() + 30,
                          server=self.servers["auth-proxy"])

    def _start_resolver_proxy(self) -> None:
        self.servers["resolver-proxy"] = self._dnsdist("resolver-proxy", RESOLVER_PROXY_ADDR, UNBOUND_ADDR,
                                                       RESOLVER_PROXY_OUT)

    def _dnsdist(self, name: str, listen: str, backend: str, source: str) -> Server:
        """dnsdist on `listen`:53 forwarding to `backend`:53 from `source`, every answer delayed by D. No health
        checks (they would add queries), no security polling (it would query the system's resolver), no console."""
        directory = self.workdir / name
        directory.mkdir(parents=True, exist_ok=True)
        conf = directory / "dnsdist.conf"
        conf.write_text(f"""-- bench: {name}, every answer {self.delay_ms:g} ms late
setSecurityPollSuffix("")
setLocal("{listen}:{PORT}")
newServer({{address="{backend}:{PORT}", source="{source}", name="{name}-backend"}}):setUp()
addAction(AllRule(), DelayAction({int(round(self.delay_ms))}))
""")
        return Server(name, [deps.program("dnsdist"), "--supervised", "--disable-syslog", "-C", str(conf)],
                      directory / "dnsdist.log")

    # ------------------------------------------------------------ BIND

    @property
    def _bind_dir(self) -> Path:
        return self.workdir / "bind"

    def _write_bind(self) -> None:
        directory = self._bind_dir
        zones = directory / "zones"
        zones.mkdir(parents=True, exist_ok=True)
        stanzas = []

        def zone(name: str, lines: list[str]) -> None:
            filename = f"zones/{name or 'root'}.db"
            body = [f"$TTL {TTL}", f"{name}. IN SOA {SOA}", f"{name}. IN NS {NS_HOST}."] + lines
            (directory / filename).write_text("\n".join(body) + "\n")
            stanzas.append(f'zone "{name or "."}" {{ type primary; file "{filename}"; }};')

        address = self.authoritative
        zone("", ["bench. IN NS ns1.nic.bench.", "stackshift.email. IN NS ns1.nic.bench.",
                  f"{NS_HOST}. IN A {address}"])
        zone("bench", [f"{NS_HOST}. IN A {address}"]
             + [f"{domains.domain_name(i)}. IN NS {NS_HOST}." for i in range(1, self.count + 1)])
        zone("stackshift.email", ['spf.stackshift.email. IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"',
                                  "bounces.stackshift.email. IN A 192.0.2.10",
                                  "inbound.stackshift.email. IN A 192.0.2.20"])
        for i in range(1, self.count + 1):
            zone(domains.domain_name(i), [zone_line(r) for r in domains.published(i, self.keys)])
        from tests.dnslab.lab import named_conf

        (directory / "named.conf").write_text(named_conf(directory, BIND_ADDR, PORT, stanzas,
                                                         comment="bench: the authoritative server of every zone of "
                                                                 "the world"))

    def _wait_bind(self, deadline: float) -> None:
        bind = self.servers["bind"]
        for name in (".", "bench", "stackshift.email", domains.domain_name(self.count) if self.count else "bench"):
            self._wait_answer(BIND_ADDR, name, "SOA", recursion=False, deadline=deadline, server=bind)

    # ------------------------------------------------------------ Unbound

    @property
    def _unbound_dir(self) -> Path:
        return self.workdir / "unbound"

    def _write_unbound(self) -> None:
        directory = self._unbound_dir
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "root.hints").write_text(f". 3600000 IN NS {NS_HOST}.\n{NS_HOST}. 3600000 IN A "
                                              f"{self.authoritative}\n")
        control = directory / "control.sock"
        if len(str(control)) > 100:  # AF_UNIX paths are at most 108 bytes
            raise WorldError(f"the world's directory is too deep for a control socket: {control}")
        self._control = control
        (directory / "unbound.conf").write_text(f"""# bench: the caching, iterating resolver of the world
server:
    verbosity: 0
    interface: {UNBOUND_ADDR}
    port: {PORT}
    outgoing-interface: {UNBOUND_OUT}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    use-systemd: no
    use-syslog: no
    logfile: ""
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    root-hints: "{directory}/root.hints"
    module-config: "iterator"
    num-threads: 1
    so-reuseport: no
    outgoing-range: 4096
    num-queries-per-thread: 2048
    msg-cache-size: 256m
    rrset-cache-size: 512m
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    qname-minimisation: no
    harden-referral-path: no
    minimal-responses: no
    cache-min-ttl: 0
    prefetch: no
    serve-expired: no
    discard-timeout: 0
    wait-limit: 0
    unwanted-reply-threshold: 0
remote-control:
    control-enable: yes
    control-interface: "{control}"
    control-use-cert: no
""")

    def _wait_resolver(self, deadline: float) -> None:
        host, _ = self.resolver.split(":")
        server = self.servers.get("resolver-proxy") or self.servers["unbound"]
        self._wait_answer(host, NS_HOST, "A", recursion=True, deadline=deadline, server=server)
        self._wait_answer(host, "spf.stackshift.email", "TXT", recursion=True, deadline=deadline, server=server)

    def unbound_control(self, *command: str) -> str:
        """One unbound-control command over the control socket (its protocol: `UBCT1 <command>\\n`)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self._control))
            sock.sendall(("UBCT1 " + " ".join(command) + "\n").encode())
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode(errors="replace")
        if text.startswith("error"):
            raise WorldError(f"unbound-control {' '.join(command)}: {text.strip()}")
        return text

    def flush_resolver(self) -> None:
        """Empty Unbound's caches (answers, delegations, server round-trip times): the next run starts cold."""
        self.unbound_control("flush_zone", ".")
        self.unbound_control("flush_infra", "all")
        self.unbound_control("flush_requestlist")

    def resolver_stats(self) -> dict[str, float]:
        """Unbound's counters (`unbound-control stats_noreset`)."""
        stats = {}
        for line in self.unbound_control("stats_noreset").splitlines():
            key, _, value = line.partition("=")
            try:
                stats[key] = float(value)
            except ValueError:
                continue
        return stats

    # ------------------------------------------------------------ waiting for answers

    def _wait_answer(self, address: str, name: str, rtype: str, *, recursion: bool, deadline: float,
                     server: Server) -> None:
        import dns.exception
        import dns.flags
        import dns.message
        import dns.query
        import dns.rcode

        while True:
            if not server.alive():
                raise WorldError(f"{server.name} exited during start-up:\n{server.log_tail()}")
            query = dns.message.make_query(name, rtype)
            if not recursion:
                query.flags &= ~dns.flags.RD
            try:
                reply = dns.query.udp(query, address, port=PORT, timeout=0.5 + self.delay_ms / 250)
                if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                    return
            except (dns.exception.DNSException, OSError):
                pass
            if time.perf_counter() > deadline:
                raise WorldError(f"{server.name} does not answer {name} {rtype} at {address}:\n{server.log_tail()}")
            time.sleep(0.02)


def zone_line(record) -> str:
    """A stackshift DnsRecord as a zone-file line (absolute names; TXT split into 255-byte strings)."""
    if record.type == "TXT":
        data = record.value.encode()
        strings = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        text = " ".join('"' + s.decode().replace("\\", "\\\\").replace('"', '\\"') + '"' for s in strings)
        return f"{record.name}. IN TXT {text}"
    if record.type == "CNAME":
        return f"{record.name}. IN CNAME {record.value.rstrip('.')}."
    if record.type == "MX":
        return f"{record.name}. IN MX {record.priority or 0} {record.value.rstrip('.')}."
    return f"{record.name}. IN {record.type} {record.value}"
