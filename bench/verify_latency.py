"""How long `verify` takes on a correctly published domain when every DNS answer is slow.

Starts the test DNS lab (loopback only; needs BIND 9 and Unbound, see ./scripts/test), puts a DelayProxy
that adds DELAY ms to every answer in front of the zone's authoritative server (the lab's `slow.test`
zone: its only NS is the proxy), publishes a correct record set, and times check_domain() against the
number of DNS queries it sent. Checks run concurrently, so the time is a few round trips along the
longest chain (zone discovery -> authoritative answers, or SPF record -> include), not the sum of them.

    python bench/verify_latency.py [--delay-ms 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stackshift_cli.config import Settings  # noqa: E402
from stackshift_cli.domain import Domain  # noqa: E402
from stackshift_cli.keys import generate_dkim_keypair  # noqa: E402
from stackshift_cli.records import SendingProfile, build_records  # noqa: E402
from stackshift_cli.verify import check_domain  # noqa: E402
from tests.dnslab import DnsLab  # noqa: E402

DOMAIN = "slow.test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with DnsLab.start() as lab:
        lab.slow_proxy.delay_ms = args.delay_ms
        records = build_records(DOMAIN, selector="stackshift", public_key_b64=generate_dkim_keypair()[1],
                                inbound=True, profile=SendingProfile())
        for r in records:
            value = f"{r.priority} {r.value}." if r.type == "MX" else (r.value + "." if r.type == "CNAME" else r.value)
            lab.publish(r.name, r.type, value)
        settings = Settings("default", overrides={"dns.nameservers": [lab.resolver],
                                                  "dns.authoritative_port": lab.port, "dns.timeout": "5s"})
        domain = Domain(id="dom_bench", name=DOMAIN, records=tuple(records))
        timings = []
        for _ in range(args.runs):
            lab.flush_resolver()  # every run starts cold: each resolver answer costs the delay too
            before = lab.slow_proxy.queries
            started = time.perf_counter()
            checked = check_domain(domain, settings)
            timings.append(time.perf_counter() - started)
            queries = lab.slow_proxy.queries - before
            assert checked.status == "verified", [(r.name, r.status, r.explanation) for r in checked.records]
        delay = args.delay_ms / 1000
        best = min(timings)
        print(f"delay added to every answer of {DOMAIN}'s server: {args.delay_ms:.0f} ms")
        print(f"queries that reached the slow server per check: {queries} "
              f"(sequentially they would take {queries * delay:.2f} s)")
        print(f"check_domain: best {best:.3f} s, median {statistics.median(timings):.3f} s "
              f"= {best / delay:.1f} delays (all records verified)")
        print(f"CLI start-up (stackshift --version): {_startup():.3f} s")


def _startup() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stackshift_cli", "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
