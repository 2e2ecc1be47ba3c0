"""providers/lexicon_table.py: generated from the installed dns-lexicon, and the registry built from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stackshift_cli.providers import RFC2136, all_providers, guess_from_nameservers
from stackshift_cli.providers.lexicon_table import LEXICON_VERSION, PROVIDERS

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_table_is_what_the_generator_writes_from_the_installed_lexicon():
    import lexicon  # noqa: F401  (a test dependency: missing, this test fails, it does not skip)

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-providers"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_table_records_the_lexicon_version_it_was_made_from():
    from importlib.metadata import version

    assert LEXICON_VERSION == version("dns-lexicon")  # a test dependency: installed by scripts/test


def test_names_and_options_are_usable_as_config_keys():
    assert len(PROVIDERS) > 50
    for name, (options, nameservers) in PROVIDERS.items():
        assert name == name.lower() and name.isidentifier(), name
        assert options, f"{name} has no options"
        for option, help in options:
            assert option.isidentifier(), (name, option)
            assert "\n" not in help and len(help) <= 100, (name, option)
        assert len({option for option, _ in options}) == len(options), name
        assert list(nameservers) == sorted(set(nameservers)), name
        for pattern in nameservers:
            assert pattern == pattern.lower() and not pattern.endswith(".") and " " not in pattern, (name, pattern)


def test_the_registry_holds_rfc2136_and_every_lexicon_provider():
    providers = all_providers()
    assert list(providers)[0] == RFC2136
    assert set(providers) == {RFC2136, *PROVIDERS}
    assert all(providers[name].kind == "lexicon" for name in PROVIDERS)
    powerdns = {credential.option: credential for credential in providers["powerdns"].credentials}
    assert powerdns["auth_token"].secret and not powerdns["pdns_server"].secret
    assert powerdns["auth_token"].env == "LEXICON_POWERDNS_AUTH_TOKEN"
    assert powerdns["auth_token"].key == "publish.powerdns.auth_token"


@pytest.mark.parametrize("nameservers, provider", [
    (["abby.ns.cloudflare.com"], "cloudflare"),
    (["ABBY.NS.CLOUDFLARE.COM."], "cloudflare"),
    (["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"], "route53"),
    (["ns1.digitalocean.com"], "digitalocean"),
    (["ns07.domaincontrol.com"], "godaddy"),
    (["dns200.anycast.me", "ns200.anycast.me"], "ovh"),
    (["ns-cloud-a1.googledomains.com"], "googleclouddns"),
    (["ns1-01.azure-dns.com"], "azure"),
    (["hydrogen.ns.hetzner.com"], "hetzner"),
    (["helium.ns.hetzner.de"], "hetzner"),
    (["dns1.registrar-servers.com"], "namecheap"),
    (["ns1.example.net"], None),
    (["notcloudflare.com"], None),
    ([], None),
])
def test_guess_from_nameservers(nameservers, provider):
    assert guess_from_nameservers(nameservers) == provider
