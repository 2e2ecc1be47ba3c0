"""`domains publish` / `unpublish` through RFC 2136 updates signed with TSIG, against the lab's BIND (ns1)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import run_on_pty, stackshift_command
from tests.publish.conftest import axfr, lab_env

SPF_INCLUDE = "include:spf.stackshift.email"


def created(cli, domain: str, *args: str) -> dict:
    result = cli("domains", "create", domain, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def publish_json(cli, domain: str, *args: str):
    result = cli("domains", "publish", domain, "--json", *args)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_publish_then_verify_says_verified(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    result, plan = publish_json(cli, domain, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 0, result.stderr
    assert plan["zone"] == zone and plan["provider"] == "rfc2136" and plan["applied"] is True
    assert [c["action"] for c in plan["changes"]] == ["create"] * 4
    assert {c["host"] for c in plan["changes"]} == {"mail", "stackshift._domainkey.mail", "_dmarc.mail",
                                                    "bounces.mail"}
    verify = cli("domains", "verify", domain)
    assert verify.exit_code == 0, verify.stdout + verify.stderr


def test_second_publish_plans_only_keep_and_writes_nothing(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain, "--inbound")
    assert publish_json(cli, domain, "--provider", "rfc2136", "--yes")[0].exit_code == 0
    serial = dnslab.soa_serial(zone)
    result, plan = publish_json(cli, domain, "--yes")  # the provider it was published through is the default
    assert result.exit_code == 0, result.stderr
    assert {c["action"] for c in plan["changes"]} == {"keep"} and plan["appliedChanges"] == 0
    assert dnslab.soa_serial(zone) == serial


def test_existing_spf_is_merged_and_unpublish_restores_the_zone_exactly(cli, dnslab, zone):
    dnslab.publish(zone, "TXT", "v=spf1 mx -all")
    dnslab.publish(zone, "TXT", "google-site-verification=abc123")
    dnslab.publish(zone, "MX", f"10 mx.{zone}.")
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")
    before = axfr(dnslab, zone)
    created(cli, zone)
    result, plan = publish_json(cli, zone, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 0, result.stderr
    actions = {c["purpose"]: c for c in plan["changes"]}
    assert actions["spf"]["action"] == "update"
    assert actions["spf"]["value"] == f"v=spf1 mx {SPF_INCLUDE} -all"
    assert actions["spf"]["oldValue"] == "v=spf1 mx -all"
    assert actions["dmarc"]["action"] == "keep"
    txt = {r.to_text() for r in dnslab.rdatas(zone, "TXT")}
    assert txt == {f'"v=spf1 mx {SPF_INCLUDE} -all"', '"google-site-verification=abc123"'}
    assert cli("domains", "verify", zone).exit_code == 0
    undo = cli("domains", "unpublish", zone, "--yes")
    assert undo.exit_code == 0, undo.stderr
    assert axfr(dnslab, zone) == before


def test_conflict_exits_7_and_writes_nothing(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    dnslab.publish(f"bounces.{domain}", "A", "192.0.2.99")
    serial = dnslab.soa_serial(zone)
    for args in (["--dry-run"], ["--yes"]):
        result, plan = publish_json(cli, domain, "--provider", "rfc2136", *args)
        assert result.exit_code == 7, result.stderr
        assert "nothing was written" in result.stderr
        assert [c["name"] for c in plan["conflicts"]] == [f"bounces.{domain}"] and plan["applied"] is False
    assert dnslab.soa_serial(zone) == serial
    replaced, plan = publish_json(cli, domain, "--provider", "rfc2136", "--yes", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert [r.to_text() for r in dnslab.rdatas(f"bounces.{domain}", "CNAME")] == ["bounces.stackshift.email."]
    assert dnslab.rdatas(f"bounces.{domain}", "A") == []
    assert cli("domains", "unpublish", domain, "--yes").exit_code == 0
    assert [r.to_text() for r in dnslab.rdatas(f"bounces.{domain}", "A")] == ["192.0.2.99"]


def test_dry_run_changes_nothing_and_exits_0(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    serial = dnslab.soa_serial(zone)
    result = cli("domains", "publish", domain, "--provider", "rfc2136", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == ["create"] * 4 and all(len(line) == 6 for line in lines)
    assert dnslab.soa_serial(zone) == serial


def test_without_a_terminal_yes_is_required(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    result = cli("domains", "publish", domain, "--provider", "rfc2136")
    assert result.exit_code == 2
    assert "--yes required when not running interactively." in result.stderr
    assert dnslab.rdatas(domain, "TXT") == []


def test_wrong_tsig_secret_exits_6_and_changes_nothing(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    serial = dnslab.soa_serial(zone)
    wrong = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1zZWNyZXQtMDEyMzQ1Njc4OQ=="
    result = cli("--debug", "domains", "publish", domain, "--provider", "rfc2136", "--yes",
                 env={"STACKSHIFT_RFC2136_KEY_SECRET": wrong})
    assert result.exit_code == 6, result.stderr
    assert "refused the TSIG key" in result.stderr and "Nothing was written." in result.stderr
    assert wrong not in result.stdout + result.stderr and dnslab.tsig_secret not in result.stdout + result.stderr
    assert dnslab.soa_serial(zone) == serial


def test_unsigned_updates_are_refused_with_exit_6(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    result = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes",
                 env={"STACKSHIFT_RFC2136_KEY_NAME": "", "STACKSHIFT_RFC2136_KEY_SECRET": ""})
    assert result.exit_code == 6 and "REFUSED" in result.stderr


def test_no_provider_names_the_guess_or_the_choices(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    result = cli("domains", "publish", domain, "--yes")
    assert result.exit_code == 2 and "--provider" in result.stderr and "No DNS provider chosen" in result.stderr


def test_update_refused_on_the_third_change_keeps_the_first_two_journalled(cli, dnslab, fresh_tsig_deny_zone,
                                                                            isolated_env):
    zone = fresh_tsig_deny_zone
    created(cli, zone)
    result, plan = publish_json(cli, zone, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 6, result.stderr
    assert f"_dmarc.{zone}" in result.stderr and "2 of 4 changes were applied" in result.stderr
    assert plan["applied"] is False and plan["appliedChanges"] == 2
    assert dnslab.rdatas(f"stackshift._domainkey.{zone}", "TXT") and dnslab.rdatas(zone, "TXT")
    assert dnslab.rdatas(f"bounces.{zone}", "CNAME") == []  # the fourth was never sent
    states = journal_states(isolated_env)
    assert states == ["applied", "applied", "failed", "failed"]
    assert cli("domains", "unpublish", zone, "--yes").exit_code == 0
    assert dnslab.rdatas(zone, "TXT") == [] and dnslab.rdatas(f"stackshift._domainkey.{zone}", "TXT") == []


def journal_states(isolated_env: Path) -> list[str]:
    store = isolated_env / "data" / "stackshift.db"
    with sqlite3.connect(store) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM publish_journal ORDER BY id")]


def test_a_record_changed_between_plan_and_apply_fails_the_update_and_a_rerun_completes(cli, dnslab, zone,
                                                                                         isolated_env):
    from stackshift_cli.config import Settings
    from stackshift_cli.errors import PrerequisiteFailed
    from stackshift_cli.output import Ui
    from stackshift_cli.backends.local import LocalBackend
    from stackshift_cli.publish import service

    domain = f"mail.{zone}"
    created(cli, domain)
    env = lab_env(dnslab)
    for key, value in env.items():
        os.environ[key] = value
    try:
        settings = Settings("default", overrides={"dns.timeout": "1s"})
        backend = LocalBackend(settings)
        record = backend.get(domain)
        target = service.open_target(settings, domain, "rfc2136", [dnslab.resolver])
        plan = service.make_plan(record, target, settings, replace=False)
        assert [c.action for c in plan.changes] == ["create"] * 4
        dnslab.publish(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=quarantine")  # someone else, in between
        with pytest.raises(PrerequisiteFailed) as raised:
            service.apply(plan, target, backend.journal(), record, Ui(quiet=True))
        assert "changed" in raised.value.message and "2 of 4 changes were applied" in raised.value.message
        target.close()
        backend.close()
    finally:
        for key in env:
            os.environ.pop(key, None)
    assert [r.to_text() for r in dnslab.rdatas(f"_dmarc.{domain}", "TXT")] == ['"v=DMARC1; p=quarantine"']
    assert journal_states(isolated_env) == ["applied", "applied", "failed", "failed"]
    again, plan = publish_json(cli, domain, "--yes")
    assert again.exit_code == 0, again.stderr
    assert [c["action"] for c in plan["changes"]] == ["keep", "keep", "keep", "create"]
    assert cli("domains", "verify", domain).exit_code == 0


def test_unpublish_leaves_a_record_changed_since_alone(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    assert publish_json(cli, domain, "--provider", "rfc2136", "--yes")[0].exit_code == 0
    dnslab.replace(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=reject")
    result = cli("domains", "unpublish", domain, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    actions = {c["name"]: c["action"] for c in json.loads(result.stdout)["changes"]}
    assert actions[f"_dmarc.{domain}"] == "left" and actions[domain] == "delete"
    assert "Left alone TXT at _dmarc." in result.stderr
    assert [r.to_text() for r in dnslab.rdatas(f"_dmarc.{domain}", "TXT")] == ['"v=DMARC1; p=reject"']
    assert dnslab.rdatas(domain, "TXT") == []
    again = cli("domains", "unpublish", domain, "--yes")
    assert again.exit_code == 0 and "nothing" in again.stderr


def test_delete_names_unpublish_which_still_works_after_it(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    assert publish_json(cli, domain, "--provider", "rfc2136", "--yes")[0].exit_code == 0
    deleted = cli("domains", "delete", domain, "--yes")
    assert deleted.exit_code == 0 and f"stackshift domains unpublish {domain}" in deleted.stderr
    assert dnslab.rdatas(domain, "TXT")  # delete never touches DNS
    undo = cli("domains", "unpublish", domain, "--yes")
    assert undo.exit_code == 0, undo.stderr
    assert dnslab.rdatas(domain, "TXT") == []


def test_new_user_walkthrough_create_publish_wait_on_a_terminal(dnslab, zone, isolated_env):
    """`create --publish --provider rfc2136 --wait` from nothing to verified, the plan shown before any write."""
    env = {**lab_env(dnslab), "STACKSHIFT_DNS_TIMEOUT": "1s"}
    code, screen = run_on_pty("domains", "create", zone, "--publish", "--provider", "rfc2136", "--wait",
                              "--interval", "1s", "--timeout", "2m", env=env, input=b"y\n", columns=160)
    assert code == 0, screen
    plan_at = screen.index("Plan for")
    assert plan_at < screen.index("Write 4 changes") < screen.index("Created TXT at")
    assert "verified" in screen[screen.index("Published 4 changes"):]


def test_ctrl_c_during_apply_leaves_a_consistent_journal(dnslab, zone, isolated_env):
    """SIGINT while updates are being sent (through a slow proxy): exit 130, every row marked applied is in the
    zone, a re-run completes the rest, and unpublish restores the zone exactly. The TSIG secret is in no argv."""
    env = {**os.environ, **lab_env(dnslab), "STACKSHIFT_DNS_TIMEOUT": "1s"}
    proxy = dnslab.start_delay_proxy(delay_ms=250)
    env["STACKSHIFT_RFC2136_SERVER"] = proxy.address[0]
    before = axfr(dnslab, zone)
    run = [*stackshift_command(), "domains"]
    assert subprocess.run([*run, "create", zone], env=env, capture_output=True).returncode == 0
    proc = subprocess.Popen([*run, "publish", zone, "--provider", "rfc2136", "--yes"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert dnslab.tsig_secret.encode() not in cmdline
        deadline = time.monotonic() + 60
        while "applied" not in journal_states_when_there(isolated_env) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proxy.stop()
    assert proc.returncode == 130, err
    assert dnslab.tsig_secret not in out + err
    store = isolated_env / "data" / "stackshift.db"
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT name, added, state FROM publish_journal ORDER BY id").fetchall()
    assert rows and {state for _, _, state in rows} <= {"applied", "planned", "failed"}
    for name, added, state in rows:
        values = {r["value"] for r in json.loads(added)}
        there = {rd.to_text().strip('"').replace('" "', "") for t in ("TXT", "CNAME")
                 for rd in dnslab.rdatas(name, t)}
        there |= {v.rstrip(".") for v in there}
        if state == "applied":
            assert values <= there, (name, state)
    env.pop("STACKSHIFT_RFC2136_SERVER")
    again = subprocess.run([*run, "publish", zone, "--yes"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert subprocess.run([*run, "verify", zone], env=env, capture_output=True).returncode == 0
    undo = subprocess.run([*run, "unpublish", zone, "--yes"], env=env, capture_output=True, text=True)
    assert undo.returncode == 0, undo.stderr
    assert axfr(dnslab, zone) == before


def journal_states_when_there(isolated_env: Path) -> list[str]:
    try:
        return journal_states(isolated_env)
    except sqlite3.Error:
        return []


def test_spf_merge_over_the_lookup_limit_is_a_conflict_and_nothing_is_written(cli, dnslab, zone):
    includes = []
    for i in range(5):  # each include costs 2 lookups (itself and its a: term): 10, and ours would make 11
        dnslab.publish(f"s{i}.{zone}", "TXT", f"v=spf1 a:h{i}.{zone} ~all")
        dnslab.publish(f"h{i}.{zone}", "A", "198.51.100.1")
        includes.append(f"include:s{i}.{zone}")
    dnslab.publish(zone, "TXT", "v=spf1 " + " ".join(includes) + " ~all")
    created(cli, zone)
    serial = dnslab.soa_serial(zone)
    result, plan = publish_json(cli, zone, "--provider", "rfc2136", "--yes", "--replace")
    assert result.exit_code == 7, result.stderr
    spf = next(c for c in plan["conflicts"] if c["purpose"] == "spf")
    assert "11 DNS lookups" in spf["reason"] and f"include:s0.{zone} (2 lookups)" in spf["reason"]
    assert dnslab.soa_serial(zone) == serial


def test_a_dkim_selector_taken_by_another_key_is_a_conflict_replace_overrides_unpublish_restores(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    other = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDotherkeyotherkey"
    dnslab.publish(f"stackshift._domainkey.{domain}", "TXT", other)
    result, plan = publish_json(cli, domain, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 7 and "another system signs" in plan["conflicts"][0]["reason"]
    replaced = cli("--debug", "domains", "publish", domain, "--provider", "rfc2136", "--yes", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert "debug: rfc2136" in replaced.stderr and dnslab.tsig_secret not in replaced.stderr
    assert cli("domains", "verify", domain).exit_code == 0
    assert cli("domains", "unpublish", domain, "--yes").exit_code == 0
    restored = ["".join(s.decode() for s in rd.strings) for rd in dnslab.rdatas(f"stackshift._domainkey.{domain}",
                                                                                  "TXT")]
    assert restored == [other]


def test_on_the_api_backend_the_journal_is_a_private_file_and_unpublish_undoes(dnslab, zone, api_server, isolated_env,
                                                                                config_dir):
    from tests.helpers import Cli

    cli = Cli({**lab_env(dnslab), **api_server.env()})
    assert cli("config", "set", "dns.timeout", "1s").exit_code == 0
    domain = f"mail.{zone}"
    assert cli("domains", "create", domain).exit_code == 0
    result, plan = publish_json(cli, domain, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 0, result.stderr
    assert api_server.key not in result.stdout + result.stderr
    journal = isolated_env / "data" / "publish-journal.db"
    assert journal.stat().st_mode & 0o777 == 0o600
    assert dnslab.rdatas(domain, "TXT")
    undo = cli("domains", "unpublish", domain, "--yes")
    assert undo.exit_code == 0, undo.stderr
    assert dnslab.rdatas(domain, "TXT") == [] and dnslab.rdatas(f"bounces.{domain}", "CNAME") == []


def test_a_server_that_is_not_authoritative_is_refused_before_any_write(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    # the lab's root server answers, but with a referral: it is not the zone's primary
    result = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes",
                 env={"STACKSHIFT_RFC2136_SERVER": dnslab.root_addr})
    assert result.exit_code == 1 and "not authoritative for" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2 and "SOA MNAME" in result.stderr  # one line, and the hint
    resolver, port = dnslab.resolver.split(":")  # a resolver refuses to answer without recursion
    refused = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes",
                  env={"STACKSHIFT_RFC2136_SERVER": resolver, "STACKSHIFT_RFC2136_PORT": port})
    assert refused.exit_code == 1 and "REFUSED" in refused.stderr and "SOA MNAME" in refused.stderr
    assert dnslab.rdatas(domain, "TXT") == []


def test_a_silent_server_is_a_timeout_naming_it(cli, dnslab, zone):
    domain = f"mail.{zone}"
    created(cli, domain)
    assert cli("config", "set", "publish.timeout", "1s").exit_code == 0
    result = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes",
                 env={"STACKSHIFT_RFC2136_SERVER": dnslab.blackhole_addr})
    assert result.exit_code == 1 and "did not answer within 1s" in result.stderr
    assert dnslab.blackhole_addr in result.stderr
