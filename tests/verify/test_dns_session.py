"""The bulk-verify DNS session (verify/lookup.py: `Dns`, `_Sockets`) against scripted servers on loopback.

One connected UDP socket per server is shared by the queries sent to it, so what arrives on it must be told apart:
an answer goes to the query with its id and its question, and anything else (another id, another question, a
duplicate, a late answer to a query that gave up, a datagram that is not an answer) is dropped without disturbing
the query still waiting. A server that never answers is a timeout; a closed port (ICMP port unreachable) ends the
queries waiting at once; a truncated answer is asked again over TCP and the TCP answer is the one used.

The servers here are tests/dnslab/hostile.py's HostileServer (scripted per name, nothing relayed), on the lab's
addresses and port, answering with several datagrams where a test needs it; BIND (ns1) for a real truncation.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from stackshift_cli.verify.answers import Answer, Server
from stackshift_cli.verify.lookup import QUERIES_PER_SOCKET, SOCKET_DEPTH, Dns, _query, _Sockets
from tests.dnslab.hostile import HOSTILE_OCTETS, HostileServer, under
from tests.dnslab.pyservers import DelayProxy

NAME = "q.sock.test"
HANG_BOUND = 30.0  # seconds: only a hang gets anywhere near this (no test asserts how fast anything is)


class Scripted(HostileServer):
    """A HostileServer that relays nothing, whose UDP behaviours may return a list of datagrams (sent in order, as
    a forger racing the real server would), and that records the source port of each UDP query."""

    def __init__(self, listen: tuple[str, int]) -> None:
        super().__init__(listen, upstream=None)
        self.source_ports: list[int] = []
        self.release_at: int | None = None  # hold the UDP answers until this many are due, then send them reversed
        self._held: list[tuple[bytes, Any]] = []

    async def _handle_udp(self, data: bytes, addr: Any) -> None:
        self.source_ports.append(addr[1])
        handled, answer = self._decide(data, "udp")
        if not handled:  # pragma: no cover - nothing is relayed
            await DelayProxy._handle_udp(self, data, addr)
            return
        for datagram in answer if isinstance(answer, list) else [answer]:
            if isinstance(datagram, bytes):
                self._held.append((datagram, addr))
        if self.release_at is not None and len(self._held) < self.release_at:
            return
        held, self._held = self._held, []
        for datagram, to in reversed(held) if self.release_at is not None else held:
            if self._udp_transport is not None:
                self._udp_transport.sendto(datagram, to)


@pytest.fixture
def scripted(dnslab):
    """A Scripted server on a fresh lab address at the lab's port (stopped after the test)."""
    server = None
    for octet in HOSTILE_OCTETS:
        try:
            server = Scripted((f"{dnslab.base}.{octet}", dnslab.port)).start()
            break
        except OSError:
            continue
    assert server is not None, "no free address left for a scripted server"
    try:
        yield server
    finally:
        server.stop()


def server_of(scripted: Scripted) -> Server:
    assert scripted.address is not None
    return Server(scripted.address[0], scripted.address[1], "ns.sock.test")


def txt_answer(query: dns.message.Message, text: str, *, owner: str | None = None) -> dns.message.Message:
    """An authoritative answer to `query` with one TXT record (owned by the query name unless `owner`)."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    name = dns.name.from_text(owner) if owner else query.question[0].name
    response.answer.append(dns.rrset.from_text(name, 300, "IN", "TXT", f'"{text}"'))
    return response


def with_question(response: dns.message.Message, name: str, rtype: str = "TXT", rdclass: str = "IN"
                  ) -> dns.message.Message:
    response.question = [dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.from_text(rdclass),
                                         dns.rdatatype.from_text(rtype))]
    return response


def texts(answer: Answer) -> list[str]:
    return [r.text for r in answer.records if r.type == "TXT"]


def ask(server: Server, name: str = NAME, rtype: str = "TXT", *, timeout: float = 2.0, **options) -> Answer:
    """One authoritative query through a fresh round's Dns, as a check makes it."""

    async def run() -> Answer:
        session = Dns([(server.address, server.port)], timeout=timeout, authoritative_port=server.port, **options)
        try:
            return await asyncio.wait_for(session.for_domain(None).query(server, name, rtype), HANG_BOUND)
        finally:
            session.close()

    return asyncio.run(run())


def forged_then_real(forge: Callable[[dns.message.Message], dns.message.Message | bytes]):
    """A behaviour answering first with the forged datagram `forge` makes of the query, then with the real answer."""

    def behave(query: dns.message.Message, transport: str) -> Any:
        real = txt_answer(query, "real").to_wire()
        if transport == "tcp":
            return real
        forged = forge(query)
        return [forged if isinstance(forged, bytes) else forged.to_wire(), real]

    return behave


def another_id(query: dns.message.Message) -> dns.message.Message:
    forged = txt_answer(query, "forged")
    forged.id = query.id ^ 0x5A5A
    return forged


# ---------------------------------------------------------------- answers are matched by id and question


@pytest.mark.parametrize("forge", [
    pytest.param(another_id, id="another-id"),
    pytest.param(lambda q: with_question(txt_answer(q, "forged", owner="other.sock.test"), "other.sock.test"),
                 id="another-name"),
    pytest.param(lambda q: with_question(txt_answer(q, "forged"), NAME, "A"), id="another-type"),
    pytest.param(lambda q: with_question(txt_answer(q, "forged"), NAME, "TXT", "CH"), id="another-class"),
    pytest.param(lambda q: with_question(txt_answer(q, "forged"), "q.sock.tes"), id="a-prefix-of-the-name"),
    pytest.param(lambda q: txt_answer(q, "forged").to_wire()[:11], id="shorter-than-a-header"),
    pytest.param(lambda q: q.to_wire(), id="the-query-reflected"),
])
def test_a_datagram_that_is_not_the_answer_to_the_query_is_ignored_and_the_real_answer_accepted(forge, scripted):
    scripted.rule(under(NAME), forged_then_real(forge))
    answer = ask(server_of(scripted))
    assert answer.rcode == "NOERROR" and answer.authoritative, answer
    assert texts(answer) == ["real"]


def test_an_answer_with_two_questions_is_ignored_and_the_real_answer_accepted(scripted):
    def two_questions(query: dns.message.Message) -> dns.message.Message:
        forged = txt_answer(query, "forged")
        forged.question.append(dns.rrset.RRset(dns.name.from_text("other.sock.test"), dns.rdataclass.IN,
                                               dns.rdatatype.TXT))
        return forged

    scripted.rule(under(NAME), forged_then_real(two_questions))
    assert texts(ask(server_of(scripted))) == ["real"]


def test_an_answer_whose_question_differs_only_in_letter_case_is_accepted(scripted):
    """DNS names compare case-insensitively (RFC 4343); servers and 0x20-style resolvers may echo another case."""

    def shouting(query: dns.message.Message, transport: str) -> bytes:
        return with_question(txt_answer(query, "real"), NAME.upper()).to_wire()

    scripted.rule(under(NAME), shouting)
    assert texts(ask(server_of(scripted))) == ["real"]


def test_a_duplicated_answer_is_taken_once_and_the_next_query_gets_its_own(scripted):
    def twice(query: dns.message.Message, transport: str) -> list[bytes]:
        name = query.question[0].name.to_text(omit_final_dot=True)
        wire = txt_answer(query, name).to_wire()
        return [wire, wire]

    scripted.rule(under("sock.test"), twice)
    server = server_of(scripted)

    async def run() -> list[Answer]:
        session = Dns([(server.address, server.port)], timeout=2.0, authoritative_port=server.port)
        lookups = session.for_domain(None)
        try:
            return [await asyncio.wait_for(lookups.query(server, f"n{i}.sock.test", "TXT"), HANG_BOUND)
                    for i in range(5)]
        finally:
            session.close()

    answers = asyncio.run(run())
    assert [texts(a) for a in answers] == [[f"n{i}.sock.test"] for i in range(5)]


def test_a_late_answer_to_a_query_that_gave_up_is_not_taken_as_the_answer_to_the_next_one(scripted):
    """The first query gets no answer in time; its answer comes just before the answer to the next query for the
    same name on the same socket. Only the query id tells them apart."""
    first: list[dns.message.Message] = []

    def late(query: dns.message.Message, transport: str) -> Any:
        if not first:
            first.append(query)
            return None
        fresh = txt_answer(query, "fresh").to_wire()
        if first[0].id == query.id:  # one time in 65536: the stale answer would be indistinguishable
            return fresh
        return [txt_answer(first[0], "stale").to_wire(), fresh]

    scripted.rule(under(NAME), late)
    server = server_of(scripted)

    async def run() -> tuple[Answer, Answer]:
        sockets = _Sockets()
        try:
            gave_up = await _query(sockets, server, NAME, "TXT", 0.5, recursion=False)
            next_one = await asyncio.wait_for(_query(sockets, server, NAME, "TXT", 5.0, recursion=False), HANG_BOUND)
            return gave_up, next_one
        finally:
            sockets.close()

    gave_up, next_one = asyncio.run(run())
    assert gave_up.rcode == "TIMEOUT"
    assert texts(next_one) == ["fresh"]
    assert len(set(scripted.source_ports)) == 1  # both went out on one shared socket: the case the id decides


def test_concurrent_queries_on_shared_sockets_each_get_their_own_answer(scripted):
    """Far more queries waiting at once than one socket takes (SOCKET_DEPTH), their answers held by the server
    until the last query came and then sent in the reverse order: every answer still goes to its own query, and
    the queries were spread over sockets of at most SOCKET_DEPTH each."""

    def echo(query: dns.message.Message, transport: str) -> bytes:
        return txt_answer(query, query.question[0].name.to_text(omit_final_dot=True)).to_wire()

    scripted.rule(under("sock.test"), echo)
    server = server_of(scripted)
    count = 6 * SOCKET_DEPTH
    scripted.release_at = count

    async def run() -> tuple[list[Answer], int]:
        session = Dns([(server.address, server.port)], timeout=5.0, authoritative_port=server.port,
                      queries_in_flight=count)
        lookups = session.for_domain(None)
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(lookups.query(server, f"n{i}.sock.test", "TXT") for i in range(count))), HANG_BOUND)
            return list(answers), session.sent
        finally:
            session.close()

    answers, sent = asyncio.run(run())
    assert [texts(a) for a in answers] == [[f"n{i}.sock.test"] for i in range(count)]
    assert sent == count
    ports = Counter(scripted.source_ports)
    assert len(ports) >= count // SOCKET_DEPTH and max(ports.values()) <= SOCKET_DEPTH, ports


def test_a_socket_is_retired_after_queries_per_socket_queries_for_source_port_randomness(scripted):
    def echo(query: dns.message.Message, transport: str) -> bytes:
        return txt_answer(query, query.question[0].name.to_text(omit_final_dot=True)).to_wire()

    scripted.rule(under("sock.test"), echo)
    server = server_of(scripted)
    count = 2 * QUERIES_PER_SOCKET + 50

    async def run() -> list[Answer]:
        sockets = _Sockets()
        try:
            return [await _query(sockets, server, f"n{i}.sock.test", "TXT", 5.0, recursion=False)
                    for i in range(count)]
        finally:
            sockets.close()

    answers = asyncio.run(run())
    assert all(texts(a) == [f"n{i}.sock.test"] for i, a in enumerate(answers))
    ports = scripted.source_ports
    sockets = [ports[i:i + QUERIES_PER_SOCKET] for i in range(0, count, QUERIES_PER_SOCKET)]
    assert all(len(set(used)) == 1 for used in sockets)  # one after the other: one socket until it is used up
    # Then a new socket on a new random port (the kernel may draw a port again: two draws of three differ).
    assert len({used[0] for used in sockets}) >= 2


# ---------------------------------------------------------------- silence, closed ports, truncation


def test_a_server_that_never_answers_gives_a_timeout_answer_not_a_hang(scripted):
    scripted.rule(under(NAME), lambda query, transport: None)
    answer = ask(server_of(scripted), timeout=0.5)
    assert answer.rcode == "TIMEOUT" and answer.transient
    assert answer.error == "no answer within 0.5s"
    assert scripted.received(under(NAME))  # it was asked, and said nothing


def closed_udp_port(address: str) -> int:
    """A UDP port on `address` that nothing is bound to (a query there draws an ICMP port unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def test_a_closed_port_is_reported_unreachable_without_waiting_for_the_timeout(dnslab):
    """With a 60 s timeout, only the ICMP error can end the query before HANG_BOUND: the outcome proves it."""
    server = Server(dnslab.ns1_addr, closed_udp_port(dnslab.ns1_addr))
    answer = ask(server, timeout=60.0)
    assert answer.rcode == "UNREACHABLE" and answer.transient, answer
    assert answer.error and "refused" in answer.error.lower()


def test_every_query_waiting_on_a_closed_port_is_ended_by_its_icmp_error(dnslab):
    server = Server(dnslab.ns1_addr, closed_udp_port(dnslab.ns1_addr))

    async def run() -> list[Answer]:
        session = Dns([(server.address, server.port)], timeout=60.0, authoritative_port=server.port)
        lookups = session.for_domain(None)
        try:
            return list(await asyncio.wait_for(
                asyncio.gather(*(lookups.query(server, f"n{i}.sock.test", "TXT") for i in range(10))), HANG_BOUND))
        finally:
            session.close()

    assert [a.rcode for a in asyncio.run(run())] == ["UNREACHABLE"] * 10


def test_a_resolver_on_a_closed_port_is_passed_over_for_the_next_one(dnslab, zone):
    dnslab.publish(f"txt.{zone}", "TXT", "from the second resolver")
    closed = ("127.0.0.1", closed_udp_port("127.0.0.1"))

    async def run() -> Answer:
        session = Dns([closed, (dnslab.resolver_addr, dnslab.resolver_port)], timeout=60.0,
                      authoritative_port=dnslab.port)
        try:
            return await asyncio.wait_for(session.for_domain(None).resolve(f"txt.{zone}", "TXT"), HANG_BOUND)
        finally:
            session.close()

    answer = asyncio.run(run())
    assert answer.rcode == "NOERROR" and texts(answer) == ["from the second resolver"]
    assert answer.server == Server(dnslab.resolver_addr, dnslab.resolver_port)


def test_a_truncated_answer_is_asked_again_over_tcp_and_the_tcp_answer_used(scripted):
    def truncated_over_udp(query: dns.message.Message, transport: str) -> bytes:
        if transport == "tcp":
            return txt_answer(query, "over tcp").to_wire()
        response = txt_answer(query, "truncated udp")
        response.flags |= dns.flags.TC
        return response.to_wire()

    scripted.rule(under(NAME), truncated_over_udp)
    answer = ask(server_of(scripted))
    assert answer.rcode == "NOERROR" and texts(answer) == ["over tcp"]
    assert [q.transport for q in scripted.received(under(NAME))] == ["udp", "tcp"]


def test_a_record_too_large_for_udp_is_read_whole_from_bind_over_tcp(dnslab, zone):
    """BIND truncates an answer larger than the EDNS payload stackshift offers (1232 bytes): the whole record
    comes over TCP."""
    value = "v=DKIM1; k=rsa; p=" + "A" * 3000
    dnslab.publish(f"big.{zone}", "TXT", value)
    answer = ask(Server(dnslab.ns1_addr, dnslab.port, "ns1.lab.test"), f"big.{zone}")
    assert answer.rcode == "NOERROR" and answer.authoritative
    assert texts(answer) == [value]
