"""verify --all across cores (verify/processes.py): the same report, byte for byte, as in one process, every
verdict stored, and an interrupt or a failing worker handled as in one process."""

from __future__ import annotations

import json

import pytest

import stackshift_cli.services as services
from stackshift_cli.verify import processes


@pytest.fixture
def many(lab_cli, dnslab, zone):
    """Twelve domains of the lab zone: eight with their records published as `create` printed them, four with
    nothing published."""
    from types import SimpleNamespace

    from tests.verify.conftest import publish

    names = [f"d{i}.{zone}" for i in range(12)]
    for name in names:
        assert lab_cli("domains", "create", name).exit_code == 0
    for name in names[:8]:
        for record in json.loads(lab_cli("domains", "records", name, "--json").stdout):
            publish(dnslab, SimpleNamespace(**record))
    return names


@pytest.fixture
def two_workers(monkeypatch):
    """verify --all checks in two worker processes, whatever the number of domains and of cores."""
    monkeypatch.setattr(services, "PROCESSES_FROM", 1)
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The number of workers each ProcessWorkers of the run was made with, in order."""
    made: list[int] = []
    real = processes.ProcessWorkers.__init__

    def counting(self, size, count, *args, **kwargs):
        made.append(count)
        real(self, size, count, *args, **kwargs)

    monkeypatch.setattr(processes.ProcessWorkers, "__init__", counting)
    return made


def broken_check(monkeypatch, name: str, fault) -> None:
    """The local backend's check of `name` runs `fault()` instead (in the worker that checks it)."""
    from stackshift_cli.backends.local import LocalBackend

    real = LocalBackend.check_async

    async def check(self, domain, session):
        if domain.name == name:
            fault()
        return await real(self, domain, session)

    monkeypatch.setattr(LocalBackend, "check_async", check)


def report(lab_cli, *args: str):
    result = lab_cli("domains", "verify", "--all", *args)
    return result.exit_code, result.stdout


def mask(text: str) -> list[dict]:
    return [{**item, "lastCheckedAt": None} for item in json.loads(text)]


def test_a_run_in_worker_processes_reports_what_one_process_reports(lab_cli, many, monkeypatch, forks):
    single = report(lab_cli, "--json")
    assert forks == []
    monkeypatch.setattr(services, "PROCESSES_FROM", 1)
    monkeypatch.setattr(processes, "usable_cores", lambda: 3)
    spread = report(lab_cli, "--json")
    assert forks == [3], "the run did not use worker processes"
    assert spread[0] == single[0]
    assert mask(spread[1]) == mask(single[1])
    assert [d["status"] for d in json.loads(spread[1])] == ["verified"] * 8 + ["pending"] * 4
    stored = json.loads(lab_cli("domains", "list", "--json").stdout)
    assert [d["status"] for d in stored] == ["verified"] * 8 + ["pending"] * 4
    assert all(d["lastCheckedAt"] for d in stored)


def test_a_check_that_raises_in_a_worker_is_reported_on_its_domain_alone(lab_cli, many, monkeypatch, two_workers):
    def boom():
        raise ZeroDivisionError("boom")

    broken_check(monkeypatch, many[3], boom)
    code, out = report(lab_cli, "--json")
    items = json.loads(out)
    assert code == 1 and len(items) == 12
    failed = [d for d in items if d.get("checkError")]
    assert [d["name"] for d in failed] == [many[3]] and "ZeroDivisionError: boom" in failed[0]["checkError"]


def test_a_worker_that_dies_fails_its_checks_and_the_run_goes_on(lab_cli, many, monkeypatch, two_workers):
    import os

    broken_check(monkeypatch, many[5], lambda: os._exit(9))
    code, out = report(lab_cli, "--json")
    items = json.loads(out)
    assert code == 1 and len(items) == 12
    lost = [d["name"] for d in items if "worker process ended" in (d.get("checkError") or "")]
    assert many[5] in lost
    # the checks the dead worker had in flight are lost with it; every later one goes to the live worker
    assert [d["name"] for d in items if d["status"] == "verified"] == [n for n in many[:8] if n not in lost]


def test_wait_rechecks_in_the_workers_round_after_round(lab_cli, many, two_workers):
    """--wait with worker processes: each round starts in every worker; the pending domains are re-checked until
    the deadline, the verified ones are not, and the exit code is the one of one process (4: still pending)."""
    code, out = report(lab_cli, "--json", "--wait", "--timeout", "3s", "--interval", "1s")
    items = json.loads(out)
    assert code == 4
    assert [d["status"] for d in items] == ["verified"] * 8 + ["pending"] * 4


def test_concurrency_one_means_one_worker_at_most(lab_cli, many, two_workers, forks):
    """--concurrency bounds the queries in flight of the whole run: with 1 there is no second worker to add any."""
    code, out = report(lab_cli, "--json", "--concurrency", "1")
    assert forks == [] and len(json.loads(out)) == 12

