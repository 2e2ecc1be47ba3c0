"""`domains publish` / `unpublish` through dns-lexicon's powerdns provider, against the lab's PowerDNS (its HTTP API
with an API key): the same round trip as through RFC 2136."""

from __future__ import annotations

import json

import pytest

from tests.conftest_dnslab import fresh_pdns_zone, powerdns  # noqa: F401  (shared lab fixtures)
from tests.helpers import Cli
from tests.publish.conftest import DNS_TIMEOUT

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture
def pdns_cli(dnslab, powerdns, config_dir, monkeypatch) -> Cli:
    """The CLI on the local store, publishing to the lab's PowerDNS with lexicon's own environment variables."""
    for variable in _PROXY_VARIABLES:  # requests (under lexicon) would send loopback traffic to a proxy
        monkeypatch.delenv(variable, raising=False)
    cli = Cli({"STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": dnslab.resolver,
               "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port), "STACKSHIFT_PUBLISH_PROVIDER": "powerdns",
               "LEXICON_POWERDNS_PDNS_SERVER": powerdns.api_url, "LEXICON_POWERDNS_AUTH_TOKEN": powerdns.api_key})
    assert cli("config", "set", "dns.timeout", DNS_TIMEOUT).exit_code == 0
    return cli


def zone_contents(powerdns, zone: str) -> set[tuple[str, str, int, tuple[str, ...]]]:
    """Every RRset of the zone (the SOA aside: its serial changes with each change)."""
    return {(r["name"], r["type"], r["ttl"], tuple(sorted(x["content"] for x in r["records"])))
            for r in powerdns.rrsets(zone) if r["type"] != "SOA"}


def test_publish_verify_unpublish_round_trip(pdns_cli, powerdns, fresh_pdns_zone):
    zone = fresh_pdns_zone
    domain = f"mail.{zone}"
    powerdns.publish(domain, "TXT", "v=spf1 mx ~all")
    powerdns.publish(domain, "MX", f"10 mx.{zone}.")
    before = zone_contents(powerdns, zone)
    assert pdns_cli("domains", "create", domain, "--inbound").exit_code == 0
    result = pdns_cli("--debug", "domains", "publish", domain, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["provider"] == "powerdns" and plan["zone"] == zone
    actions = {c["purpose"]: (c["action"], c["value"]) for c in plan["changes"]}
    assert actions["spf"] == ("update", "v=spf1 mx include:spf.stackshift.email ~all")
    assert {a for a, _ in actions.values()} == {"create", "update"}
    assert powerdns.api_key not in result.stdout + result.stderr
    dkim = powerdns.records(f"stackshift._domainkey.{domain}", "TXT")
    assert len(dkim) == 1 and '" "' in dkim[0]  # a 2048-bit key: more than one 255-octet string
    verify = pdns_cli("domains", "verify", domain)
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    again = pdns_cli("domains", "publish", domain, "--yes", "--json")
    assert {c["action"] for c in json.loads(again.stdout)["changes"]} == {"keep"}
    undo = pdns_cli("domains", "unpublish", domain, "--yes")
    assert undo.exit_code == 0, undo.stderr
    assert zone_contents(powerdns, zone) == before


def test_a_refused_api_key_exits_6_and_changes_nothing(pdns_cli, powerdns, fresh_pdns_zone):
    zone = fresh_pdns_zone
    before = zone_contents(powerdns, zone)
    assert pdns_cli("domains", "create", zone).exit_code == 0
    wrong = "wrong-" + powerdns.api_key
    result = pdns_cli("--debug", "domains", "publish", zone, "--yes", env={"LEXICON_POWERDNS_AUTH_TOKEN": wrong})
    assert result.exit_code == 6, result.stderr
    assert "powerdns" in result.stderr and "401" in result.stderr
    assert wrong not in result.stdout + result.stderr and powerdns.api_key not in result.stdout + result.stderr
    assert zone_contents(powerdns, zone) == before


def test_the_token_can_come_from_the_config_file_and_is_never_shown(pdns_cli, powerdns, fresh_pdns_zone):
    zone = fresh_pdns_zone
    env = {"LEXICON_POWERDNS_AUTH_TOKEN": "", "LEXICON_POWERDNS_PDNS_SERVER": ""}
    assert pdns_cli("config", "set", "publish.powerdns.auth_token", "-", input=powerdns.api_key + "\n",
                    env=env).exit_code == 0
    assert pdns_cli("config", "set", "publish.powerdns.pdns_server", powerdns.api_url, env=env).exit_code == 0
    shown = pdns_cli("--debug", "config", "list", env=env)
    assert powerdns.api_key not in shown.stdout + shown.stderr
    assert pdns_cli("domains", "create", zone, env=env).exit_code == 0
    result = pdns_cli("--debug", "domains", "publish", zone, "--yes", env=env)
    assert result.exit_code == 0, result.stderr
    assert powerdns.api_key not in result.stdout + result.stderr
    assert powerdns.records(f"_dmarc.{zone}", "TXT") == ['"v=DMARC1; p=none;"']


def test_conflict_at_powerdns_exits_7_and_replace_resolves_it(pdns_cli, powerdns, fresh_pdns_zone):
    zone = fresh_pdns_zone
    powerdns.publish(f"bounces.{zone}", "TXT", "hello")
    assert pdns_cli("domains", "create", zone).exit_code == 0
    conflict = pdns_cli("domains", "publish", zone, "--yes")
    assert conflict.exit_code == 7 and powerdns.records(f"_dmarc.{zone}", "TXT") == []
    replaced = pdns_cli("domains", "publish", zone, "--yes", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert powerdns.records(f"bounces.{zone}", "CNAME") == ["bounces.stackshift.email."]
    assert pdns_cli("domains", "unpublish", zone, "--yes").exit_code == 0
    assert powerdns.records(f"bounces.{zone}", "TXT") == ['"hello"'] and powerdns.records(f"bounces.{zone}", "CNAME") == []
