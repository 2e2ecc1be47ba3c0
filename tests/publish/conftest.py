"""Fixtures for the publish tests: the DNS lab (BIND with a TSIG key, PowerDNS), and the CLI pointed at them."""

from __future__ import annotations

import pytest

from tests.conftest_dnslab import dnslab, fresh_tsig_deny_zone, fresh_tsig_zone  # noqa: F401  (shared lab fixtures)
from tests.helpers import Cli

DNS_TIMEOUT = "1s"


def lab_env(lab) -> dict[str, str]:
    """The environment of a run against the lab: its resolver, its authoritative port, its TSIG key."""
    return {"STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": lab.resolver,
            "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(lab.port), "STACKSHIFT_RFC2136_PORT": str(lab.port),
            "STACKSHIFT_RFC2136_KEY_NAME": lab.tsig_key_name, "STACKSHIFT_RFC2136_KEY_SECRET": lab.tsig_secret}


@pytest.fixture
def cli(dnslab, config_dir) -> Cli:
    cli = Cli(lab_env(dnslab))
    assert cli("config", "set", "dns.timeout", DNS_TIMEOUT).exit_code == 0
    return cli


@pytest.fixture
def zone(fresh_tsig_zone) -> str:
    """An empty zone on ns1 that takes only updates signed with the lab's TSIG key."""
    return fresh_tsig_zone


def axfr(lab, zone: str) -> set[str]:
    """Every record of the zone (a zone transfer from ns1), the SOA aside (its serial changes with each update)."""
    import dns.query
    import dns.zone

    transferred = dns.zone.from_xfr(dns.query.xfr(lab.ns1_addr, zone, port=lab.port, timeout=5))
    lines = set()
    for name, node in transferred.nodes.items():
        for rdataset in node.rdatasets:
            if rdataset.rdtype.name == "SOA":
                continue
            for rdata in rdataset:
                lines.add(f"{name} {rdataset.ttl} {rdataset.rdtype.name} {rdata.to_text()}")
    return lines


@pytest.fixture
def published(dnslab, zone, cli, monkeypatch):
    """A domain at the apex of a fresh TSIG zone, created, published (rfc2136) and verified; the local store and
    settings that query the lab, as (backend, settings)."""
    from stackshift_cli.backends.local import LocalBackend
    from stackshift_cli.config import Settings

    for key, value in lab_env(dnslab).items():
        monkeypatch.setenv(key, value)
    assert cli("domains", "create", zone).exit_code == 0
    assert cli("domains", "publish", zone, "--provider", "rfc2136", "--yes").exit_code == 0
    assert cli("domains", "verify", zone).exit_code == 0
    settings = Settings("default", overrides={"dns.nameservers": [dnslab.resolver], "dns.timeout": DNS_TIMEOUT,
                                              "dns.authoritative_port": dnslab.port})
    backend = LocalBackend(settings)
    yield backend, settings
    backend.close()
