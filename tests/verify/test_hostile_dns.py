"""`verify` against hostile DNS servers on loopback: whatever a server or resolver answers, a run is bounded in time,
never crashes, and one signal stops it.

The hostile server (tests/dnslab/hostile.py) is the resolver of every run here: it answers the names a test gives it
rules for as the rules say and relays every other query to the lab resolver.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from stackshift_cli.domain import DnsRecord
from tests.dnslab.hostile import delegation, nodata, silent, truncated_then_closed, under
from tests.verify.conftest import publish
from tests.verify.procs import finish, lab_env, run, start, wait_until

DEEP = ".".join(f"l{i}" for i in range(1, 41)) + ".deep.test"  # 42 labels: discovery climbs one per timeout


def resolver_of(server) -> str:
    return f"{server.address[0]}:{server.address[1]}"


def create(lab_cli, name: str) -> None:
    result = lab_cli("domains", "create", name)
    assert result.exit_code == 0, result.stderr


def deep_silent(hostile, lab_cli) -> None:
    """DEEP exists in the store; the resolver never answers for it (dns.timeout 0.5s: each step of zone discovery
    waits that long, and there are 42 of them)."""
    hostile.rule(under("deep.test"), silent())
    create(lab_cli, DEEP)
    assert lab_cli("config", "set", "dns.timeout", "0.5s").exit_code == 0


def test_zone_discovery_cannot_loop_between_soa_owners_that_point_at_each_other(hostile, lab_cli, dnslab,
                                                                                 isolated_env):
    hostile.rule(under("x.soaloop.test"), nodata(soa_owner="soaloop.test"))
    hostile.rule(under("soaloop.test"), nodata(soa_owner="x.soaloop.test"))
    create(lab_cli, "soaloop.test")
    ended = run("domains", "verify", "soaloop.test", "--wait", "--timeout", "5s", "--interval", "1s",
                env=lab_env(dnslab, isolated_env, resolver_of(hostile)), within=15)
    assert not ended.hung, f"verify --wait --timeout 5s still ran after 15s: {ended.stderr}"
    assert ended.code == 4, ended.stderr
    assert "Gave up waiting after 5s" in ended.stderr and "Internal error" not in ended.stderr
    lines = ended.stdout.splitlines()
    assert lines[0].startswith("soaloop.test\tpending\t")
    # The loop was offered and refused: an SOA owner below the name is never followed, nor taken as the zone, so
    # discovery went up to the lab root, whose authoritative NXDOMAIN decides.
    assert hostile.received(under("soaloop.test", "NS")) and not hostile.received(under("x.soaloop.test", "NS"))
    assert [line.split("\t")[2] for line in lines[1:]] == ["missing"] * 4
    assert lines[1].startswith("@\tTXT\tmissing\tNo SPF record (TXT starting with v=spf1) at soaloop.test.")


def test_a_check_in_flight_ends_by_the_wait_deadline(hostile, lab_cli, dnslab, isolated_env):
    deep_silent(hostile, lab_cli)
    ended = run("domains", "verify", DEEP, "--wait", "--timeout", "3s", "--interval", "1s",
                env=lab_env(dnslab, isolated_env, resolver_of(hostile)), within=15)
    assert not ended.hung, f"a check ran past --timeout 3s for 15s: {ended.stderr}"
    assert ended.code == 4, ended.stderr
    assert "Gave up waiting after 3s" in ended.stderr
    records = [line.split("\t") for line in ended.stdout.splitlines()[1:]]
    assert len(records) == 4 and all(status == "pending" for _, _, status, _ in records)
    assert all("did not finish within" in why and f"{resolver_of(hostile)} for NS at" in why
               for _, _, _, why in records)


def test_a_check_without_wait_ends_within_ten_times_the_dns_timeout(hostile, lab_cli, dnslab, isolated_env):
    deep_silent(hostile, lab_cli)
    ended = run("domains", "verify", DEEP, "--json", env=lab_env(dnslab, isolated_env, resolver_of(hostile)),
                within=15)
    assert not ended.hung, f"one check ran for 15s with dns.timeout 0.5s: {ended.stderr}"
    assert ended.code == 4, ended.stderr
    records = json.loads(ended.stdout)["records"]
    assert {r["status"] for r in records} == {"pending"}
    assert all("did not finish within 5s" in r["explanation"] for r in records)
    assert ended.seconds >= 5  # the bound is the check's, not a shorter one


def stopped_by(sig: int, args: tuple[str, ...], hostile, env: dict[str, str]):
    """`stackshift *args` sent `sig` once its check hangs in the deep zone's discovery: how it ended, timed from the
    signal."""
    proc = start(*args, env=env)
    wait_until(lambda: hostile.received(under("deep.test", rd=True)), within=15, what="the check to start")
    time.sleep(0.5)  # well inside the hung zone discovery
    sent = time.monotonic()
    proc.send_signal(sig)
    return finish(proc, within=5, started=sent)


@pytest.mark.parametrize("args", [
    pytest.param(("domains", "verify", DEEP), id="verify"),
    pytest.param(("domains", "verify", DEEP, "--wait", "--interval", "1s"), id="wait"),
    pytest.param(("domains", "verify", "--all"), id="all"),
])
def test_one_ctrl_c_stops_a_hung_check_at_once(args, hostile, lab_cli, dnslab, isolated_env):
    deep_silent(hostile, lab_cli)
    create(lab_cli, f"m.{DEEP}")  # a second hung domain, for --all
    ended = stopped_by(signal.SIGINT, args, hostile, lab_env(dnslab, isolated_env, resolver_of(hostile)))
    assert not ended.hung, f"still running 5s after one Ctrl-C: {ended.stderr}"
    assert ended.code == 130, ended.stderr
    assert ended.stderr.rstrip().splitlines()[-1] == "Error: Interrupted."
    assert "Traceback" not in ended.stderr and "Internal error" not in ended.stderr


def test_sigterm_stops_a_hung_check_at_once_with_exit_143(hostile, lab_cli, dnslab, isolated_env):
    deep_silent(hostile, lab_cli)
    ended = stopped_by(signal.SIGTERM, ("domains", "verify", DEEP, "--wait"), hostile,
                       lab_env(dnslab, isolated_env, resolver_of(hostile)))
    assert not ended.hung, f"still running 5s after SIGTERM: {ended.stderr}"
    assert ended.code == 143, ended.stderr
    assert ended.stderr.rstrip().splitlines()[-1] == "Error: Terminated."
    assert ended.stdout.splitlines()[0].startswith(f"{DEEP}\tpending\t")  # the summary, as after Ctrl-C


def test_truncated_answers_whose_tcp_connection_closes_leave_records_pending_and_verify_all_goes_on(
        hostile, lab_cli, dnslab, zone, isolated_env):
    """TC=1 over UDP, then the TCP connection closed (dnspython: EOFError): from the only authoritative server of
    one domain, and from the resolver for another (its zone discovery included)."""
    server = f"{hostile.address[0]}:{hostile.address[1]}"
    hostile.rule(under("tc-auth.test", "NS", rd=True), delegation("tc-auth.test", "ns.tc-auth.test",
                                                                  hostile.address[0]))
    hostile.rule(under("tc-auth.test"), truncated_then_closed())
    hostile.rule(under(zone, rd=True), truncated_then_closed())  # the resolver, for every name of the lab zone
    create(lab_cli, "tc-auth.test")
    result = lab_cli("domains", "create", zone, "--json")
    for record in (DnsRecord.from_json(r) for r in result.json()["records"]):
        publish(dnslab, record)
    ended = run("domains", "verify", "--all", "--json", env=lab_env(dnslab, isolated_env, server), within=30)
    assert not ended.hung, ended.stderr
    assert ended.code == 4, ended.stderr
    assert "Internal error" not in ended.stderr and "could not be checked" not in ended.stderr
    by_name = {d["name"]: d for d in json.loads(ended.stdout)}
    problem = "a truncated answer over UDP, then the TCP connection closed without an answer"
    broken = by_name["tc-auth.test"]
    assert broken["status"] == "pending" and broken["lastCheckedAt"]
    for record in broken["records"]:
        assert record["status"] == "pending"
        assert f"{problem} (ns.tc-auth.test ({server}))" in record["explanation"]  # the authoritative server
        assert f"the resolver failed too ({problem} ({server}))" in record["explanation"]
    fine = by_name[zone]
    assert fine["status"] == "verified" and fine["lastCheckedAt"]
    assert all(f"The resolver could not answer ({problem} ({server}))" in r["explanation"] for r in fine["records"])
    assert hostile.received(under(zone, "NS", rd=True))  # zone discovery met it too, and went round it
    stored = {d["name"]: d["status"] for d in lab_cli("domains", "list", "--json").json()}
    assert stored == {"tc-auth.test": "pending", zone: "verified"}
