"""`domains verify` on the API: the API's verdicts, and stackshift's own DNS diagnosis beside them."""

from __future__ import annotations

import pytest

from stackshift_cli.config import ConfigFile
from stackshift_cli.domain import DnsRecord
from stackshift_cli.services import merge_explanations
from tests.api.server import Fault
from tests.conftest_dnslab import dnslab, fresh_zone  # noqa: F401  (the loopback DNS lab)
from tests.helpers import Cli

ALL_VERIFIED = {p: ("verified", None) for p in ("spf", "dkim", "dmarc", "returnPath")}
DKIM_FAILED = {**ALL_VERIFIED, "dkim": ("failed", "The published DKIM key is not the one StackShift signs with.")}


@pytest.fixture
def domain_id(api_cli, config_dir) -> str:
    # The client's own DNS check goes to a loopback port nobody answers on: keep its wait short.
    ConfigFile(config_dir / "config.toml").set("default", "dns.timeout", "0.2s")
    result = api_cli("domains", "create", "verify.example", "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


def records_by_purpose(data: dict) -> dict[str, dict]:
    return {r["purpose"]: r for r in data["records"]}


def test_verified_on_the_api_exits_0_without_a_local_diagnosis(api_cli, api_server, domain_id):
    api_server.verdicts = [ALL_VERIFIED]
    result = api_cli("domains", "verify", "verify.example", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["status"] == "verified" and data["lastCheckedAt"]
    assert all(r["explanation"] is None for r in data["records"])
    assert [r.path for r in api_server.requests_to("POST", "/mail/domains/")] == [
        f"/mail/domains/{domain_id}/verify"]


def test_failed_on_the_api_keeps_its_status_and_adds_stackshift_diagnosis(api_cli, api_server, domain_id):
    api_server.verdicts = [DKIM_FAILED]
    result = api_cli("domains", "verify", "verify.example", "--json")
    assert result.exit_code == 3, result.stderr
    data = result.json()
    assert data["status"] == "failed" and data["dkimStatus"] == "failed"
    dkim = records_by_purpose(data)["dkim"]
    assert dkim["status"] == "failed"
    api_part, ours = dkim["explanation"].split(" — ", 1)
    assert api_part == "The published DKIM key is not the one StackShift signs with."
    assert ours.startswith("stackshift sees pending: The check of TXT at stackshift._domainkey.verify.example")
    assert records_by_purpose(data)["spf"]["explanation"] is None, "verified records are not re-checked"
    assert api_server.domains()[0].status == "failed", "the API's verdict is what the account stores"


def test_diagnosis_shows_beside_the_api_status_in_plain_output(api_cli, api_server, domain_id):
    api_server.verdicts = [{**ALL_VERIFIED, "spf": ("missing", None)}]
    result = api_cli("domains", "verify", domain_id)
    assert result.exit_code == 4, result.stderr
    spf = next(line for line in result.stdout.splitlines() if line.startswith("@\tTXT"))
    host, rtype, status, explanation = spf.split("\t")
    assert status == "missing"
    assert explanation.startswith("stackshift sees pending: The check of TXT at verify.example could not finish")


def test_wait_polls_the_api_until_verified(api_cli, api_server, domain_id):
    api_server.verdicts = [{**ALL_VERIFIED, "dmarc": ("pending", "Not seen yet.")}, ALL_VERIFIED]
    result = api_cli("domains", "verify", "verify.example", "--wait", "--interval", "1s", "--timeout", "20s",
                     "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "verified"
    assert len(api_server.requests_to("POST", f"/mail/domains/{domain_id}/verify")) == 2


def test_verify_of_a_domain_deleted_meanwhile_exits_5(api_cli, api_server, domain_id):
    api_server.fail(Fault(404, {"error": {"code": "not_found", "message": "No such domain."}}, method="POST",
                          path="/mail/domains/dom_"))
    result = api_cli("domains", "verify", "verify.example")
    assert result.exit_code == 5
    assert f"No domain with id {domain_id}" in result.stderr


def test_verify_on_the_api_uses_the_projects_verifier_when_no_verdicts_are_queued(api_cli, api_server, domain_id):
    """The server's verify endpoint is check_domain, stored in its LocalBackend: the same checks as the local store."""
    api_server.settings.file.set("default", "dns.timeout", "0.2s")
    result = api_cli("domains", "verify", "verify.example", "--json")
    assert result.exit_code == 4, result.stderr
    data = result.json()
    assert data["status"] == "pending" and data["lastCheckedAt"]
    assert all("could not finish" in r["explanation"] for r in data["records"])


RECORD = DnsRecord("TXT", "example.com", "@", "v=spf1 include:spf.stackshift.email ~all", purpose="spf")


@pytest.mark.parametrize("api, ours, merged", [
    (("failed", "API says no."), ("failed", "SPF has two records."), "API says no. — stackshift: SPF has two records."),
    (("failed", None), ("failed", "SPF has two records."), "stackshift: SPF has two records."),
    (("pending", None), ("verified", "Found."), "stackshift sees verified: Found."),
    (("failed", "API says no."), ("failed", None), "API says no."),
    # The same finding is said once (issue: "No DKIM key … — stackshift: No DKIM key …").
    (("missing", "No DKIM key at s._domainkey.example.com."), ("missing", "No DKIM key at s._domainkey.example.com."),
     "No DKIM key at s._domainkey.example.com."),
    (("missing", "No DKIM key at X."), ("missing", "no dkim key  at X"), "No DKIM key at X."),
    (("missing", "No DKIM key at X."), ("pending", "No DKIM key at X."),
     "No DKIM key at X. — stackshift sees pending"),
    (("missing", "No DKIM key at X."), ("missing", "No DKIM key at X. The resolver still has the old answer."),
     "stackshift: No DKIM key at X. The resolver still has the old answer."),
    (("failed", "SPF has two records; publish one."), ("failed", "SPF has two records"),
     "SPF has two records; publish one."),
])
def test_merge_keeps_the_api_explanation_and_adds_stackshifts(api, ours, merged):
    assert merge_explanations(RECORD.with_verdict(*api), RECORD.with_verdict(*ours)) == merged


def test_verify_all_checks_every_domain_of_the_account(api_cli, api_server, domain_id):
    api_server.page_limit = 2
    for name in ("a.example", "b.example", "c.example"):
        assert api_cli("domains", "create", name).exit_code == 0
    api_server.verdicts = [ALL_VERIFIED]
    result = api_cli("domains", "verify", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    assert sorted(d["name"] for d in result.json()) == ["a.example", "b.example", "c.example", "verify.example"]
    assert len(api_server.requests_to("POST", "/mail/domains/dom_")) == 4


def test_the_api_says_failed_and_stackshift_says_why_from_real_dns(api_server, dnslab, fresh_zone, config_dir):
    """A zone on the loopback DNS lab holds a wrong SPF record; the API reports it failed, stackshift explains."""
    cli = Cli({**api_server.env(), "STACKSHIFT_NAMESERVERS": dnslab.resolver,
               "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port)})
    assert cli("config", "set", "dns.timeout", "1s").exit_code == 0
    assert cli("domains", "create", fresh_zone).exit_code == 0
    dnslab.publish(fresh_zone, "TXT", "v=spf1 include:_spf.elsewhere.example ~all")
    api_server.verdicts = [{**ALL_VERIFIED, "spf": ("failed", "SPF does not authorise StackShift.")}]

    result = cli("domains", "verify", fresh_zone, "--json")

    assert result.exit_code == 3, result.stderr
    spf = records_by_purpose(result.json())["spf"]
    assert spf["status"] == "failed"
    api_part, ours = spf["explanation"].split(" — ", 1)
    assert api_part == "SPF does not authorise StackShift."
    assert ours.startswith("stackshift: ") and "_spf.elsewhere.example" in ours and "permerror" in ours


def test_the_same_finding_from_the_api_and_stackshift_is_said_once(api_server, dnslab, fresh_zone, config_dir):
    """The API (here the project's own verifier on the same DNS) and stackshift find the records missing in the
    same words: each explanation says it once, as the API stored it."""
    cli = Cli({**api_server.env(), "STACKSHIFT_NAMESERVERS": dnslab.resolver,
               "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port)})
    assert cli("config", "set", "dns.timeout", "1s").exit_code == 0
    assert cli("domains", "create", fresh_zone).exit_code == 0

    result = cli("domains", "verify", fresh_zone, "--json")

    assert result.exit_code == 4, result.stderr
    stored = {r.purpose: r.explanation for r in api_server.domains()[0].records}
    shown = {r["purpose"]: r["explanation"] for r in result.json()["records"]}
    assert shown == stored
    assert shown["dkim"].startswith("No DKIM key")
    assert not any("stackshift:" in text for text in shown.values())
