"""What only real DNS servers show, against the DNS lab (BIND and Unbound; root-only, slower than the pure tests).

Propagation between two servers (serials named), silent and failing servers, SERVFAIL, the resolver deciding when
no authoritative server answers, a resolver's negative cache, CNAMEs that leave the zone (completed through the
resolver), a DNS failure inside an SPF include, and a correctly published domain end to end. Every rule about the
records themselves (SPF, DKIM, DMARC, return path, MX, the CNAME judge, the diagnoses, how the answers of the
servers and the resolver combine) is a pure table in tests/unit, on hand-built answers (tests/answers.py).
"""

from __future__ import annotations

from stackshift_cli.domain import Domain
from stackshift_cli.verify import check_domain, check_records
from tests.verify.conftest import lab_settings, publish


def judge(settings, domain, *records):
    return check_records(domain, list(records), settings)[0] if len(records) == 1 else \
        check_records(domain, list(records), settings)


# ---------------------------------------------------------------- the whole domain, correctly published


def test_a_correctly_published_domain_is_verified(dnslab, zone, settings, expected):
    records = expected(zone, inbound=True)
    for record in records.values():
        publish(dnslab, record)
    domain = Domain(id="dom_1", name=zone, records=tuple(records.values()))
    checked = check_domain(domain, settings)
    assert [r.status for r in checked.records] == ["verified"] * 5
    assert checked.status == "verified"
    assert checked.check_status("dkimStatus") == "verified" and checked.last_checked_at is not None


def test_the_check_records_which_dmarc_record_applies(dnslab, zone, settings, expected, dkim_key):
    records = expected(zone)
    for record in records.values():
        if record.purpose != "dmarc":
            publish(dnslab, record)
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=quarantine; aspf=s")
    checked = check_domain(Domain(id="dom_1", name=zone, records=tuple(records.values())), settings)
    assert checked.status == "verified"
    requirements = {r.key: r for r in checked.requirements}
    assert [r.met for r in checked.requirements] == [True, True, True, True]
    assert f"p=quarantine from _dmarc.{zone}" in requirements["dmarc"].detail
    assert "SPF cannot align: aspf=s" in requirements["alignment"].detail
    assert f"DKIM aligns (d={zone})" in requirements["alignment"].detail


# ---------------------------------------------------------------- authoritative servers and the resolver


def test_unreachable_servers_make_the_check_pending_and_are_named(dnslab, expected):
    settings = lab_settings(dnslab)
    result = judge(settings, "dead.test", expected("dead.test")["dmarc"])
    assert result.status == "pending"
    assert dnslab.blackhole_addr in result.explanation and "no answer within 1s" in result.explanation


def test_servfail_makes_the_check_pending(dnslab, expected):
    settings = lab_settings(dnslab)
    result = judge(settings, "servfail.test", expected("servfail.test")["dmarc"])
    assert result.status == "pending" and "SERVFAIL" in result.explanation


def test_a_resolver_answering_servfail_is_named(dnslab, zone, expected):
    settings = lab_settings(dnslab, **{"dns.nameservers": [f"{dnslab.servfail_addr}:{dnslab.port}"]})
    result = judge(settings, zone, expected(zone)["dmarc"])
    assert result.status == "pending"
    assert f"SERVFAIL from {dnslab.servfail_addr}" in result.explanation


def test_one_silent_server_does_not_block_the_others(dnslab, expected):
    record = expected("mixed.test")["dmarc"]
    dnslab.publish(record.name, "TXT", record.value)
    try:
        result = judge(lab_settings(dnslab), "mixed.test", record)
    finally:
        dnslab.remove(record.name)
    assert result.status == "verified" and dnslab.blackhole_addr in result.explanation


def test_servers_that_disagree_are_pending_naming_the_lagging_one(dnslab, prop_zone, settings, expected):
    record = expected(prop_zone)["dmarc"]
    nsa, nsb = dnslab.prop_addrs
    dnslab.publish(record.name, "TXT", record.value, servers=nsa)
    serial_a, serial_b = dnslab.soa_serial(prop_zone, nsa), dnslab.soa_serial(prop_zone, nsb)
    result = judge(settings, prop_zone, record)
    assert result.status == "pending"
    assert f"nsb.lab.test ({nsb}:{dnslab.port}), serial {serial_b} lags behind" in result.explanation
    assert f"nsa.lab.test ({nsa}:{dnslab.port}), serial {serial_a}" in result.explanation


def test_resolver_lag_is_verified_and_explained(dnslab, zone, settings, expected):
    record = expected(zone)["dmarc"]
    dnslab.query_resolver(record.name, "TXT")  # the resolver caches "no such record"
    publish(dnslab, record)
    result = judge(settings, zone, record)
    assert result.status == "verified"
    assert "from its cache" in result.explanation and "negative-caching TTL" in result.explanation


def test_a_stale_resolver_cache_is_not_mentioned_beside_a_failed_record(dnslab, zone, settings, expected):
    record = expected(zone)["dmarc"]
    dnslab.query_resolver(record.name, "TXT")  # the resolver caches "no such record"
    dnslab.publish(record.name, "TXT", "v=DMARC1; p=block;")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "p=block" in result.explanation
    assert "cache" not in result.explanation


def test_when_no_authoritative_server_answers_the_resolver_decides(dnslab, zone, expected):
    record = expected(zone)["dmarc"]
    publish(dnslab, record)
    closed_port = dnslab.port + 1 if dnslab.port < 65000 else dnslab.port - 1
    result = judge(lab_settings(dnslab, **{"dns.authoritative_port": closed_port}), zone, record)
    assert result.status == "verified" and "the resolver" in result.explanation and "decided" in result.explanation


# ---------------------------------------------------------------- CNAMEs that leave the zone (completed through the resolver)


def test_spf_reached_through_a_cname_out_of_the_zone_verifies_without_a_cache_note(dnslab, zone, settings, expected):
    sender = f"mail.{zone}"
    hosted = f"spf-{zone.replace('.', '-')}.other.test"
    dnslab.publish(hosted, "TXT", "v=spf1 include:spf.stackshift.email ~all")
    dnslab.publish(sender, "CNAME", hosted + ".")
    try:
        result = judge(settings, sender, expected(sender)["spf"])
    finally:
        dnslab.remove(hosted)
    assert result.status == "verified", result.explanation
    assert result.explanation is None


def test_dmarc_cname_to_a_hosted_dmarc_service_verifies(dnslab, zone, settings, expected):
    hosted = f"{zone}.dmarc.other.test"
    dnslab.publish(hosted, "TXT", "v=DMARC1; p=quarantine; rua=mailto:reports@other.test")
    dnslab.publish(f"_dmarc.{zone}", "CNAME", hosted + ".")
    try:
        result = judge(settings, zone, expected(zone)["dmarc"])
    finally:
        dnslab.remove(hosted)
    assert result.status == "verified", result.explanation
    assert result.explanation is None


def test_dkim_followed_through_a_cname_delegation(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    dnslab.publish("key.other.test", "TXT", record.value)
    dnslab.publish(record.name, "CNAME", "key.other.test.")
    try:
        assert judge(settings, zone, record).status == "verified"
    finally:
        dnslab.remove("key.other.test")


def test_return_path_reaching_its_target_through_a_cname_chain_verifies(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    hop = f"rp-{zone.replace('.', '-')}.other.test"
    dnslab.publish(hop, "CNAME", record.value + ".")
    dnslab.publish(record.name, "CNAME", hop + ".")
    try:
        result = judge(settings, zone, record)
    finally:
        dnslab.remove(hop)
    assert result.status == "verified"
    assert f"{record.name} → {hop} → {record.value}" in result.explanation


# ---------------------------------------------------------------- DNS failures inside SPF includes


def test_spf_include_that_fails_in_dns_before_ours_is_pending_and_named(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 include:_spf.servfail.test include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "pending"
    assert "include:_spf.servfail.test could not be looked up" in result.explanation
