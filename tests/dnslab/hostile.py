"""A hostile DNS server for the lab: answers, name by name, the way a broken or malicious server or resolver may.

:class:`HostileServer` listens on UDP and TCP on one loopback address and port. Each query is matched against
the rules a test adds with :meth:`HostileServer.rule` (the first match wins); a query that no rule matches is
relayed to ``upstream`` (the lab resolver: the server can then stand in as the resolver of a whole run, hostile
only for the names a test picked) or, without ``upstream``, never answered. A rule's behaviour gets the parsed
query and the transport (``"udp"`` or ``"tcp"``) and returns the wire answer, ``None`` (no answer) or
:data:`CLOSE` (TCP: close the connection without answering)::

    with HostileServer(("127.0.0.5", 5300), upstream=("127.0.0.1", 5353)) as server:
        server.rule(under("loop.test"), nodata(soa_owner="x.loop.test"))
        server.rule(under("tc.test"), truncated_then_closed())
        ...  # query 127.0.0.5:5300; server.log lists what it received

Behaviours: :func:`nodata` (NOERROR, no records, an SOA of the owner given), :func:`delegation` (the NS set of
a zone with glue, as a resolver answers it), :func:`truncated_then_closed` (TC=1 over UDP, then the TCP
connection is closed before any answer: dnspython raises EOFError), :func:`silent`.

:func:`start_hostile` starts one on a fresh address of a running lab (127.B.C.60-79), at the lab's port, so the
CLI can reach it both as a resolver and as an authoritative server (``dns.authoritative_port`` = ``lab.port``).
It only ever binds and talks to loopback addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from .pyservers import CLOSE, DelayProxy

__all__ = ["CLOSE", "HOSTILE_OCTETS", "HostileServer", "Query", "delegation", "nodata", "silent", "start_hostile",
           "truncated_then_closed", "under"]

HOSTILE_OCTETS = range(60, 80)  # addresses handed out by start_hostile(), after the delay proxies' 40-59


@dataclass(frozen=True)
class Query:
    """What the server received: the name (lower case, no final dot), the type, RD, and over which transport."""

    name: str
    type: str
    rd: bool
    transport: str


Match = Callable[[Query], bool]
Behaviour = Callable[[dns.message.Message, str], Any]


def under(suffix: str, rtype: str | None = None, *, rd: bool | None = None) -> Match:
    """Queries for `suffix` or a name below it, of `rtype` (any when None), with RD set or not (any when None)."""
    suffix = suffix.lower().rstrip(".")

    def match(query: Query) -> bool:
        return ((query.name == suffix or query.name.endswith("." + suffix))
                and (rtype is None or query.type == rtype) and (rd is None or query.rd == rd))

    return match


def _response(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    return response


def nodata(soa_owner: str | Callable[[str], str], serial: int = 1) -> Behaviour:
    """NOERROR with no records and, in the authority section, an SOA owned by `soa_owner` (a name, or a
    function of the query name): what a server says when the name exists without records of that type."""

    def behave(query: dns.message.Message, transport: str) -> bytes:
        qname = query.question[0].name.to_text(omit_final_dot=True).lower()
        owner = soa_owner(qname) if callable(soa_owner) else soa_owner
        response = _response(query)
        soa = f"ns.{owner}. hostmaster.{owner}. {serial} 3600 600 86400 300"
        response.authority.append(dns.rrset.from_text(dns.name.from_text(owner), 300, "IN", "SOA", soa))
        return response.to_wire()

    return behave


def delegation(zone: str, host: str, address: str) -> Behaviour:
    """The NS set of `zone` (one server, `host`) with its glue A record: a resolver's answer to `zone NS`."""

    def behave(query: dns.message.Message, transport: str) -> bytes:
        response = _response(query)
        response.answer.append(dns.rrset.from_text(zone + ".", 300, "IN", "NS", host + "."))
        response.additional.append(dns.rrset.from_text(host + ".", 300, "IN", "A", address))
        return response.to_wire()

    return behave


def truncated_then_closed() -> Behaviour:
    """Over UDP an empty answer with TC=1 (the client must retry over TCP); over TCP the connection is
    closed once the query has been read, without an answer."""

    def behave(query: dns.message.Message, transport: str) -> Any:
        if transport == "tcp":
            return CLOSE
        response = _response(query)
        response.flags |= dns.flags.TC
        return response.to_wire()

    return behave


def silent() -> Behaviour:
    """Never answers (over TCP the connection stays open)."""

    def behave(query: dns.message.Message, transport: str) -> None:
        return None

    return behave


class HostileServer(DelayProxy):
    """Answers the queries its rules match as the rules say; relays the others to `upstream` (if any)."""

    kind = "hostile"

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int] | None = None) -> None:
        super().__init__(upstream or ("127.0.0.1", 9), listen, delay_ms=0)
        self.relay = upstream is not None
        self.rules: list[tuple[Match, Behaviour]] = []
        self.log: list[Query] = []  # every query received, in order

    def rule(self, match: Match, behaviour: Behaviour) -> HostileServer:
        self.rules.append((match, behaviour))
        return self

    def received(self, match: Match) -> list[Query]:
        return [q for q in list(self.log) if match(q)]

    def _decide(self, data: bytes, transport: str) -> tuple[bool, Any]:
        """(handled, answer): handled is False when the query goes upstream."""
        try:
            query = dns.message.from_wire(data)
            question = query.question[0]
        except Exception:
            return True, None
        seen = Query(question.name.to_text(omit_final_dot=True).lower(), dns.rdatatype.to_text(question.rdtype),
                     bool(query.flags & dns.flags.RD), transport)
        self.log.append(seen)
        for match, behaviour in self.rules:
            if match(seen):
                return True, behaviour(query, transport)
        if not self.relay:
            return True, None
        return False, None

    async def _handle_udp(self, data: bytes, addr: Any) -> None:
        handled, answer = self._decide(data, "udp")
        if not handled:
            await super()._handle_udp(data, addr)
        elif isinstance(answer, bytes) and self._udp_transport is not None:
            self._udp_transport.sendto(answer, addr)

    async def _tcp_answer(self, data: bytes) -> Any:
        handled, answer = self._decide(data, "tcp")
        if not handled:
            return await self._answer(data)  # DelayProxy: relayed upstream over TCP
        return answer if answer is CLOSE or isinstance(answer, bytes) else None  # None: silent, connection open


def start_hostile(lab: Any, *, relay: bool = True) -> HostileServer:
    """A HostileServer on a fresh lab address (127.B.C.60-79) at `lab.port`, relaying what no rule matches to the
    lab resolver when `relay`. The caller stops it (``server.stop()``)."""
    upstream = (lab.resolver_addr, lab.resolver_port) if relay else None
    for octet in HOSTILE_OCTETS:
        try:
            return HostileServer((f"{lab.base}.{octet}", lab.port), upstream).start()
        except OSError:
            continue
    raise RuntimeError("no free address left for a hostile server")
