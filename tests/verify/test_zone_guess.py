"""verify NAME remembers the zone and servers it found (verify/zonecache.py); the next run asks those servers in
its first round, beside the discovery made as always, and uses their answers only when the discovery finds the same
zone and servers. A guess makes a check quicker (one round trip less: bench/run.py shows it), never different."""

from __future__ import annotations

import asyncio
import json

import dns.flags
import dns.message
import dns.rrset

from stackshift_cli.configfile import data_dir
from stackshift_cli.domain import Domain
from stackshift_cli.verify import Session
from stackshift_cli.verify import zonecache
from tests.dnslab.hostile import under
from tests.verify.conftest import lab_settings, publish


def check(settings, domain: Domain) -> tuple[Domain, Session]:
    session = Session(settings, remember_zones=True)
    return asyncio.run(session.in_own_round(session.check(domain))), session


def verdicts(domain: Domain) -> list[tuple[str, str, str | None]]:
    return [(r.name, r.status, r.explanation) for r in domain.records]


def published_domain(lab, zone, expected) -> Domain:
    records = expected(zone)
    for record in records.values():
        publish(lab, record)
    return Domain(id="dom_1", name=zone, records=tuple(records.values()))


def test_the_zone_found_is_remembered_and_confirmed_by_the_next_run(isolated_env, dnslab, zone, expected):
    settings = lab_settings(dnslab)
    domain = published_domain(dnslab, zone, expected)
    first, session = check(settings, domain)
    assert first.status == "verified" and session.confirmed_guesses == 0
    stored = json.loads(zonecache.path_in(data_dir()).read_text())["views"]
    (view,) = stored.values()
    assert view[zone]["zone"] == zone and [s[0] for s in view[zone]["servers"]] == [dnslab.ns1_addr]
    second, session = check(settings, domain)
    assert session.confirmed_guesses > 0
    assert verdicts(second) == verdicts(first)


def test_a_wrong_guess_never_changes_a_verdict(isolated_env, dnslab, zone, expected, hostile):
    """The remembered servers of the zone are a server that answers every name of it with records that would fail:
    it is asked (the guess is used in the first round), its answers are not (the discovery finds ns1)."""
    settings = lab_settings(dnslab)
    domain = published_domain(dnslab, zone, expected)

    def wrong(query: dns.message.Message, transport: str) -> bytes:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.answer.append(dns.rrset.from_rdata_list(query.question[0].name, 300,
                                                         dnslab.make_rdatas("TXT", ["v=spf1 -all"])))
        return response.to_wire()

    hostile.rule(under(zone), wrong)
    host, port = hostile.address
    view = zonecache.view_key(Session(settings).dns.resolvers, dnslab.port)
    zonecache.save(zonecache.path_in(data_dir()), view,
                   {zone: zonecache.Zone(zone, (zonecache.Server(host, port, f"ns.{zone}"),))})
    checked, session = check(settings, domain)
    assert hostile.received(under(zone)), "the guessed server was not asked: the test did not exercise the guess"
    assert session.confirmed_guesses == 0
    assert checked.status == "verified", verdicts(checked)
    without, _ = check(lab_settings(dnslab), domain)  # the file now holds what the discovery found
    assert verdicts(without) == verdicts(checked)


def test_a_session_that_does_not_remember_zones_writes_no_file(isolated_env, dnslab, zone, expected):
    settings = lab_settings(dnslab)
    domain = published_domain(dnslab, zone, expected)
    session = Session(settings)
    checked = asyncio.run(session.in_own_round(session.check(domain)))
    assert checked.status == "verified"
    assert not zonecache.path_in(data_dir()).exists()
