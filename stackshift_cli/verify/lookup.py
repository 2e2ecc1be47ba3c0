"""DNS lookups for verification: the resolver view, zone discovery, and direct queries to every authoritative server.

This is the only module that talks to the network. Results are plain dataclasses (`Answer`, `Observation`)
so the evaluators that judge them stay pure. One `Dns` object lives for one event loop and memoises every
query, so checks that need the same name (the zone's SOA, its NS set, an SPF include) share one packet.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections import OrderedDict
from dataclasses import replace
from typing import Awaitable, Callable, Coroutine

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from stackshift_cli.escape import visible
from stackshift_cli.verify import DEFAULT_CONCURRENCY
from stackshift_cli.verify import wire as wire_reader
from stackshift_cli.verify.answers import Answer, Observation, Rr, Server, Soa, Zone

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: large enough for a 2048-bit DKIM key, small enough not to fragment
# Zone discovery moves only up the tree (to the parent, or to the SOA owner of a negative answer when it is above the
# name), so it cannot loop; it also takes at most this many steps up from the name a check asked about.
MAX_ZONE_DEPTH = 16
# The authoritative servers asked for each name: a hostile NS set of thousands of hosts cannot turn one check into
# a flood (the root zone has 13; real zones have 2 to 8).
MAX_NS_HOSTS = 13
MAX_ADDRESSES_PER_HOST = 4


SHARED_MEMO_SIZE = 16_384  # answers about names outside the domains being checked, kept for the round (LRU)
QUERIES_PER_SOCKET = 2_000  # a socket's source port is retired after this many queries (port randomness)
SOCKET_DEPTH = 32  # queries waiting on one socket at most: a burst of their answers fits its receive buffer
READ_BURST = 64  # datagrams a socket's reader takes at one wake-up of the event loop at most


class Dns:
    """The lookups of one round of checks, shared by every domain checked in it.

    Every distinct query is sent once per round: what several domains need (an SPF include, the addresses of
    the name servers they share, the zones above them) is kept in a bounded memo shared by the round; what
    one domain needs (names at or under it) is kept by that domain's `Lookups` and dropped with it, so a
    round of any number of domains holds a bounded number of answers. At most `queries_in_flight` queries
    are unanswered at any time (--concurrency), and each server gets one long-lived UDP socket, with the
    answers told apart by query id and question (a socket per query costs more than the query).

    Made and used inside one event loop; `for_domain(name)` gives the object a check works with.
    """

    def __init__(self, resolvers: list[tuple[str, int]], *, timeout: float, authoritative_port: int = 53,
                 queries_in_flight: int = DEFAULT_CONCURRENCY, guesses: dict[str, Zone] | None = None) -> None:
        self.resolvers = [Server(address, port) for address, port in resolvers] or system_resolvers()
        self.timeout = timeout
        self.authoritative_port = authoritative_port
        self.queries_in_flight = max(1, queries_in_flight)
        self.sent = 0  # queries sent over the network (UDP and TCP), for benchmarks and --debug
        # domain -> the zone an earlier run found for it (zonecache): its servers are asked at once, and their
        # answers used only when this round's discovery finds the same zone and servers (`confirmed` counts them)
        self.guesses = guesses or {}
        # domain -> the zone this round found for it, for the next runs; None: not kept (verify --all)
        self.found: dict[str, Zone] | None = {} if guesses is not None else None
        self.confirmed = 0
        self._shared: OrderedDict[tuple, asyncio.Future] = OrderedDict()
        self._slots: asyncio.Semaphore | None = None
        self._sockets = _Sockets()

    def for_domain(self, domain: str | None = None) -> Lookups:
        """The lookups of one domain's check (`domain`: the name whose own records are checked, or None)."""
        return Lookups(self, domain)

    def close(self) -> None:
        """Close the sockets (a round is over)."""
        self._sockets.close()

    def _shared_once(self, key: tuple, factory: Callable[[], Coroutine]) -> asyncio.Future:
        future = self._shared.get(key)
        if future is None:
            future = self._shared[key] = asyncio.get_running_loop().create_task(factory())
            if len(self._shared) > SHARED_MEMO_SIZE:
                self._shared.popitem(last=False)  # its awaiting callers keep their own reference
        else:
            self._shared.move_to_end(key)
        return future

    async def _send(self, server: Server, name: str, rtype: str, *, recursion: bool) -> Answer:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.queries_in_flight)
        async with self._slots:
            self.sent += 1
            return await _query(self._sockets, server, name, rtype, self.timeout, recursion=recursion)


class Lookups:
    """One domain's lookups within a round (`Dns`): the resolver's view, zone discovery, and every authoritative
    server's answer. Names at or under the domain are memoised here; others in the round's shared memo."""

    def __init__(self, dns: Dns, domain: str | None) -> None:
        self.dns = dns
        self.domain = domain
        self._own: dict[tuple, asyncio.Future] = {}
        self._in_flight: dict[tuple[str, str, str], int] = {}  # what this check waits for, for an explanation

    @property
    def resolvers(self) -> list[Server]:
        return self.dns.resolvers

    # ------------------------------------------------------------ memoised entry points

    def _once(self, key: tuple, name: str, factory: Callable[[], Coroutine],
              waiting: tuple[str, str, str] | None = None) -> Awaitable:
        """The memoised answer for `key`: made by `factory` the first time it is asked for. `waiting` names what
        an unanswered shared query is, for awaited()."""
        if self.domain is not None and _at_or_below(name, self.domain):
            future = self._own.get(key)
            if future is None:
                future = self._own[key] = asyncio.get_running_loop().create_task(factory())
            return future  # only this domain's check awaits it, and that check is stopped whole or not at all
        future = self.dns._shared_once(key, factory)
        if future.done():
            return future
        if waiting is not None:
            self._count(waiting, 1)
            future.add_done_callback(lambda _: self._count(waiting, -1))
        # Shielded: one domain's check giving up (a cancelled task) must not cancel the answer others share.
        return asyncio.shield(future)

    # The entry points return the memoised future itself, not a coroutine awaiting it: gather() and
    # ensure_future() take it as it is, where a coroutine would cost a task of its own each time.

    def resolve(self, name: str, rtype: str) -> Awaitable[Answer]:
        """The configured resolvers' answer (RD=1): the first resolver that answers decides."""
        return self._once(("resolve", name, rtype), name, lambda: self._resolve(name, rtype),
                                (self.resolvers[0].label, name, rtype))

    def query(self, server: Server, name: str, rtype: str) -> Awaitable[Answer]:
        """One server's authoritative answer (RD=0)."""
        return self._once(("query", server, name, rtype), name,
                                lambda: self._ask(server, name, rtype, recursion=False), (server.label, name, rtype))

    def zone(self, name: str, depth: int = MAX_ZONE_DEPTH) -> Awaitable[Zone]:
        """The zone holding `name`, found through the resolver: the NS set at the name, or the SOA owner of a
        negative answer, and the addresses of its name servers; `depth` steps up the tree at most.

        Each step goes strictly up (`_up`) with one step less, so no memoised discovery ever waits on itself,
        whatever the resolver answers."""
        return self._once(("zone", name, depth), name, lambda: self._zone(name, depth))

    def awaited(self) -> list[str]:
        """The queries sent and not answered yet, for an explanation: 'ns1.example (192.0.2.1) for TXT at x'."""
        return [f"{label} for {rtype} at {visible(name) or '.'}" for label, name, rtype in sorted(self._in_flight)][:3]

    def observe(self, name: str, rtype: str) -> Awaitable[Observation]:
        """Ask every authoritative server of the zone, and the resolver, at the same time."""
        return self._once(("observe", name, rtype), name, lambda: self._observe(name, rtype))

    # ------------------------------------------------------------ implementations

    async def _ask(self, server: Server, name: str, rtype: str, *, recursion: bool) -> Answer:
        what = (server.label, name, rtype)
        self._count(what, 1)
        try:
            return await self.dns._send(server, name, rtype, recursion=recursion)
        finally:
            self._count(what, -1)

    def _count(self, what: tuple[str, str, str], change: int) -> None:
        count = self._in_flight.get(what, 0) + change
        if count > 0:
            self._in_flight[what] = count
        else:
            self._in_flight.pop(what, None)

    async def _resolve(self, name: str, rtype: str) -> Answer:
        failures: list[Answer] = []
        for server in self.resolvers:
            answer = await self._ask(server, name, rtype, recursion=True)
            if not answer.transient:
                return answer
            failures.append(answer)
        first = failures[0]
        if len(failures) == 1:
            return first
        return Answer(first.server, name, rtype, first.rcode, error="; ".join(a.problem for a in failures))

    async def _up(self, name: str, ancestor: str, depth: int) -> Zone:
        """The zone of `ancestor`, a step up from `name`. Anything but a name strictly above `name` (a hostile
        or broken answer pointing discovery sideways or down, which could make it loop) is refused."""
        if not _strictly_above(ancestor, name):
            return Zone(None, error=f"the zone of {visible(name)} could not be found: discovery was pointed at "
                                    f"{visible(ancestor) or 'the root'}, which is not above it")
        if depth <= 0:
            return Zone(None, error=f"the zone of {visible(name)} could not be found within {MAX_ZONE_DEPTH} "
                                    "steps up the DNS tree")
        return await self.zone(ancestor, depth - 1)

    async def _zone(self, name: str, depth: int) -> Zone:
        answer = await self.resolve(name, "NS")
        if answer.transient:
            return await self._zone_from_parent(name, answer, depth)
        ns_here = answer.rrs("NS", name)
        if ns_here:
            return await self._zone_servers(name, answer)
        if answer.soa is not None and answer.soa.owner == name and answer.cname() is None:
            return await self._zone_servers(name, answer)
        if answer.cname() is not None or answer.soa is None or not _strictly_above(answer.soa.owner, name):
            # A CNAME cannot sit at a zone apex, an answer without SOA tells us nothing, and the SOA of a
            # negative answer must be at or above the name (one below it or beside it is broken or hostile, and
            # following it could loop): ask the parent.
            parent = _parent(name)
            return await self._up(name, parent, depth) if parent else Zone(None, error=f"no zone holds {name}")
        return await self._up(name, answer.soa.owner, depth)

    async def _zone_from_parent(self, name: str, failure: Answer, depth: int) -> Zone:
        """Find the zone of `name` from its parent's delegation, when the resolver cannot answer for it (the
        zone's own servers are down): then the explanation can name the servers that do not answer."""
        error = f"the zone of {name} could not be found: {failure.problem}"
        parent = _parent(name)
        if parent is None:
            return Zone(None, error=error)
        upper = await self._up(name, parent, depth)
        for server in upper.servers:
            answer = await self.query(server, name, "NS")
            if answer.referral and not (_at_or_below(name, answer.referral)
                                        and _strictly_above(upper.name or "", answer.referral)):
                continue  # a referral to a zone that cannot hold the name, or not below the parent zone: ignored
            if answer.referral:
                zone = answer.referral
                hosts = sorted(set(answer.authority_ns))
                glue = [Server(r.text, self.dns.authoritative_port, r.name) for r in answer.additional
                        if r.type == "A" and r.name in hosts[:MAX_NS_HOSTS]][:MAX_NS_HOSTS * MAX_ADDRESSES_PER_HOST]
                return Zone(zone, tuple(glue)) if glue else await self._zone_servers(zone, await self.resolve(zone, "NS"))
            if not answer.transient:
                return upper if not answer.rrs("NS", name) else Zone(name, error=error)
        # The parent zone's own servers do not answer either: the name most likely lives in that zone, and
        # querying its servers lets the explanation name them.
        return upper if upper.servers else Zone(None, error=error)

    async def _zone_servers(self, zone: str, ns_answer: Answer) -> Zone:
        ns_answer = ns_answer if ns_answer.rrs("NS", zone) else await self.resolve(zone, "NS")
        hosts = sorted({r.text for r in ns_answer.rrs("NS", zone)})[:MAX_NS_HOSTS]
        if not hosts:
            return Zone(zone, error=f"the zone {zone} lists no name servers")
        glue = {h: sorted(r.text for r in ns_answer.additional if r.name == h and r.type == "A") for h in hosts}
        looked_up = await asyncio.gather(*(self.resolve(h, "A") for h in hosts if not glue[h]))
        lookups = iter(looked_up)
        servers: list[Server] = []
        missing: list[str] = []
        for host in hosts:
            addresses = (glue[host] or [r.text for r in next(lookups).rrs("A")])[:MAX_ADDRESSES_PER_HOST]
            if not addresses:
                missing.append(host)
            servers += [Server(a, self.dns.authoritative_port, host) for a in addresses]
        if not servers:
            return Zone(zone, error=f"the name servers of {zone} ({', '.join(missing)}) have no address")
        return Zone(zone, tuple(servers))

    async def _observe(self, name: str, rtype: str) -> Observation:
        resolver_task = asyncio.ensure_future(self.resolve(name, rtype))
        zone, answers = await self._authoritative(name, rtype)
        apex = zone.name if zone.name is not None else name  # no zone: no servers, nothing asked
        serials: dict[Server, int | None] = {}
        if len({a.signature() for a in answers if not a.transient}) > 1:
            # The servers disagree: their SOA serials tell which of them lag (views._propagation).
            soas = await asyncio.gather(*(self.query(s, apex, "SOA") for s in zone.servers))
            serials = {s: _serial(a, zone.name) for s, a in zip(zone.servers, soas)}
        return Observation(name=name, type=rtype, zone=zone, authoritative=tuple(answers), serials=serials,
                           resolver=await resolver_task)

    async def _authoritative(self, name: str, rtype: str) -> tuple[Zone, list[Answer]]:
        """The zone of `name` and each of its servers' answer.

        A name under the domain being checked is first asked of the domain's own zone's servers: they answer
        for it unless a zone is delegated between the two, and then they refer to it. So the domain's zone is
        found once, and its records are asked of its servers in the same round; a referral (a delegated
        `_domainkey`, say) sends the name through the zone discovery of its own."""
        if self.domain is not None and _at_or_below(name, self.domain):
            guess = self.dns.guesses.get(self.domain)
            early = asyncio.gather(*(self.query(s, name, rtype) for s in guess.servers)) if guess else None
            zone = await self.zone(self.domain)
            if zone.servers:
                if self.dns.found is not None and zone.error is None and zone.name is not None:
                    self.dns.found[self.domain] = zone
                if early is not None and guess is not None and guess.name == zone.name \
                        and set(guess.servers) == set(zone.servers):
                    self.dns.confirmed += 1
                    answers = await early  # asked of the same servers, in the same order as below
                else:
                    answers = await asyncio.gather(*(self.query(s, name, rtype) for s in zone.servers))
                if not any(a.referral and _strictly_above(zone.name or "", a.referral) and
                           _at_or_below(name, a.referral) for a in answers):
                    return zone, [_by_server(answers, s) for s in zone.servers]
        zone = await self.zone(name)
        return zone, list(await asyncio.gather(*(self.query(s, name, rtype) for s in zone.servers)))


def _by_server(answers: list[Answer], server: Server) -> Answer:
    """The answer of `server` among `answers` (a guess lists the same servers, maybe in another order)."""
    return next(a for a in answers if a.server == server)


def system_resolvers() -> list[Server]:
    """The resolvers of /etc/resolv.conf (dnspython reads the platform's configuration)."""
    import dns.resolver

    try:
        configured = dns.resolver.Resolver(configure=True).nameservers
        return [Server(address, 53) for address in configured if isinstance(address, str)]
    except dns.resolver.NoResolverConfiguration:
        return [Server("127.0.0.1", 53)]


class _Socket:
    """A UDP socket connected to one server, shared by the queries sent to it: an answer goes to the query with
    its id and question, and anything else that arrives (late, duplicated, forged) is dropped. An ICMP error
    (the server's port is closed) ends every query waiting on it.

    A plain non-blocking socket read by the event loop's reader callback, which takes every datagram waiting
    (up to READ_BURST) at each wake-up: asyncio's datagram transport takes one per turn of the loop, and answers
    come in bursts."""

    def __init__(self, loop: asyncio.AbstractEventLoop, raw: socket.socket) -> None:
        self.loop = loop
        self.raw = raw
        self.open = True
        self.waiting: dict[int, tuple[bytes, asyncio.Future]] = {}
        self.used = 0
        loop.add_reader(raw.fileno(), self._readable)

    def _readable(self) -> None:
        recv = self.raw.recv
        for _ in range(READ_BURST):
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # an ICMP error for an earlier query (port unreachable), reported now
                self._fail(exc)
                return
            self._received(data)

    def _received(self, data: bytes) -> None:
        if len(data) < 12 or not data[2] & 0x80 or data[4:6] != b"\x00\x01":
            return  # not an answer to one question
        entry = self.waiting.get(int.from_bytes(data[:2], "big"))
        if entry is None:
            return
        question, future = entry
        if data[12:12 + len(question)].lower() == question and not future.done():
            future.set_result(data)

    async def send(self, data: bytes) -> None:
        try:
            self.raw.send(data)
        except (BlockingIOError, InterruptedError):  # the send buffer is full: wait for room
            await self.loop.sock_sendall(self.raw, data)
        except OSError as exc:  # an ICMP error for an earlier query, reported now: it ends them all
            self._fail(exc)
            raise

    def close(self) -> None:
        if self.open:
            self.open = False
            self.loop.remove_reader(self.raw.fileno())
            self.raw.close()
            self._fail(ConnectionResetError("the socket was closed"))

    def _fail(self, exc: Exception) -> None:
        for _, future in self.waiting.values():
            if not future.done():
                future.set_exception(exc)


class _Sockets:
    """UDP sockets connected to each server, made on first use. A socket takes at most SOCKET_DEPTH queries at
    once (a burst of answers must fit in its receive buffer: a kernel drops what does not, and a dropped answer
    is a query that times out), so a busy server gets several; after QUERIES_PER_SOCKET queries a socket is
    retired (closed once its queries are answered) and a new one, on a new random source port, takes over."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], list[_Socket]] = {}
        self._ids = b""

    async def exchange(self, server: Server, wire: bytes, question: bytes) -> bytes:
        """Send one query (its id is chosen here) and return the answer's bytes; OSError when the server cannot
        be reached."""
        sock = self._socket(server)
        query_id = self._query_id(sock)
        sock.used += 1
        await sock.send(query_id.to_bytes(2, "big") + wire[2:])  # no answer can be read before this returns
        future: asyncio.Future = sock.loop.create_future()
        sock.waiting[query_id] = (question, future)
        try:
            return await future
        finally:
            del sock.waiting[query_id]
            if sock.used >= QUERIES_PER_SOCKET and not sock.waiting:
                sock.close()

    def _socket(self, server: Server) -> _Socket:
        pool = self._open.get((server.address, server.port))
        if pool is None:
            pool = self._open[(server.address, server.port)] = []
        for sock in pool:
            if len(sock.waiting) < SOCKET_DEPTH and sock.used < QUERIES_PER_SOCKET and sock.open:
                return sock
        pool[:] = [s for s in pool if s.open and s.used < QUERIES_PER_SOCKET]
        family = socket.AF_INET6 if ":" in server.address else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_DGRAM)
        try:
            raw.setblocking(False)
            try:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # as the system allows
            except OSError:
                pass
            raw.connect((server.address, server.port))
        except BaseException:
            raw.close()
            raise
        sock = _Socket(asyncio.get_running_loop(), raw)
        pool.append(sock)
        return sock

    def _query_id(self, sock: _Socket) -> int:
        """An unpredictable id that no query waiting on this socket has."""
        while True:
            if len(self._ids) < 2:
                self._ids = os.urandom(512)
            query_id, self._ids = int.from_bytes(self._ids[:2], "big"), self._ids[2:]
            if query_id not in sock.waiting:
                return query_id

    def close(self) -> None:
        for pool in self._open.values():
            for sock in pool:
                sock.close()
        self._open.clear()


async def _query(sockets: _Sockets, server: Server, name: str, rtype: str, timeout: float, *,
                 recursion: bool) -> Answer:
    """Send one query over UDP with an EDNS payload of 1232 bytes, retrying over TCP when truncated.

    Never raises for what a server sends or for the name asked: whatever goes wrong becomes an Answer that
    says why, so one hostile or broken answer cannot take a check (or the other domains) down."""
    try:
        wire, question = _query_wire(name, rtype, recursion=recursion)
    except Exception as exc:  # an empty label, a label over 63 octets, bytes IDNA cannot encode
        return Answer(server, name, rtype, "BADNAME", error=f"{visible(name)} is not a valid DNS name ({exc})")
    try:
        async with asyncio.timeout(timeout):  # the UDP query and its TCP retry together, not each
            data = await sockets.exchange(server, wire, question)
            if not data[2] & 0x02:  # not truncated
                quick = wire_reader.read(data)
                if quick is not None:
                    return _quick_answer(server, name, rtype, quick, recursion=recursion)
            response = dns.message.from_wire(data)
            if response.flags & dns.flags.TC:
                query = dns.message.from_wire(wire)
                response = await dns.asyncquery.tcp(query, server.address, timeout=timeout, port=server.port)
        return _answer(server, name, rtype, response, recursion=recursion)
    except (dns.exception.Timeout, TimeoutError):
        return Answer(server, name, rtype, "TIMEOUT", error=f"no answer within {timeout:g}s")
    except EOFError:  # only TCP reads end this way, and TCP is used only after a truncated UDP answer
        return Answer(server, name, rtype, "BADRESPONSE",
                      error="a truncated answer over UDP, then the TCP connection closed without an answer")
    except OSError as exc:
        return Answer(server, name, rtype, "UNREACHABLE", error=exc.strerror or "unreachable")
    except Exception as exc:  # malformed or hostile answers: dnspython's parse errors and anything else
        return Answer(server, name, rtype, "BADRESPONSE",
                      error=f"unreadable answer ({type(exc).__name__}: {visible(str(exc))[:120]})")


_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_*-]{1,63}\.)*[A-Za-z0-9_*-]{1,63}")
_TYPE_CODES: dict[str, bytes] = {}
_EDNS_OPT = b"\x00" + (41).to_bytes(2, "big") + EDNS_PAYLOAD.to_bytes(2, "big") + b"\x00" * 4 + b"\x00\x00"


def _query_wire(name: str, rtype: str, *, recursion: bool) -> tuple[bytes, bytes]:
    """The query's wire form (id 0; the socket sets it) and its question section, lowercased for matching the
    answer's. As dnspython's make_query(use_edns=0, payload=EDNS_PAYLOAD) builds it; a name that is not plain
    letters, digits, '-', '_' and '*' labels goes through dnspython, which also says what is wrong with it."""
    code = _TYPE_CODES.get(rtype)
    if code is None:
        code = _TYPE_CODES[rtype] = int(dns.rdatatype.from_text(rtype)).to_bytes(2, "big")
    if len(name) <= 253 and _PLAIN_NAME.fullmatch(name):
        qname = b"".join(len(label).to_bytes(1, "big") + label.encode() for label in name.split(".")) + b"\x00"
        question = qname + code + b"\x00\x01"
        header = b"\x00\x00" + (b"\x01\x00" if recursion else b"\x00\x00") + b"\x00\x01\x00\x00\x00\x00\x00\x01"
        return header + question + _EDNS_OPT, question.lower()
    query = dns.message.make_query(name + ".", rtype, use_edns=0, payload=EDNS_PAYLOAD, id=0,
                                   flags=dns.flags.RD if recursion else 0)
    wire = query.to_wire()
    return wire, wire[12:len(wire) - len(_EDNS_OPT)].lower()


def _quick_answer(server: Server, name: str, rtype: str, message: wire_reader.Message, *, recursion: bool
                  ) -> Answer:
    """What _answer makes of dnspython's parse, from verify.wire's lighter one."""
    rcode = _RCODE_TEXT.get(message.rcode) or dns.rcode.to_text(dns.rcode.Rcode.make(message.rcode))
    soa_set = next((rrset for rrset in message.authority if rrset.type == wire_reader.SOA), None)
    soa = None
    if soa_set is not None:
        first = soa_set.rdatas[0]
        soa = Soa(soa_set.owner, first[2], soa_set.ttl, first[6])
    ns_sets = [rrset for rrset in message.authority if rrset.type == wire_reader.NS]
    return _made(Answer(
        server, name, rtype, rcode, tuple(rr for rrset in message.answer for rr in _quick_rrs(rrset)), soa,
        additional=tuple(rr for rrset in message.additional for rr in _quick_rrs(rrset)),
        authority_ns=tuple(target for rrset in ns_sets for target in rrset.rdatas),
        authoritative=bool(message.flags & 0x0400),
    ), ns_sets[0].owner if ns_sets else None, recursion=recursion)


def _quick_rrs(rrset: wire_reader.RRset) -> list[Rr]:
    owner, ttl, rtype = rrset.owner, rrset.ttl, wire_reader.TYPE_NAMES[rrset.type]
    if rrset.type in (wire_reader.TXT, wire_reader.SPF):
        result = []
        for raw in rrset.rdatas:
            strings = tuple(s.decode("utf-8", errors="surrogateescape") for s in raw)
            result.append(Rr(owner, rtype, ttl, "".join(strings), strings))
        return result
    if rrset.type == wire_reader.MX:
        return [Rr(owner, rtype, ttl, exchange, priority=preference) for preference, exchange in rrset.rdatas]
    if rrset.type == wire_reader.SOA:
        return [Rr(owner, rtype, ttl, str(soa[2])) for soa in rrset.rdatas]
    return [Rr(owner, rtype, ttl, text) for text in rrset.rdatas]  # A, NS, CNAME, PTR, DNAME


_RCODE_TEXT = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def _answer(server: Server, name: str, rtype: str, response: dns.message.Message, *, recursion: bool) -> Answer:
    rcode = dns.rcode.to_text(response.rcode())
    records = tuple(rr for rrset in response.answer for rr in _rrs(rrset))
    authority = [rr for rrset in response.authority for rr in _rrs(rrset)]
    soa_rr = next((rrset for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA), None)
    soa = None
    if soa_rr is not None:
        first = soa_rr[0]
        soa = Soa(_text(soa_rr.name), int(first.serial), int(soa_rr.ttl), int(first.minimum))
    ns_owner = next((_text(rrset.name) for rrset in response.authority if rrset.rdtype == dns.rdatatype.NS), None)
    return _made(Answer(
        server, name, rtype, rcode, records, soa,
        additional=tuple(rr for rrset in response.additional for rr in _rrs(rrset)),
        authority_ns=tuple(r.text for r in authority if r.type == "NS"),
        authoritative=bool(response.flags & dns.flags.AA),
    ), ns_owner, recursion=recursion)


def _made(answer: Answer, ns_owner: str | None, *, recursion: bool) -> Answer:
    """The answer as checks see it (from either parse): a server asked without recursion that does not answer with
    authority is NOTAUTH, with the zone its NS set names (`ns_owner`) as the referral: a child zone, or a server
    listed in the NS set that does not hold the zone (lame)."""
    if not recursion and not answer.authoritative and answer.rcode in ("NOERROR", "NXDOMAIN"):
        return replace(answer, rcode="NOTAUTH", error="not authoritative for the zone", referral=ns_owner)
    return answer


def _rrs(rrset) -> list[Rr]:
    owner, rtype, ttl = _text(rrset.name), dns.rdatatype.to_text(rrset.rdtype), int(rrset.ttl)
    result = []
    for rdata in rrset:
        if rtype == "TXT" or rtype == "SPF":
            # surrogateescape keeps bytes that are not UTF-8 visible to the checks (and to escape.visible)
            strings = tuple(s.decode("utf-8", errors="surrogateescape") for s in rdata.strings)
            result.append(Rr(owner, rtype, ttl, "".join(strings), strings))
        elif rtype in ("CNAME", "NS", "DNAME", "PTR"):
            result.append(Rr(owner, rtype, ttl, _text(rdata.target)))
        elif rtype == "MX":
            result.append(Rr(owner, rtype, ttl, _text(rdata.exchange), priority=int(rdata.preference)))
        elif rtype == "SOA":
            result.append(Rr(owner, rtype, ttl, str(rdata.serial)))
        else:
            result.append(Rr(owner, rtype, ttl, rdata.to_text()))
    return result


def _serial(answer: Answer, zone: str | None) -> int | None:
    soa = answer.rrs("SOA", zone) if zone else []
    return int(soa[0].text) if soa and not answer.transient else None


def _text(name: dns.name.Name) -> str:
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True).lower()  # the root is ""


def _at_or_below(name: str, ancestor: str) -> bool:
    """`name` is `ancestor` or a name below it ("" is the root, above every name)."""
    return name == ancestor or not ancestor or name.endswith("." + ancestor)


def _strictly_above(ancestor: str, name: str) -> bool:
    return ancestor != name and _at_or_below(name, ancestor)


def _parent(name: str) -> str | None:
    if not name:
        return None
    return name.split(".", 1)[1] if "." in name else ""
