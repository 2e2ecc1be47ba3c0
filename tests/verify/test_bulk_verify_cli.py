"""`domains verify --all` in bulk, end to end on the local store and the DNS lab: --shard I/N, --concurrency N, and
the report streamed to a script (output.VerifyStream) compared with the one written at the end.

Usage errors exit 2 (errors.ExitCode.USAGE, README "Exit codes") with one line on stderr and check nothing.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3

import pytest

from stackshift_cli.domain import DnsRecord
from stackshift_cli.errors import ExitCode
from stackshift_cli.services import Shard
from stackshift_cli.verify import MAX_CONCURRENCY
from tests.helpers import run_process
from tests.verify.conftest import publish
from tests.dnslab.hostile import silent, under
from tests.verify.procs import finish, lab_env, start, wait_until

SHARDS = 3
TIMESTAMP = re.compile(r'"lastCheckedAt": "[^"]*"')


def create(cli, name: str) -> tuple[str, list[DnsRecord]]:
    result = cli("domains", "create", name, "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    return data["id"], [DnsRecord.from_json(r) for r in data["records"]]


def create_published(cli, dnslab, name: str) -> str:
    domain_id, records = create(cli, name)
    for record in records:
        publish(dnslab, record)
    return domain_id


def verdicts(report: list[dict]) -> list[tuple]:
    """What a check decided about each domain, without when it was made."""
    return [(d["name"], d["status"], tuple((r["host"], r["type"], r["status"], r["explanation"]) for r in d["records"]))
            for d in report]


@pytest.fixture
def several(dnslab, zone, lab_cli, data_dir) -> dict[str, str]:
    """Nine domains of one lab zone (one verified, one failed, the rest pending) and a disabled tenth: name -> id
    of those --all checks."""
    ids = {zone: create_published(lab_cli, dnslab, zone)}
    failed = f"failed.{zone}"
    ids[failed] = create(lab_cli, failed)[0]
    dnslab.publish(failed, "TXT", "v=spf1 -all")
    for n in range(1, 8):
        ids[f"d{n}.{zone}"] = create(lab_cli, f"d{n}.{zone}")[0]
    create(lab_cli, f"off.{zone}")
    with sqlite3.connect(data_dir / "stackshift.db") as db:
        db.execute("UPDATE domains SET status = 'disabled' WHERE name = ?", (f"off.{zone}",))
    return ids


def usage_error(result) -> str:
    """The one error line of a usage error (an errors.StackshiftError prints its message on one line, then its
    hint if it has one); checks the exit code and that nothing went to stdout."""
    assert result.exit_code == ExitCode.USAGE, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "Internal error" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2 and lines[0].startswith("Error: "), result.stderr
    assert not any(line.startswith("Error") for line in lines[1:]), result.stderr
    return lines[0]


# ---------------------------------------------------------------- --shard I/N


def test_the_shards_of_verify_all_partition_its_domains(several, lab_cli):
    whole = lab_cli("domains", "verify", "--all", "--json")
    assert whole.exit_code == ExitCode.VERIFICATION_FAILED, whole.stderr
    everything = [d["name"] for d in whole.json()]
    assert sorted(everything) == sorted(several)  # the disabled domain is in no shard, as in no --all
    seen: list[str] = []
    for index in range(SHARDS):
        part = lab_cli("domains", "verify", "--all", "--shard", f"{index}/{SHARDS}", "--json")
        assert part.exit_code in (ExitCode.OK, ExitCode.VERIFICATION_FAILED, ExitCode.VERIFICATION_PENDING), \
            part.stderr
        names = [d["name"] for d in part.json()]
        assert all(Shard(index, SHARDS).holds(several[name]) for name in names)  # the shard of the id
        assert names == [n for n in everything if n in names]  # in the order --all gives them
        seen += names
    assert sorted(seen) == sorted(everything)  # every domain once: the union, and disjoint
    assert len(seen) == len(set(seen))


def test_a_shard_of_one_is_every_domain(several, lab_cli):
    whole = lab_cli("domains", "verify", "--all", "--json")
    one = lab_cli("domains", "verify", "--all", "--shard", "0/1", "--json")
    assert one.exit_code == whole.exit_code
    assert [d["name"] for d in one.json()] == [d["name"] for d in whole.json()]


def test_an_empty_shard_checks_nothing_and_exits_0(several, lab_cli):
    count = 1_000_000  # nine ids cannot fill a million shards: find one they leave empty
    empty = next(i for i in range(count) if not any(Shard(i, count).holds(d) for d in several.values()))
    result = lab_cli("domains", "verify", "--all", "--shard", f"{empty}/{count}", "--json")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert result.json() == []
    stored = lab_cli("domains", "list", "--json").json()
    assert all(d["lastCheckedAt"] is None for d in stored)


def test_shard_without_all_is_a_usage_error(zone, lab_cli):
    create(lab_cli, zone)
    result = lab_cli("domains", "verify", zone, "--shard", "0/2")
    line = usage_error(result)
    assert result.stderr.strip() == line  # one line, no hint
    assert "--shard" in line and "--all" in line
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


@pytest.mark.parametrize("shard", ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3", "\uff11/2", "0/1000001"])
def test_an_invalid_shard_is_a_usage_error(shard, zone, lab_cli):
    create(lab_cli, zone)
    line = usage_error(lab_cli("domains", "verify", "--all", "--shard", shard))
    assert "--shard" in line
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


def test_a_shard_number_too_long_for_int_is_a_usage_error_not_an_internal_error(zone, lab_cli):
    create(lab_cli, zone)
    line = usage_error(lab_cli("domains", "verify", "--all", "--shard", "0/" + "9" * 5000))
    assert "--shard" in line


# ---------------------------------------------------------------- --concurrency N


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_CONCURRENCY + 1), "5000", "many"])
def test_concurrency_outside_1_to_max_concurrency_is_a_usage_error(value, zone, lab_cli, dnslab, isolated_env):
    """An option the parser refuses: the real executable (the console script turns the parser's error into one
    line and a hint; Typer's test runner would print its usage block instead)."""
    create(lab_cli, zone)
    result = run_process("domains", "verify", "--all", f"--concurrency={value}", env=lab_env(dnslab, isolated_env))
    line = usage_error(result)
    assert "--concurrency" in line
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


def test_concurrency_at_its_bounds_is_accepted(zone, lab_cli, dnslab):
    create_published(lab_cli, dnslab, zone)
    for value in ("1", str(MAX_CONCURRENCY)):
        result = lab_cli("domains", "verify", "--all", "--concurrency", value, "--json")
        assert result.exit_code == ExitCode.OK, result.stderr
        assert [d["status"] for d in result.json()] == ["verified"]


def test_concurrency_1_gives_the_verdicts_of_the_default(several, lab_cli):
    default = lab_cli("domains", "verify", "--all", "--json")
    one_at_a_time = lab_cli("domains", "verify", "--all", "--concurrency", "1", "--json")
    again = lab_cli("domains", "verify", "--all", "--json")
    assert one_at_a_time.exit_code == default.exit_code == ExitCode.VERIFICATION_FAILED, one_at_a_time.stderr
    assert verdicts(one_at_a_time.json()) == verdicts(default.json()) == verdicts(again.json())
    statuses = {d["name"]: d["status"] for d in default.json()}
    assert sorted(set(statuses.values())) == ["failed", "pending", "verified"]


# ---------------------------------------------------------------- the report streamed to a script


def test_the_streamed_json_report_is_the_report_written_at_the_end(dnslab, zone, lab_cli):
    """--all --json without --wait streams (VerifyStream); with --wait the report is written at the end
    (verify_report). With every domain verified both check once: the bytes are the same but for the times."""
    for name in (zone, f"a.{zone}", f"b.{zone}", f"c.{zone}"):
        create_published(lab_cli, dnslab, name)
    streamed = lab_cli("domains", "verify", "--all", "--json")
    at_the_end = lab_cli("domains", "verify", "--all", "--json", "--wait", "--timeout", "1m")
    assert streamed.exit_code == at_the_end.exit_code == ExitCode.OK, (streamed.stderr, at_the_end.stderr)
    assert len(streamed.json()) == 4
    assert TIMESTAMP.sub("T", streamed.stdout) == TIMESTAMP.sub("T", at_the_end.stdout)
    assert streamed.stdout.endswith("\n]\n")


def test_the_streamed_tab_separated_report_is_the_report_written_at_the_end(dnslab, zone, lab_cli):
    for name in (zone, f"a.{zone}", f"b.{zone}"):
        create_published(lab_cli, dnslab, name)
    streamed = lab_cli("domains", "verify", "--all")
    at_the_end = lab_cli("domains", "verify", "--all", "--wait", "--timeout", "1m")
    assert streamed.exit_code == at_the_end.exit_code == ExitCode.OK, (streamed.stderr, at_the_end.stderr)
    assert streamed.stdout == at_the_end.stdout
    assert [line.split("\t")[0] for line in streamed.stdout.split("\n\n")] == [zone, f"a.{zone}", f"b.{zone}"]


def test_the_streamed_report_keeps_the_order_of_the_domains_when_the_first_one_finishes_last(
        dnslab, zone, lab_cli):
    """mixed.test (one of its two name servers never answers: its check waits dns.timeout for it) is listed first
    and finishes after the others; the report still starts with it and then follows the listing's order."""
    create(lab_cli, "mixed.test")
    for n in range(1, 6):
        create(lab_cli, f"d{n}.{zone}")
    create_published(lab_cli, dnslab, zone)
    listed = [d["name"] for d in lab_cli("domains", "list", "--json").json()]
    assert listed[0] == "mixed.test"
    result = lab_cli("domains", "verify", "--all", "--json")
    assert result.exit_code == ExitCode.VERIFICATION_PENDING, result.stderr
    report = result.json()
    assert [d["name"] for d in report] == listed
    mixed = report[0]
    assert mixed["lastCheckedAt"] and any(dnslab.blackhole_addr in (r["explanation"] or "") for r in mixed["records"])
    assert json.loads(result.stdout) == report


def test_an_interrupted_streamed_report_is_a_complete_json_array_of_what_was_checked(
        dnslab, zone, lab_cli, hostile, isolated_env):
    """The first domain's check hangs (its resolver never answers for it); the ones after it are checked and held
    back behind it. Ctrl-C: they are written, in order, and the array is closed, so a script can still read it."""
    hung = "l1.l2.l3.l4.l5.l6.l7.l8.deep.test"
    hostile.rule(under("deep.test"), silent())
    create(lab_cli, hung)
    after = [f"d{n}.{zone}" for n in range(1, 4)]
    for name in after:
        create(lab_cli, name)
    assert lab_cli("config", "set", "dns.timeout", "5s").exit_code == 0
    proc = start("domains", "verify", "--all", "--json",
                 env=lab_env(dnslab, isolated_env, f"{hostile.address[0]}:{hostile.address[1]}"))

    def checked() -> set[str]:
        return {d["name"] for d in lab_cli("domains", "list", "--json").json() if d["lastCheckedAt"]}

    wait_until(lambda: checked() >= set(after), within=30, what="the domains after the hung one to be checked")
    assert hung not in checked()
    proc.send_signal(signal.SIGINT)
    ended = finish(proc, within=15)
    assert not ended.hung, ended.stderr
    assert ended.code == ExitCode.INTERRUPTED, ended.stderr
    report = json.loads(ended.stdout)
    assert [d["name"] for d in report] == after  # the hung one was never checked: not shown, as without streaming
    assert ended.stderr.rstrip().splitlines()[-1] == "Error: Interrupted."
