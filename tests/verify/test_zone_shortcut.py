"""The zone shortcut of verify/lookup.py (Lookups._authoritative): a name under the domain being checked is first
asked of the servers of the domain's own zone; when they refer to a zone delegated below the domain (a
`_domainkey` subtree hosted elsewhere, as DKIM providers do), the name goes through the zone discovery of its own,
and the delegated zone's servers decide.

The world: the domain's zone on BIND (ns1) delegates `_domainkey.<zone>` (NS and glue in the zone, as a registrar
panel writes them) to a scripted server on the lab (tests/dnslab/hostile.py), which serves that child zone and is
also the resolver of the run, relaying everything else to Unbound (Unbound cannot follow a delegation inside a lab
zone: it would use port 53, see tests/dnslab/__init__.py).
"""

from __future__ import annotations

from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rrset
import dns.update
import pytest

from stackshift_cli.domain import DnsRecord, Domain
from stackshift_cli.errors import ExitCode
from stackshift_cli.verify import check_domain, check_records
from tests.dnslab.hostile import Query, delegation, nodata, under
from tests.verify.conftest import lab_settings, publish


def exactly(name: str, rtype: str):
    def match(query: Query) -> bool:
        return query.name == name and query.type == rtype

    return match


def authoritative_txt(lab, value: str):
    """The TXT record `value` at the query name, as the child zone's authoritative server answers it."""

    def behave(query: dns.message.Message, transport: str) -> bytes:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.answer.append(dns.rrset.from_rdata_list(query.question[0].name, 300,
                                                         lab.make_rdatas("TXT", [value])))
        return response.to_wire()

    return behave


def delegate_domainkey(lab, zone: str, address: str) -> str:
    """Delegate `_domainkey.<zone>` on ns1 to ns._domainkey.<zone> at `address` (NS and glue in one update: the lab's
    publish() checks what the server then answers, and below a zone cut that is a referral, not the record)."""
    child = f"_domainkey.{zone}"
    update = dns.update.UpdateMessage(zone)
    update.add(dns.name.from_text(f"ns.{child}"), 300, "A", address)
    update.add(dns.name.from_text(child), 300, "NS", f"ns.{child}.")
    reply = dns.query.tcp(update, lab.ns1_addr, port=lab.port, timeout=5)
    assert reply.rcode() == 0, reply
    referral = lab.query_auth(f"stackshift.{child}", "TXT", lab.ns1_addr)
    assert not referral.flags & dns.flags.AA and referral.authority, referral  # ns1 now refers, and no longer answers
    return child


@pytest.fixture
def delegated(dnslab, zone, hostile, expected) -> dict[str, Any]:
    """The zone's DKIM record lives in `_domainkey.<zone>`, delegated to the hostile server, which serves it."""
    address = hostile.address[0]
    child = delegate_domainkey(dnslab, zone, address)
    records = expected(zone)
    dkim = records["dkim"]
    hostile.rule(exactly(child, "NS"), delegation(child, f"ns.{child}", address))
    hostile.rule(under(dkim.name, "TXT"), authoritative_txt(dnslab, dkim.value))
    hostile.rule(under(child), nodata(soa_owner=child))
    return {"child": child, "records": records, "dkim": dkim, "resolver": f"{address}:{hostile.address[1]}"}


def test_a_dkim_record_in_a_delegated_domainkey_zone_is_found_at_that_zones_servers(dnslab, zone, hostile, delegated):
    dkim: DnsRecord = delegated["dkim"]
    settings = lab_settings(dnslab, **{"dns.nameservers": [delegated["resolver"]]})
    judged = check_records(zone, [dkim], settings)[0]
    assert judged.status == "verified", judged.explanation
    # The delegated zone's own server was asked (RD=0), as an authoritative server: the referral from ns1 was
    # followed, not left to the resolver (whose answer alone would be "the resolver decided").
    asked = hostile.received(under(dkim.name, "TXT", rd=False))
    assert asked and all(q.name == dkim.name for q in asked)
    assert judged.explanation is None  # nothing to say: every server of the zone holding the record agrees


def test_a_wrong_dkim_record_in_a_delegated_domainkey_zone_fails_as_it_would_at_the_apex_zone(
        dnslab, zone, hostile, delegated):
    """The delegated zone's answer decides the verdict: another key there is a failed record, not a pending one."""
    dkim: DnsRecord = delegated["dkim"]
    other_key = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQ"
    hostile.rules.insert(0, (under(dkim.name, "TXT"), authoritative_txt(dnslab, other_key)))
    settings = lab_settings(dnslab, **{"dns.nameservers": [delegated["resolver"]]})
    judged = check_records(zone, [dkim], settings)[0]
    assert judged.status == "failed", judged.explanation
    assert hostile.received(under(dkim.name, "TXT", rd=False))


def test_a_domain_whose_domainkey_zone_is_delegated_verifies_whole(dnslab, zone, hostile, delegated):
    """Every other record is in the domain's own zone (the shortcut answers them from ns1); DKIM goes through the
    delegated zone: the whole domain is verified."""
    records = delegated["records"]
    for record in records.values():
        if record.purpose != "dkim":
            publish(dnslab, record)
    settings = lab_settings(dnslab, **{"dns.nameservers": [delegated["resolver"]]})
    checked = check_domain(Domain(id="dom_00000000000000d1", name=zone, records=tuple(records.values())), settings)
    assert [(r.purpose, r.status) for r in checked.records] == [(p, "verified") for p in records]
    assert checked.status == "verified"
    assert hostile.received(under(records["dkim"].name, "TXT", rd=False))  # decided by the delegated zone's server


def test_verify_all_verifies_a_domain_whose_domainkey_zone_is_delegated(dnslab, zone, hostile, delegated, lab_cli):
    result = lab_cli("domains", "create", zone, "--json")
    assert result.exit_code == 0, result.stderr
    records = [DnsRecord.from_json(r) for r in result.json()["records"]]
    dkim = next(r for r in records if r.purpose == "dkim")
    hostile.rules.insert(0, (under(dkim.name, "TXT"), authoritative_txt(dnslab, dkim.value)))
    for record in records:
        if record.purpose != "dkim":
            publish(dnslab, record)
    verified = lab_cli("domains", "verify", "--all", "--json", env={"STACKSHIFT_NAMESERVERS": delegated["resolver"]})
    assert verified.exit_code == ExitCode.OK, verified.stdout + verified.stderr
    [report] = verified.json()
    assert report["status"] == "verified" and report["dkimStatus"] == "verified"
    assert hostile.received(under(dkim.name, "TXT", rd=False))
