"""The benchmark still runs: `bench/run.py --quick` exits 0 and prints its tables, every verdict check passed.

A smoke test, not a benchmark: it asserts no performance number (the machine running the suite is busy with the
other tests). It needs what the bench needs (root for its own network namespace; BIND, Unbound, dnsdist and tcpdump,
which scripts/test installs; checkdmarc's venv, which the bench makes from the package registry the first time).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.shipping.conftest import ROOT, need

SECTIONS = (
    "== Start-up",
    "== One `domains create`",
    "== domains list",
    "== Bulk verify at D = 0 ms",
    "== Bulk verify at D = 20 ms",
    "== Single verify of a correct domain at D = 200 ms",
    "== Goals of issue 11",
    "== Verdict checks",
)


def test_the_quick_bench_runs_and_every_verdict_is_as_expected():
    need("dnsdist")  # installed by scripts/test (the bench would install them, but that is scripts/test's job)
    need("tcpdump")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKSHIFT_")}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    for heading in SECTIONS:
        assert heading in result.stdout, f"{heading!r} missing from the bench's output:\n{result.stdout}"
    assert "every verdict check passed" in result.stdout, result.stdout
    assert "CHECK FAILED" not in result.stdout and "FAIL " not in result.stdout, result.stdout
    # the bench checked the verdicts of bulk verify at both delays, and its baseline
    for what in ("verify --all, 100 domains, D = 0 ms", "verify --all, 100 domains, D = 20 ms",
                 "checkdmarc baseline", "single verify (warm resolver)"):
        assert f"ok   {what}" in result.stdout, f"no passed check for {what!r}:\n{result.stdout}"
