"""Inputs that would flood DNS servers, or silently query other resolvers than the user chose, are refused."""

from __future__ import annotations

import pytest

from stackshift_cli.verify.answers import Server


@pytest.fixture
def no_system_resolver(hostile, monkeypatch):
    """Should verify fall back to the system's resolvers, it would query the hostile server (loopback), which
    records it: the system resolver itself is never asked."""
    monkeypatch.setattr("stackshift_cli.verify.lookup.system_resolvers", lambda: [Server(*hostile.address)])
    return hostile


@pytest.mark.parametrize("interval", ["0.5s", "999ms", "0.1"])
def test_an_interval_below_one_second_is_a_usage_error(interval, zone, lab_cli):
    assert lab_cli("domains", "create", zone).exit_code == 0
    result = lab_cli("domains", "verify", zone, "--wait", "--interval", interval, "--timeout", "2s")
    assert result.exit_code == 2
    assert result.stderr == f"Error: --interval {interval} is too short: re-checks must be at least 1s apart.\n"
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


@pytest.mark.parametrize("value", [",", " , ", ",,,", "127.0.0.1,"])
def test_a_nameserver_list_with_an_empty_entry_is_an_error_not_the_system_resolvers(value, zone, lab_cli,
                                                                                    no_system_resolver):
    assert lab_cli("domains", "create", zone).exit_code == 0
    result = lab_cli("domains", "verify", zone, env={"STACKSHIFT_NAMESERVERS": value})
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == ("Error: Invalid value for dns.nameservers from env "
                                             "STACKSHIFT_NAMESERVERS: A nameserver address is empty.")
    assert no_system_resolver.log == []
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None


@pytest.mark.parametrize("flags", [["--nameserver", ""], ["--nameserver", "127.0.0.1", "--nameserver", " "]])
def test_an_empty_nameserver_option_is_an_error_not_the_system_resolvers(flags, zone, lab_cli, no_system_resolver):
    assert lab_cli("domains", "create", zone).exit_code == 0
    result = lab_cli("domains", "verify", zone, *flags)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "Error: Invalid --nameserver: A nameserver address is empty."
    assert no_system_resolver.log == []
    assert lab_cli("domains", "show", zone, "--json").json()["lastCheckedAt"] is None

