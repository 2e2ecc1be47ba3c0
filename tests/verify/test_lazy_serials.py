"""SOA serials are asked only when the authoritative servers disagree (verify/lookup.py, Lookups._observe): they
only explain a disagreement (which server lags, views._propagation), so when every server gives the same answer
no SOA query is sent; when they disagree the verdict names the lagging server by serial, as before
(tests/verify/test_checks.py, test_servers_that_disagree_are_pending_naming_the_lagging_one).

The world: a two-server lab zone (nsa and nsb, BIND, independent copies) whose NS set is changed to two hosts of
the zone, pa and pb, that are relays on the lab recording every question they pass on to nsa and nsb respectively
(tests/dnslab/hostile.py's HostileServer without rules). Unbound still reaches nsa and nsb directly (its stub
zones), and tells stackshift the zone's name servers are pa and pb.
"""

from __future__ import annotations

import pytest

from stackshift_cli.domain import Domain
from stackshift_cli.verify import check_domain, check_records
from tests.dnslab.hostile import HOSTILE_OCTETS, HostileServer, Query
from tests.verify.conftest import publish


def start_relay(lab, upstream: str) -> HostileServer:
    for octet in HOSTILE_OCTETS:
        try:
            return HostileServer((f"{lab.base}.{octet}", lab.port), upstream=(upstream, lab.port)).start()
        except OSError:
            continue
    raise RuntimeError("no free address left for a relay")


@pytest.fixture
def relayed(dnslab, prop_zone):
    """{"pa": relay to nsa, "pb": relay to nsb}, the zone's NS set being pa.<zone> and pb.<zone> (only)."""
    nsa, nsb = dnslab.prop_addrs
    relays = {"pa": start_relay(dnslab, nsa)}
    try:
        relays["pb"] = start_relay(dnslab, nsb)
        for host, relay in relays.items():
            dnslab.publish(f"{host}.{prop_zone}", "A", relay.address[0])
        dnslab.publish(prop_zone, "NS", f"pa.{prop_zone}.", f"pb.{prop_zone}.")
        dnslab.remove(prop_zone, "NS", "nsa.lab.test.", "nsb.lab.test.")
        dnslab.flush_resolver(prop_zone)
        assert sorted(r.to_text() for r in dnslab.rdatas(prop_zone, "NS", nsb)) == [f"pa.{prop_zone}.",
                                                                                    f"pb.{prop_zone}."]
        yield relays
    finally:
        for relay in relays.values():
            relay.stop()


def soa_queries(relay: HostileServer, zone: str) -> list[Query]:
    return relay.received(lambda q: q.type == "SOA" and q.name == zone)


def label(dnslab, relay: HostileServer, host: str) -> str:
    return f"{host} ({relay.address[0]}:{dnslab.port})"


def test_no_soa_serial_is_asked_when_every_authoritative_server_agrees(dnslab, prop_zone, relayed, settings,
                                                                        expected):
    records = expected(prop_zone)
    for record in records.values():
        publish(dnslab, record)  # at both nsa and nsb
    checked = check_domain(Domain(id="dom_00000000000000e1", name=prop_zone, records=tuple(records.values())), settings)
    assert checked.status == "verified", [(r.purpose, r.explanation) for r in checked.records]
    for relay in relayed.values():
        # The records were asked of both servers (through the relays), and no SOA serial of either.
        assert relay.received(lambda q: q.name == f"_dmarc.{prop_zone}" and q.type == "TXT" and not q.rd)
        assert soa_queries(relay, prop_zone) == []


def test_no_soa_serial_is_asked_when_every_server_agrees_a_record_is_missing(dnslab, prop_zone, relayed, settings,
                                                                            expected):
    record = expected(prop_zone)["dmarc"]
    result = check_records(prop_zone, [record], settings)[0]
    assert result.status == "missing", result.explanation
    assert all(soa_queries(relay, prop_zone) == [] for relay in relayed.values())


def test_servers_that_disagree_are_pending_naming_the_lagging_one_by_the_serials_then_asked(
        dnslab, prop_zone, relayed, settings, expected):
    record = expected(prop_zone)["dmarc"]
    nsa, nsb = dnslab.prop_addrs
    dnslab.publish(record.name, "TXT", record.value, servers=nsa)
    serial_a, serial_b = dnslab.soa_serial(prop_zone, nsa), dnslab.soa_serial(prop_zone, nsb)
    assert serial_a > serial_b
    result = check_records(prop_zone, [record], settings)[0]
    assert result.status == "pending"
    pa, pb = label(dnslab, relayed["pa"], f"pa.{prop_zone}"), label(dnslab, relayed["pb"], f"pb.{prop_zone}")
    assert f"{pb}, serial {serial_b} lags behind {pa}, serial {serial_a}" in result.explanation
    assert all(len(soa_queries(relay, prop_zone)) == 1 for relay in relayed.values())  # once each, when needed
