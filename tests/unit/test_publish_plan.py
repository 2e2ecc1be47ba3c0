"""The publish plan's rules (publish/plan.py and each check's `plan`): hand-built zones, no servers.

Each test is one rule of `domains publish` (README, "Publishing records"): SPF merged, never duplicated, and never
over RFC 7208's limits (4.6.4); a valid DMARC record kept (RFC 9989); another DKIM key at the selector a conflict
(RFC 6376 3.6.2.1); nothing beside the return-path CNAME (RFC 1034 3.6.2); the inbound MX beside existing MX.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pytest

from stackshift_cli.providers import READ_TYPES, ZoneRecord
from stackshift_cli.publish import plan as p
from stackshift_cli.records import SendingProfile, build_records
from tests.answers import INCLUDE, Zone

DOMAIN = "example.com"
KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtestkeytestkeytestkey"
OTHER_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAotherkeyotherkeyother"
EXPECTED_SPF = f"v=spf1 include:{INCLUDE} ~all"
DKIM_NAME = f"stackshift._domainkey.{DOMAIN}"
DMARC_NAME = f"_dmarc.{DOMAIN}"
BOUNCES = f"bounces.{DOMAIN}"


def records_for(domain: str = DOMAIN, *, inbound: bool = False):
    return build_records(domain, selector="stackshift", public_key_b64=KEY, inbound=inbound,
                         profile=SendingProfile())


def view_of(zone: Zone, names: Iterable[str]) -> dict[str, list[ZoneRecord]]:
    """What a provider lists at each name: the zone's own records there (no CNAME followed)."""
    view: dict[str, list[ZoneRecord]] = {}
    for name in names:
        entry = zone.data.get(name, [])
        view[name] = [ZoneRecord(r.type, r.name, r.text, r.ttl, r.priority, r.strings)
                      for r in (entry if isinstance(entry, list) else []) if r.type in READ_TYPES]
    return view


def plan_for(data: Mapping, *, domain: str = DOMAIN, zone: str = DOMAIN, inbound: bool = False,
             replace: bool = False, listing: bool = False, listed: Mapping | None = None) -> p.Plan:
    """The plan for a domain given a zone (`data`, as tests/answers.Zone takes it). `listed`: what the provider's
    listing shows when it differs from what resolvers answer (a proxy)."""
    resolver = Zone(data)
    records = records_for(domain, inbound=inbound)
    view = view_of(Zone(listed) if listed is not None else resolver, [r.name for r in records])
    fetched: dict = {}
    for _ in range(20):
        wanted = p.needed(domain, records, view, fetched, spf_include=INCLUDE, listing=listing)
        if not wanted:
            break
        fetched.update(resolver.fetched(wanted))
    return p.build(domain, zone, "test", records, view, fetched=fetched, spf_include=INCLUDE,
                   replace_conflicts=replace)


def change(plan: p.Plan, purpose: str) -> p.Change:
    return next(c for c in plan.changes if c.purpose == purpose)


def dkim(key: str = KEY) -> str:
    return f"v=DKIM1; k=rsa; p={key}"


# ---------------------------------------------------------------- SPF (RFC 7208)


def test_spf_missing_is_created_rfc7208_3_1():
    c = change(plan_for({}), "spf")
    assert (c.action, c.value, c.old) == (p.CREATE, EXPECTED_SPF, ())
    assert c.edit is not None and c.edit.add[0].value == EXPECTED_SPF


def test_spf_include_is_inserted_before_all_keeping_other_terms_rfc7208_5_1():
    data = {DOMAIN: ["TXT v=spf1 include:_spf.google.com ~all"],
            "_spf.google.com": ["TXT v=spf1 ip4:198.51.100.0/24 ~all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.UPDATE
    assert c.value == f"v=spf1 include:_spf.google.com include:{INCLUDE} ~all"
    assert c.old_value() == "v=spf1 include:_spf.google.com ~all"
    assert [r.value for r in c.edit.remove] == ["v=spf1 include:_spf.google.com ~all"]


def test_spf_qualifiers_and_final_all_are_kept_rfc7208_4_6_2():
    data = {DOMAIN: ["TXT v=spf1 ?mx -ip4:203.0.113.0/24 -all", "MX 10 mail.example.com"],
            "mail.example.com": ["A 203.0.113.5"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.UPDATE
    assert c.value == f"v=spf1 ?mx -ip4:203.0.113.0/24 include:{INCLUDE} -all"


def test_spf_include_goes_before_redirect_rfc7208_6_1():
    data = {DOMAIN: ["TXT v=spf1 mx redirect=_spf.example.net"], "_spf.example.net": ["TXT v=spf1 -all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.UPDATE
    assert c.value == f"v=spf1 mx include:{INCLUDE} redirect=_spf.example.net"


def test_spf_already_authorising_stackshift_is_kept():
    data = {DOMAIN: [f"TXT v=spf1 mx include:{INCLUDE} -all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.KEEP and c.edit is None


def test_spf_other_txt_records_at_the_apex_stay_and_guard_the_edit():
    data = {DOMAIN: ["TXT google-site-verification=abc"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.CREATE and c.edit.remove == ()
    assert [r.value for r in c.edit.expect] == ["google-site-verification=abc"]
    assert set(c.edit.expect_types) == {"TXT", "CNAME"}


def _includes(count: int) -> dict:
    """A record with `count` includes, each costing 2 lookups (an include and a nested a term)."""
    data: dict = {DOMAIN: ["TXT v=spf1 " + " ".join(f"include:s{i}.example.net" for i in range(count)) + " ~all"]}
    for i in range(count):
        data[f"s{i}.example.net"] = [f"TXT v=spf1 a:h{i}.example.net ~all"]
        data[f"h{i}.example.net"] = ["A 198.51.100.1"]
    return data


def test_spf_merge_over_ten_lookups_is_a_conflict_naming_the_includes_rfc7208_4_6_4():
    data = _includes(5)  # 10 lookups already; ours would make 11
    c = change(plan_for(data), "spf")
    assert c.action == p.CONFLICT
    assert "11 DNS lookups" in c.reason and "include:s0.example.net (2 lookups)" in c.reason


def test_spf_over_the_lookup_limit_is_never_replaced_rfc7208_4_6_4():
    c = change(plan_for(_includes(5), replace=True), "spf")
    assert c.action == p.CONFLICT and c.edit is None and "--replace" not in c.reason


def test_spf_within_the_limit_with_ours_is_merged_rfc7208_4_6_4():
    c = change(plan_for(_includes(4)), "spf")  # 8 + 1 = 9 lookups
    assert c.action == p.UPDATE and c.value.endswith(f"include:{INCLUDE} ~all")


def test_spf_merge_over_two_void_lookups_is_a_conflict_rfc7208_4_6_4():
    data = {DOMAIN: ["TXT v=spf1 a:nx1.example.net a:nx2.example.net a:nx3.example.net ~all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.CONFLICT and "find nothing" in c.reason


def test_two_spf_records_are_a_conflict_rfc7208_3_2():
    data = {DOMAIN: ["TXT v=spf1 mx ~all", "TXT v=spf1 a ~all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.CONFLICT and "2 SPF records" in c.reason and "--replace" in c.reason
    assert len(c.old) == 2


def test_two_spf_records_with_replace_become_one_merged_record_rfc7208_3_2():
    data = {DOMAIN: ["TXT v=spf1 mx ~all", "TXT v=spf1 a ~all"]}
    c = change(plan_for(data, replace=True), "spf")
    assert c.action == p.UPDATE and len(c.edit.remove) == 2
    assert c.value == f"v=spf1 mx a include:{INCLUDE} ~all"


def test_spf_with_a_syntax_error_is_a_conflict_rfc7208_4_6():
    data = {DOMAIN: ["TXT v=spf1 ip4:300.1.1.1 ~all"]}
    c = change(plan_for(data), "spf")
    assert c.action == p.CONFLICT and "syntax error" in c.reason
    fixed = change(plan_for(data, replace=True), "spf")
    assert fixed.action == p.UPDATE and fixed.value == f"v=spf1 include:{INCLUDE} ~all"


def test_spf_term_that_fails_stackshift_first_is_a_conflict_rfc7208_4_6_2():
    data = {DOMAIN: ["TXT v=spf1 -ip4:192.0.2.0/24 ~all"]}  # StackShift's own network, refused first
    c = change(plan_for(data), "spf")
    assert c.action == p.CONFLICT and "-ip4:192.0.2.0/24" in c.reason


def test_txt_record_cannot_stand_beside_a_cname_rfc1034_3_6_2():
    data = {"mail.example.com": ["CNAME web.example.net"]}
    c = change(plan_for(data, domain="mail.example.com"), "spf")
    assert c.action == p.CONFLICT and "CNAME" in c.reason
    assert change(plan_for(data, domain="mail.example.com", replace=True), "spf").action == p.CONFLICT


# ---------------------------------------------------------------- DMARC (RFC 9989)


def test_valid_dmarc_record_is_kept_whatever_its_policy_rfc9989_4_7():
    data = {DMARC_NAME: ["TXT v=DMARC1; p=reject; rua=mailto:d@example.com"]}
    assert change(plan_for(data), "dmarc").action == p.KEEP


@pytest.mark.parametrize("text", ["v=dmarc1; p=none", "p=reject; v=DMARC1", "v=DMARC1; p=sometimes"])
def test_invalid_dmarc_record_is_a_conflict_rfc9989_4_7(text):
    c = change(plan_for({DMARC_NAME: [f"TXT {text}"]}), "dmarc")
    assert c.action == p.CONFLICT and "--replace" in c.reason
    replaced = change(plan_for({DMARC_NAME: [f"TXT {text}"]}, replace=True), "dmarc")
    assert replaced.action == p.UPDATE and [r.value for r in replaced.edit.remove] == [text]


def test_two_dmarc_records_are_a_conflict_rfc9989_4_10():
    data = {DMARC_NAME: ["TXT v=DMARC1; p=none", "TXT v=DMARC1; p=reject"]}
    assert change(plan_for(data), "dmarc").action == p.CONFLICT


def test_missing_dmarc_record_is_created_beside_unrelated_txt():
    c = change(plan_for({DMARC_NAME: ["TXT some-verification=1"]}), "dmarc")
    assert c.action == p.CREATE and c.edit.remove == ()


# ---------------------------------------------------------------- DKIM (RFC 6376)


def test_dkim_selector_with_stackshift_key_is_kept_rfc6376_3_6_1():
    assert change(plan_for({DKIM_NAME: [f"TXT {dkim()}"]}), "dkim").action == p.KEEP


def test_dkim_selector_with_another_key_is_a_conflict_rfc6376_3_6_2_1():
    c = change(plan_for({DKIM_NAME: [f"TXT {dkim(OTHER_KEY)}"]}), "dkim")
    assert c.action == p.CONFLICT and "another system signs" in c.reason
    replaced = change(plan_for({DKIM_NAME: [f"TXT {dkim(OTHER_KEY)}"]}, replace=True), "dkim")
    assert replaced.action == p.UPDATE and replaced.old[0].value == dkim(OTHER_KEY)


def test_dkim_cname_delegating_to_stackshift_key_is_kept():
    data = {DKIM_NAME: ["CNAME k1.keys.example.net"], "k1.keys.example.net": [f"TXT {dkim()}"]}
    c = change(plan_for(data), "dkim")
    assert c.action == p.KEEP and "k1.keys.example.net" in c.reason


def test_dkim_cname_to_another_key_is_a_conflict():
    data = {DKIM_NAME: ["CNAME k1.keys.example.net"], "k1.keys.example.net": [f"TXT {dkim(OTHER_KEY)}"]}
    c = change(plan_for(data), "dkim")
    assert c.action == p.CONFLICT
    replaced = change(plan_for(data, replace=True), "dkim")
    assert replaced.action == p.UPDATE and [r.type for r in replaced.edit.remove] == ["CNAME"]


def test_long_dkim_value_is_created_whole():
    c = change(plan_for({}), "dkim")
    assert c.action == p.CREATE and c.edit.add[0].value == dkim()


# ---------------------------------------------------------------- return-path (RFC 1034 3.6.2)


def test_return_path_cname_already_right_is_kept():
    assert change(plan_for({BOUNCES: ["CNAME bounces.stackshift.email."]}), "returnPath").action == p.KEEP


@pytest.mark.parametrize("spec", ["A 192.0.2.99", "TXT hello", "CNAME elsewhere.example.net"])
def test_anything_at_the_return_path_name_is_a_conflict_rfc1034_3_6_2(spec):
    c = change(plan_for({BOUNCES: [spec]}), "returnPath")
    assert c.action == p.CONFLICT and "--replace" in c.reason
    replaced = change(plan_for({BOUNCES: [spec]}, replace=True), "returnPath")
    assert replaced.action == p.UPDATE and [r.type for r in replaced.edit.remove] == [spec.split()[0]]
    assert set(replaced.edit.expect_types) == set(READ_TYPES)


def test_address_records_at_the_return_path_name_name_a_proxy():
    c = change(plan_for({BOUNCES: ["A 192.0.2.99"]}), "returnPath")
    assert "flattens or proxies" in c.reason


def test_proxied_return_path_listed_as_a_cname_is_a_conflict():
    answered = {BOUNCES: ["A 104.16.0.1"]}  # what resolvers get from the provider's proxy
    listed = {BOUNCES: ["CNAME bounces.stackshift.email"]}  # what the provider's listing says
    c = change(plan_for(answered, listing=True, listed=listed), "returnPath")
    assert c.action == p.CONFLICT and "proxies" in c.reason
    assert change(plan_for(answered, listing=True, listed=listed, replace=True), "returnPath").action == p.CONFLICT


# ---------------------------------------------------------------- inbound MX


def test_inbound_mx_only_with_inbound():
    assert not any(c.type == "MX" for c in plan_for({}).changes)
    assert change(plan_for({}, inbound=True), "inbound").action == p.CREATE


def test_inbound_mx_is_added_beside_existing_mx():
    data = {"inbound.example.com": ["MX 5 mx.other.example.net"]}
    c = change(plan_for(data, inbound=True), "inbound")
    assert c.action == p.CREATE and c.edit.remove == ()
    assert [r.value for r in c.edit.expect] == ["mx.other.example.net"]


def test_inbound_mx_with_another_priority_is_updated():
    data = {"inbound.example.com": ["MX 20 inbound.stackshift.email"]}
    c = change(plan_for(data, inbound=True), "inbound")
    assert c.action == p.UPDATE and c.edit.add[0].priority == 10


# ---------------------------------------------------------------- the whole plan


def test_second_run_after_publish_plans_only_keep():
    data = {DOMAIN: [f"TXT {EXPECTED_SPF}"], DKIM_NAME: [f"TXT {dkim()}"], DMARC_NAME: ["TXT v=DMARC1; p=none;"],
            BOUNCES: ["CNAME bounces.stackshift.email"], "inbound.example.com": ["MX 10 inbound.stackshift.email"]}
    plan = plan_for(data, inbound=True, listing=True)
    assert {c.action for c in plan.changes} == {p.KEEP} and plan.writes == []


def test_names_are_shown_relative_to_the_zone_found_by_soa():
    plan = plan_for({}, domain="mail.example.co.uk", zone="example.co.uk")
    hosts = {c.purpose: c.to_json(plan.zone)["host"] for c in plan.changes}
    assert hosts == {"spf": "mail", "dkim": "stackshift._domainkey.mail", "dmarc": "_dmarc.mail",
                     "returnPath": "bounces.mail"}
    assert all(c.edit.name.endswith(".example.co.uk") for c in plan.writes)


def test_plan_json_has_changes_and_conflicts():
    data = {BOUNCES: ["A 192.0.2.99"]}
    plan = plan_for(data)
    out = plan.to_json(applied=False)
    assert set(out) >= {"domain", "provider", "zone", "changes", "conflicts", "applied"}
    assert [c["action"] for c in out["conflicts"]] == ["conflict"]
    assert {"action", "type", "name", "value", "oldValue", "reason"} <= set(out["changes"][0])
    assert out["conflicts"][0]["oldValue"] == "A 192.0.2.99"


def test_relative_name():
    assert p.relative("example.com", "example.com") == "@"
    assert p.relative("_dmarc.example.com", "example.com") == "_dmarc"
