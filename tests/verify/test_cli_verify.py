"""`stackshift domains verify` end to end: the real CLI, the local store, and the DNS lab."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time

from tests.helpers import run_process, stackshift_command
from tests.verify.conftest import publish

from stackshift_cli.domain import DnsRecord


def create(cli, name: str) -> list[DnsRecord]:
    result = cli("domains", "create", name, "--json")
    assert result.exit_code == 0, result.stderr
    return [DnsRecord.from_json(r) for r in result.json()["records"]]


def lab_env(dnslab, isolated_env) -> dict[str, str]:
    return {"STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": dnslab.resolver,
            "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port), "STACKSHIFT_DATA_DIR": str(isolated_env / "data"),
            "STACKSHIFT_CONFIG_DIR": str(isolated_env / "config")}


def test_verified_domain_exits_0_and_stores_the_verdicts(dnslab, zone, lab_cli):
    for record in create(lab_cli, zone):
        publish(dnslab, record)
    result = lab_cli("domains", "verify", zone, "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["status"] == "verified" and data["dkimStatus"] == "verified" and data["lastCheckedAt"]
    shown = lab_cli("domains", "show", zone, "--json").json()
    assert shown["status"] == "verified" and shown["lastCheckedAt"] == data["lastCheckedAt"]


def test_missing_records_exit_4_with_explanations(zone, lab_cli):
    create(lab_cli, zone)
    result = lab_cli("domains", "verify", zone)
    assert result.exit_code == 4
    assert f"{zone}\tpending" in result.stdout
    assert "_dmarc\tTXT\tmissing\tNo DMARC record" in result.stdout


def test_a_failed_record_exits_3(dnslab, zone, lab_cli):
    create(lab_cli, zone)
    dnslab.publish(zone, "TXT", "v=spf1 -all")
    result = lab_cli("domains", "verify", zone, "--json")
    assert result.exit_code == 3
    assert result.json()["spfStatus"] == "failed"


def test_a_record_still_missing_after_the_window_fails_the_domain(dnslab, zone, lab_cli):
    records = create(lab_cli, zone)
    for record in records[:-1]:
        publish(dnslab, record)
    assert lab_cli("domains", "verify", zone).exit_code == 4  # inside the 72h window: pending
    assert lab_cli("config", "set", "verify.window", "1s").exit_code == 0
    time.sleep(1.1)
    result = lab_cli("domains", "verify", zone, "--json")
    assert result.exit_code == 3
    data = result.json()
    assert data["status"] == "failed" and data["returnPathStatus"] == "missing" and data["spfStatus"] == "verified"


def test_all_checks_every_domain_and_exits_with_the_worst(dnslab, zone, lab_cli):
    for record in create(lab_cli, zone):
        publish(dnslab, record)
    create(lab_cli, f"sub.{zone}")
    dnslab.publish(f"sub.{zone}", "TXT", "v=spf1 -all")
    result = lab_cli("domains", "verify", "--all", "--json")
    assert result.exit_code == 3
    assert {d["name"]: d["status"] for d in result.json()} == {zone: "verified", f"sub.{zone}": "failed"}


def test_an_unexpected_error_in_one_domain_is_reported_on_it_and_the_others_are_still_checked(
        dnslab, zone, lab_cli, monkeypatch):
    from stackshift_cli.backends.local import LocalBackend

    for record in create(lab_cli, zone):
        publish(dnslab, record)
    broken = f"broken.{zone}"
    create(lab_cli, broken)
    create(lab_cli, f"other.{zone}")
    real_check = LocalBackend.check_async

    async def check(self, domain, session):
        if domain.name == broken:
            raise RuntimeError("injected failure")
        return await real_check(self, domain, session)

    monkeypatch.setattr(LocalBackend, "check_async", check)
    result = lab_cli("domains", "verify", "--all", "--json")
    assert result.exit_code == 1
    by_name = {d["name"]: d for d in result.json()}
    assert by_name[zone]["status"] == "verified" and by_name[zone]["lastCheckedAt"]
    assert by_name[f"other.{zone}"]["status"] == "pending" and by_name[f"other.{zone}"]["lastCheckedAt"]
    failed = by_name[broken]
    assert failed["status"] == "pending" and failed["lastCheckedAt"] is None  # unchanged, nothing stored
    assert "RuntimeError: injected failure" in failed["checkError"]
    assert all("Not checked" in r["explanation"] and "injected failure" in r["explanation"] for r in failed["records"])
    assert result.stderr.count(f"Error: {broken} could not be checked") == 1
    assert "Traceback" not in result.stderr
    stored = lab_cli("domains", "list", "--json").json()
    assert {d["name"]: d["lastCheckedAt"] is not None for d in stored} == {
        zone: True, broken: False, f"other.{zone}": True}


def test_a_domain_deleted_by_another_process_while_verify_all_checks_it_is_skipped(dnslab, zone, lab_cli, monkeypatch,
                                                                                   isolated_env):
    from stackshift_cli.backends.local import LocalBackend

    for record in create(lab_cli, zone):
        publish(dnslab, record)
    doomed = f"doomed.{zone}"
    doomed_id = lab_cli("domains", "create", doomed, "--json").json()["id"]
    create(lab_cli, f"other.{zone}")
    real_check = LocalBackend.check_async
    deletions = []

    async def check(self, domain, session):
        checked = await real_check(self, domain, session)
        if domain.name == doomed:  # deleted by another stackshift while this one checks it
            deletions.append(run_process("domains", "delete", doomed, "--yes", env=lab_env(dnslab, isolated_env)))
        return checked

    monkeypatch.setattr(LocalBackend, "check_async", check)
    result = lab_cli("domains", "verify", "--all", "--json")
    assert [d.exit_code for d in deletions] == [0]
    assert result.exit_code == 4, result.stderr  # the others' verdicts: verified and pending
    assert {d["name"]: d["status"] for d in result.json()} == {zone: "verified", f"other.{zone}": "pending"}
    assert result.stderr == f"Warning: {doomed} ({doomed_id}) was deleted while it was being checked; skipped.\n"
    stored = lab_cli("domains", "list", "--json").json()
    assert {d["name"]: bool(d["lastCheckedAt"]) for d in stored} == {zone: True, f"other.{zone}": True}


def test_a_domain_deleted_while_verify_all_waits_is_not_checked_again(dnslab, zone, lab_cli, monkeypatch,
                                                                       isolated_env):
    """The other domain's records are published once its first check is done, so its re-check verifies and ends
    the run: the test counts rounds, not seconds. (With a 3 s --timeout and nothing published, a first round slowed
    by the `delete` process on a loaded machine could leave no time for any re-check.)"""
    from stackshift_cli.backends.local import LocalBackend

    records = create(lab_cli, zone)
    doomed = f"doomed.{zone}"
    create(lab_cli, doomed)
    real_check = LocalBackend.check_async
    checked_names: list[str] = []

    async def check(self, domain, session):
        checked_names.append(domain.name)
        checked = await real_check(self, domain, session)
        if domain.name == doomed:
            assert run_process("domains", "delete", doomed, "--yes", env=lab_env(dnslab, isolated_env)).exit_code == 0
        elif checked_names.count(zone) == 1:
            for record in records:
                publish(dnslab, record)
        return checked

    monkeypatch.setattr(LocalBackend, "check_async", check)
    result = lab_cli("domains", "verify", "--all", "--wait", "--interval", "1s", "--timeout", "60s")
    assert result.exit_code == 0, result.stderr
    assert checked_names.count(doomed) == 1 and checked_names.count(zone) == 2
    assert result.stderr.count("was deleted while it was being checked; skipped.") == 1
    assert f"{zone}\tverified" in result.stdout and doomed not in result.stdout


def test_api_a_domain_deleted_while_verify_all_checks_it_is_skipped(api_server, monkeypatch):
    """On the API backend the check itself meets the deletion: POST /verify answers 404."""
    from stackshift_cli.backends.api import ApiBackend
    from tests.helpers import Cli

    cli = Cli(api_server.env())
    doomed = cli("domains", "create", "doomed.example.com", "--json").json()["id"]
    assert cli("domains", "create", "kept.example.com").exit_code == 0
    api_server.verdicts = [{p: ("verified", None) for p in ("spf", "dkim", "dmarc", "returnPath")}]
    real_check = ApiBackend.check

    def check(self, domain, **options):
        if domain.id == doomed:  # another process deletes it through the API first
            assert run_process("domains", "delete", domain.id, "--yes", env=api_server.env()).exit_code == 0
        return real_check(self, domain, **options)

    monkeypatch.setattr(ApiBackend, "check", check)
    result = cli("domains", "verify", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    assert [(d["name"], d["status"]) for d in result.json()] == [("kept.example.com", "verified")]
    assert result.stderr == (f"Warning: doomed.example.com ({doomed}) was deleted while it was being checked; "
                             "skipped.\n")
    assert [r.status for r in api_server.requests_to("POST", f"/mail/domains/{doomed}/verify")] == [404]


def test_verify_all_checks_every_domain_when_one_publishes_a_name_dns_cannot_carry(dnslab, zone, lab_cli):
    for record in create(lab_cli, zone):
        publish(dnslab, record)
    bad = f"bad.{zone}"
    create(lab_cli, bad)
    dnslab.publish(bad, "TXT", "v=spf1 include:a..b.example include:spf.stackshift.email ~all")
    result = lab_cli("domains", "verify", "--all", "--json")
    assert result.exit_code == 3, result.stderr
    by_name = {d["name"]: d for d in result.json()}
    assert by_name[zone]["status"] == "verified"
    assert by_name[bad]["spfStatus"] == "failed"
    spf = next(r for r in by_name[bad]["records"] if r["purpose"] == "spf")
    assert "not a valid DNS name" in spf["explanation"] and "Internal error" not in result.stderr


def test_show_prints_the_bulk_sender_requirements_after_a_check(dnslab, zone, lab_cli):
    for record in create(lab_cli, zone):
        if record.purpose != "dmarc":
            publish(dnslab, record)
    dnslab.publish(f"_dmarc.{zone}", "TXT", "v=DMARC1; p=none; aspf=s")
    assert lab_cli("domains", "verify", zone).exit_code == 0
    lines = dict(line.split("\t", 1) for line in lab_cli("domains", "show", zone).stdout.splitlines()
                 if line.startswith("requirement."))
    assert list(lines) == ["requirement.spf", "requirement.dkim", "requirement.dmarc", "requirement.alignment"]
    assert all(value.startswith("yes: ") for value in lines.values())
    assert f"p=none from _dmarc.{zone}" in lines["requirement.dmarc"]
    assert "SPF cannot align: aspf=s" in lines["requirement.alignment"]
    shown = lab_cli("domains", "show", zone, "--json").json()["bulkSenderRequirements"]
    assert [(r["requirement"], r["met"]) for r in shown] == [
        ("spf", True), ("dkim", True), ("dmarc", True), ("alignment", True)]


def test_nameserver_option_overrides_the_environment(dnslab, zone, lab_cli):
    create(lab_cli, zone)
    result = lab_cli("domains", "verify", zone, "--json", "--nameserver", f"{dnslab.servfail_addr}:{dnslab.port}",
                     env={"STACKSHIFT_NAMESERVERS": "127.0.0.1:9"})
    assert result.exit_code == 4
    assert "SERVFAIL from" in result.json()["records"][0]["explanation"]


def test_disabled_domains_are_never_changed(dnslab, zone, lab_cli, data_dir):
    create(lab_cli, zone)
    with sqlite3.connect(data_dir / "stackshift.db") as db:
        db.execute("UPDATE domains SET status = 'disabled'")
    result = lab_cli("domains", "verify", zone)
    assert result.exit_code == 1 and "disabled" in result.stderr
    result = lab_cli("domains", "verify", "--all")
    assert result.exit_code == 0 and "disabled" in result.stderr
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


def test_fail_fast_stops_at_the_first_failed_verdict(dnslab, zone, lab_cli):
    """The Runner's fail-fast is proved on a fake clock (test_wait_schedule). Here the interval is 30 s: a run that
    waited for even one re-check cannot end sooner, while one check on the lab (well under a second, a few seconds
    on 2 busy cores) leaves a margin that cannot flake."""
    create(lab_cli, zone)
    dnslab.publish(zone, "TXT", "v=spf1 -all")
    started = time.monotonic()
    result = lab_cli("domains", "verify", zone, "--wait", "--fail-fast", "--interval", "30s", "--timeout", "45s")
    assert result.exit_code == 3 and time.monotonic() - started < 30
    assert "--fail-fast" in result.stderr


def test_wait_gives_up_at_the_timeout_with_exit_4(zone, lab_cli):
    """The exact time-out (the run ends at the deadline, no re-check starts that cannot finish) is proved on a fake
    clock (test_wait_schedule). Here: never before --timeout, and not a check time limit (10 s) after it; the
    8 s margin is for the last check and the output on 2 busy cores."""
    create(lab_cli, zone)
    started = time.monotonic()
    result = lab_cli("domains", "verify", zone, "--wait", "--interval", "1s", "--timeout", "2s")
    assert result.exit_code == 4 and 2 <= time.monotonic() - started < 2 + 8
    assert "Gave up waiting after 2s" in result.stderr


def test_wait_ends_within_one_interval_of_the_last_record_being_published(dnslab, zone, lab_cli, isolated_env):
    """End to end: the real process, waiting, finds the record published meanwhile (exit 0, not the --timeout's
    exit 4) and ends soon after. How soon is proved on a fake clock (test_wait_schedule: the first check after the
    publish ends the run, at most the delay in force later; 1 * 1.5**2 * 1.2 s for a publish 2.5 s in). On a
    loaded machine the wall clock adds a check in progress, the check that finds the record and the process exit,
    each up to seconds on 2 busy cores: hence 10 s of slack. Still far below the --timeout (60 s) and the longest
    delay (60 s), so a run that missed the publish, backed off to the maximum or gave up cannot pass."""
    records = create(lab_cli, zone)
    for record in records[:-1]:
        publish(dnslab, record)
    published_at: list[float] = []

    def publish_last() -> None:
        time.sleep(2.5)
        publish(dnslab, records[-1])
        published_at.append(time.monotonic())

    publisher = threading.Thread(target=publish_last)
    publisher.start()
    result = run_process("domains", "verify", zone, "--wait", "--interval", "1s", "--timeout", "60s",
                         env=lab_env(dnslab, isolated_env))
    ended = time.monotonic()
    publisher.join()
    assert result.exit_code == 0, result.stderr
    assert ended - published_at[0] < 1 * 1.5 ** 2 * 1.2 + 10  # the delay in force (backed off, jittered) + slack
    # piped: one stderr line per status change, and the final verdict on stdout
    assert f"{zone}: Return-path CNAME bounces.{zone}: missing -> verified" in result.stderr
    assert f"{zone}\tverified" in result.stdout


def test_ctrl_c_exits_130_and_keeps_what_was_checked(zone, lab_cli, isolated_env, dnslab):
    create(lab_cli, zone)
    proc = subprocess.Popen([*stackshift_command(), "domains", "verify", zone, "--wait", "--interval", "30s"],
                            env={**os.environ, **lab_env(dnslab, isolated_env)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is not None


def test_wait_on_a_terminal_shows_a_live_table_with_the_time_to_the_next_check(zone, lab_cli, isolated_env, dnslab):
    from tests.helpers import run_on_pty

    create(lab_cli, zone)
    code, screen = run_on_pty("domains", "verify", zone, "--wait", "--interval", "1s", "--timeout", "3s",
                              env=lab_env(dnslab, isolated_env), columns=160)
    assert code == 4
    assert "Next check in" in screen and "DKIM TXT stackshift._domainkey." in screen
    assert "Gave up waiting after 3s" in screen
