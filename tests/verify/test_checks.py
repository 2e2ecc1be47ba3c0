"""Every status rule and diagnosis of issue 3, each against a real defect published in the DNS lab."""

from __future__ import annotations

from dataclasses import replace

from stackshift_cli.domain import DnsRecord, Domain
from stackshift_cli.verify import check_domain, check_records
from tests.verify.conftest import lab_settings, publish


def judge(settings, domain, *records):
    return check_records(domain, list(records), settings)[0] if len(records) == 1 else \
        check_records(domain, list(records), settings)


# ---------------------------------------------------------------- the whole domain


def test_a_correctly_published_domain_is_verified(dnslab, zone, settings, expected):
    records = expected(zone, inbound=True)
    for record in records.values():
        publish(dnslab, record)
    domain = Domain(id="dom_1", name=zone, records=tuple(records.values()))
    checked = check_domain(domain, settings)
    assert [r.status for r in checked.records] == ["verified"] * 5
    assert checked.status == "verified"
    assert checked.check_status("dkimStatus") == "verified" and checked.last_checked_at is not None


def test_nothing_published_is_missing_and_the_domain_pending(zone, settings, expected):
    domain = Domain(id="dom_1", name=zone, records=tuple(expected(zone).values()))
    checked = check_domain(domain, settings)
    assert {r.status for r in checked.records} == {"missing"}
    assert checked.status == "pending"


# ---------------------------------------------------------------- SPF


def test_spf_missing(zone, settings, expected):
    assert judge(settings, zone, expected(zone)["spf"]).status == "missing"


def test_spf_split_into_several_strings_verifies(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", ["v=spf1 ", "include:spf.stackshift.email ~all"])
    assert judge(settings, zone, expected(zone)["spf"]).status == "verified"


def test_two_spf_records_fail_with_one_merged_record(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 include:spf.stackshift.email ~all", "v=spf1 ip4:198.51.100.0/24 -all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed"
    assert "v=spf1 ip4:198.51.100.0/24 include:spf.stackshift.email -all" in result.explanation
    assert "second" not in result.explanation and "add" not in result.explanation.lower()


def test_spf_without_our_include_fails_with_the_merged_record(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 mx -all")
    dnslab.publish(zone, "MX", f"10 mail.{zone}.")
    dnslab.publish(f"mail.{zone}", "A", "192.0.2.25")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed"
    assert "v=spf1 mx include:spf.stackshift.email -all" in result.explanation


def test_spf_include_nested_or_through_redirect_verifies(dnslab, zone, settings, expected):
    dnslab.publish(f"_spf.{zone}", "TXT", "v=spf1 include:spf.stackshift.email ~all")
    dnslab.publish(f"_redirect.{zone}", "TXT", f"v=spf1 redirect=_spf.{zone}")
    dnslab.publish(zone, "TXT", f"v=spf1 redirect=_redirect.{zone}")
    assert judge(settings, zone, expected(zone)["spf"]).status == "verified"


def test_spf_over_ten_lookups_fails(dnslab, zone, settings, expected):
    names = [f"l{i}.{zone}" for i in range(10)]
    for name in names:
        dnslab.publish(name, "TXT", "v=spf1 ip4:192.0.2.1 -all")
    dnslab.publish(zone, "TXT", "v=spf1 " + " ".join(f"include:{n}" for n in names)
                   + " include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and "more than 10 DNS lookups" in result.explanation


def test_spf_with_more_than_two_void_lookups_fails(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", f"v=spf1 a:gone1.{zone} a:gone2.{zone} a:gone3.{zone} include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and "3 terms" in result.explanation


def test_spf_include_without_an_spf_record_fails(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", f"v=spf1 include:nothing.{zone} include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and f"nothing.{zone}" in result.explanation


# ---------------------------------------------------------------- DKIM


def test_dkim_split_into_several_strings_verifies(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    value = record.value
    dnslab.publish(record.name, "TXT", [value[:100], value[100:200], value[200:]])
    assert judge(settings, zone, record).status == "verified"


def test_dkim_revoked_key_fails(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; p=")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "revoked" in result.explanation


def test_dkim_another_key_fails(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; p=" + dkim_key[:-12] + "AAAAAAAAAAAA")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "not this domain's key" in result.explanation


def test_dkim_key_type_other_than_rsa_fails(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=ed25519; p=" + dkim_key)
    result = judge(settings, zone, record)
    assert result.status == "failed" and "k=ed25519" in result.explanation


def test_dkim_unparsable_tags_fail(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; " + dkim_key)
    result = judge(settings, zone, record)
    assert result.status == "failed" and "not a valid DKIM key record" in result.explanation


def test_dkim_followed_through_a_cname_delegation(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    dnslab.publish("key.other.test", "TXT", record.value)
    dnslab.publish(record.name, "CNAME", "key.other.test.")
    try:
        assert judge(settings, zone, record).status == "verified"
    finally:
        dnslab.remove("key.other.test")


def test_dkim_expected_as_a_cname_is_judged_by_its_target(dnslab, zone, settings):
    record = DnsRecord("CNAME", f"s1._domainkey.{zone}", "s1._domainkey", "s1.dkim.stackshift.email")
    dnslab.publish(record.name, "CNAME", "s1.dkim.stackshift.email.")
    assert judge(settings, zone, record).status == "verified"
    other = replace(record, value="s2.dkim.stackshift.email")
    result = judge(settings, zone, other)
    assert result.status == "failed" and "s2.dkim.stackshift.email" in result.explanation


def test_dkim_key_with_spaces_verifies_and_says_so(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    spaced = " ".join(dkim_key[i:i + 64] for i in range(0, len(dkim_key), 64))
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; p=" + spaced)
    result = judge(settings, zone, record)
    assert result.status == "verified" and "spaces or line breaks" in result.explanation


def test_dkim_key_with_literal_line_breaks_fails(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; p=" + dkim_key[:100] + "\\n" + dkim_key[100:])
    result = judge(settings, zone, record)
    assert result.status == "failed" and "line-break" in result.explanation


def test_dkim_key_split_into_separate_records_by_a_line_break_fails(dnslab, zone, settings, expected, dkim_key):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; k=rsa; p=" + dkim_key[:150], dkim_key[150:])
    result = judge(settings, zone, record)
    assert result.status == "failed" and "separate TXT records" in result.explanation


# ---------------------------------------------------------------- DMARC


def test_dmarc_valid_record_verifies(dnslab, zone, settings, expected):
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.test")
    assert judge(settings, zone, expected(zone)["dmarc"]).status == "verified"


def test_dmarc_inherited_from_the_organizational_domain(dnslab, zone, settings, expected):
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=quarantine")
    result = judge(settings, f"mail.{zone}", expected(f"mail.{zone}")["dmarc"])
    assert result.status == "verified"
    assert f"_dmarc.{zone}" in result.explanation and "p=quarantine" in result.explanation


def test_dmarc_several_records_fail(dnslab, zone, settings, expected):
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=none", "v=DMARC1; p=reject")
    result = judge(settings, zone, expected(zone)["dmarc"])
    assert result.status == "failed" and "2 DMARC records" in result.explanation


def test_dmarc_invalid_policy_fails(dnslab, zone, settings, expected):
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=block")
    result = judge(settings, zone, expected(zone)["dmarc"])
    assert result.status == "failed" and "p=block" in result.explanation


# ---------------------------------------------------------------- return-path and MX


def test_return_path_target_ignores_case_and_trailing_dot(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    dnslab.publish(record.name, "CNAME", "BOUNCES.StackShift.Email.")
    assert judge(settings, zone, record).status == "verified"


def test_return_path_other_target_fails(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    dnslab.publish(record.name, "CNAME", "bounces.other.test.")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "bounces.other.test" in result.explanation


def test_return_path_flattened_to_addresses_fails_with_proxy_advice(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    dnslab.publish(record.name, "A", "192.0.2.10")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "proxy" in result.explanation and "DNS only" in result.explanation


def test_inbound_mx_checks_exchange_and_priority(dnslab, zone, settings, expected):
    record = expected(zone, inbound=True)["inbound"]
    dnslab.publish(record.name, "MX", "20 inbound.stackshift.email.")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "priority 20" in result.explanation
    dnslab.replace(record.name, "MX", "10 inbound.stackshift.email.")
    assert judge(settings, zone, record).status == "verified"


# ---------------------------------------------------------------- diagnoses


def test_zone_appended_twice_is_diagnosed(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    dnslab.publish(f"{record.name}.{zone}", "TXT", record.value)
    result = judge(settings, zone, record)
    assert result.status == "missing"
    assert "appends the domain" in result.explanation and '"stackshift._domainkey"' in result.explanation


def test_record_at_the_apex_instead_of_its_host_is_diagnosed(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=DMARC1; p=none;")
    result = judge(settings, zone, expected(zone)["dmarc"])
    assert result.status == "missing"
    assert "(the apex)" in result.explanation and '"_dmarc"' in result.explanation


def test_right_host_wrong_type_is_diagnosed(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    dnslab.publish(record.name, "TXT", "bounces.stackshift.email")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "a TXT record" in result.explanation and "CNAME" in result.explanation


def test_literal_quotes_are_diagnosed(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", '"v=spf1 include:spf.stackshift.email ~all"')
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and "quote" in result.explanation


def test_duplicated_version_tag_is_diagnosed(dnslab, zone, settings, expected):
    record = expected(zone)["dkim"]
    dnslab.publish(record.name, "TXT", "v=DKIM1; " + record.value)
    result = judge(settings, zone, record)
    assert result.status == "failed" and "v=DKIM1 tag appears 2 times" in result.explanation


# ---------------------------------------------------------------- authoritative and resolver views


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


# ---------------------------------------------------------------- issue 8: CNAMEs, failures inside includes, shapes


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
    assert result.explanation is None  # the resolver and the servers agree: no "still answers from its cache"


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


def test_spf_include_that_fails_in_dns_before_ours_is_pending_and_named(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 include:_spf.servfail.test include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "pending"
    assert "include:_spf.servfail.test could not be looked up" in result.explanation


def test_spf_include_that_fails_in_dns_after_ours_does_not_matter(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 include:spf.stackshift.email include:_spf.servfail.test ~all")
    assert judge(settings, zone, expected(zone)["spf"]).status == "verified"


def test_spf_syntax_error_before_our_include_fails_naming_the_term(dnslab, zone, settings, expected):
    dnslab.publish(zone, "TXT", "v=spf1 ip4:192.0.2.1/33 include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed"
    assert 'term 1 ("ip4:192.0.2.1/33", at character 8)' in result.explanation
    assert "v=spf1 include:spf.stackshift.email ~all" in result.explanation


def test_a_published_name_that_is_not_a_dns_name_fails_instead_of_crashing(dnslab, zone, settings, expected):
    long_label = "x" * 64
    dnslab.publish(zone, "TXT", f"v=spf1 include:{long_label}.example.test include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and "not a valid DNS name" in result.explanation


def test_a_record_name_that_is_not_a_dns_name_fails_instead_of_crashing(zone, settings):
    record = DnsRecord("TXT", f"a..b.{zone}", "a..b", "v=DMARC1; p=none;", purpose="dmarc")
    result = judge(settings, zone, record)
    assert result.status == "failed" and "empty label" in result.explanation


def test_cname_published_with_the_zone_appended_twice_is_diagnosed(dnslab, zone, settings, expected):
    record = expected(zone)["returnPath"]
    dnslab.publish(f"{record.name}.{zone}", "CNAME", record.value + ".")
    result = judge(settings, zone, record)
    assert result.status == "missing"
    assert f"{record.name}.{zone}" in result.explanation and "appends the domain" in result.explanation


def test_apex_addresses_beside_a_missing_spf_record_are_not_a_wrong_type(dnslab, zone, settings, expected):
    dnslab.publish(zone, "A", "192.0.2.80")
    dnslab.publish(zone, "MX", f"10 mail.{zone}.")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "missing" and result.explanation.startswith("No SPF record")


def test_the_obsolete_spf_type_instead_of_txt_is_a_wrong_type_and_fails(dnslab, zone, settings, expected):
    dnslab.publish(zone, "SPF", "v=spf1 include:spf.stackshift.email ~all")
    result = judge(settings, zone, expected(zone)["spf"])
    assert result.status == "failed" and "SPF record type is obsolete" in result.explanation


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
