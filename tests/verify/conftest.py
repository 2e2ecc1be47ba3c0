"""Fixtures for the verification tests: the shared DNS lab, a fresh zone per test, and expected record sets."""

from __future__ import annotations

import pytest

from stackshift_cli.config import Settings
from stackshift_cli.keys import generate_dkim_keypair
from stackshift_cli.records import SendingProfile, build_records
from tests.helpers import Cli

from tests.conftest_dnslab import dnslab, fresh_prop_zone, fresh_zone  # noqa: F401  (shared lab fixtures)

DNS_TIMEOUT = "1s"  # loopback answers in well under a millisecond; silent servers must not slow the suite


@pytest.fixture(scope="session")
def dkim_key() -> str:
    return generate_dkim_keypair()[1]


@pytest.fixture
def zone(fresh_zone) -> str:
    """An empty zone served by ns1 (reset and flushed from the resolver afterwards)."""
    return fresh_zone


@pytest.fixture
def prop_zone(fresh_prop_zone) -> str:
    """An empty zone served by two servers, nsa and nsb, that do not transfer it between them."""
    return fresh_prop_zone


@pytest.fixture
def settings(dnslab, tmp_path) -> Settings:
    return lab_settings(dnslab)


def lab_settings(lab, **overrides) -> Settings:
    values = {"dns.nameservers": [lab.resolver], "dns.authoritative_port": lab.port, "dns.timeout": DNS_TIMEOUT}
    values.update(overrides)
    return Settings("default", overrides=values)


@pytest.fixture
def expected(dkim_key):
    """The records stackshift asks for, for any domain."""

    def build(domain: str, *, inbound: bool = False):
        return {r.purpose: r for r in build_records(domain, selector="stackshift", public_key_b64=dkim_key,
                                                     inbound=inbound, profile=SendingProfile())}

    return build


def publish(lab, record) -> None:
    """Publish one expected record exactly as a careful user would."""
    if record.type == "MX":
        lab.publish(record.name, "MX", f"{record.priority} {record.value}.")
    elif record.type == "CNAME":
        lab.publish(record.name, "CNAME", record.value + ".")
    else:
        lab.publish(record.name, record.type, record.value)


@pytest.fixture
def lab_cli(dnslab, config_dir) -> Cli:
    """The CLI on the local store, querying the lab's resolver and authoritative port."""
    cli = Cli({"STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": dnslab.resolver,
               "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dnslab.port)})
    assert cli("config", "set", "dns.timeout", DNS_TIMEOUT).exit_code == 0
    return cli


@pytest.fixture
def hostile(dnslab):
    """A hostile DNS server on a fresh lab address at the lab's port: it answers the names a test gives it rules
    for as the rules say, and relays every other query to the lab resolver (so it can be the resolver of a run)."""
    from tests.dnslab.hostile import start_hostile

    server = start_hostile(dnslab)
    try:
        yield server
    finally:
        server.stop()
