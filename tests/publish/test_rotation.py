"""DKIM key rotation against the lab's BIND, tested the way it is used: a message signed with the key that signs
verifies at every phase (dkimpy, keys looked up through the lab's resolver), and mail signed with the old key just
before the switch verifies until the revocation and fails after it. The clock is passed in: no real waiting."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from stackshift_cli import rotation_service as service
from stackshift_cli.domain import utcnow
from tests.dkim_lab import message, sign, verify
from tests.helpers import Cli, stackshift_command
from tests.publish.conftest import lab_env

WAIT = timedelta(seconds=300)  # the lab's TTL and negative-caching TTL
OVERLAP = timedelta(days=7)


@pytest.fixture
def lab(published):
    return published


def signed_by_signing_key(domain) -> bytes:
    """A message signed as the domain signs now: its dkimSelector, with the key file that goes with it."""
    return sign(message(domain.name), domain=domain.name, selector=domain.dkim_selector,
                key_pem=Path(domain.dkim_key_path).read_bytes())


def active_rotation(backend, settings, zone, cli):
    """A rotation to s2, published and moved on until s2 signs."""
    domain = service.start(backend, settings, backend.get(zone), selector="s2", key_size=2048, overlap=OVERLAP,
                           publish=False, now=utcnow())
    assert cli("domains", "publish", zone, "--yes").exit_code == 0
    domain, _ = advance(backend, settings, domain, utcnow())
    domain, _ = advance(backend, settings, domain, utcnow() + WAIT)
    return domain


def advance(backend, settings, domain, at, **options):
    return service.advance(backend, settings, domain, now=at, activate=options.pop("activate", True), **options)


def test_every_message_verifies_at_every_phase_and_the_old_key_only_until_revoked(lab, dnslab, zone, cli):
    backend, settings = lab
    domain = backend.get(zone)
    t0 = utcnow()
    assert verify(signed_by_signing_key(domain), dnslab)
    domain = service.start(backend, settings, domain, selector=None, key_size=2048, overlap=OVERLAP, publish=False,
                           now=t0)
    rotation = domain.dkim_rotation
    assert rotation.phase == "staged" and domain.dkim_selector == "stackshift"
    assert rotation.new_selector == f"stackshift-{t0:%Y%m%d}"
    assert verify(signed_by_signing_key(domain), dnslab)
    assert cli("domains", "publish", zone, "--yes").exit_code == 0  # the new record
    domain, moved = advance(backend, settings, domain, t0)
    assert domain.dkim_rotation.phase == "staged" and domain.dkim_rotation.wait == WAIT and moved.left == WAIT
    assert verify(signed_by_signing_key(domain), dnslab)
    domain, moved = advance(backend, settings, domain, t0 + WAIT - timedelta(seconds=1))
    assert domain.dkim_rotation.phase == "staged" and moved.left == timedelta(seconds=1)
    old_mail = signed_by_signing_key(domain)  # signed with the old key just before the switch
    domain, moved = advance(backend, settings, domain, t0 + WAIT)
    assert domain.dkim_rotation.phase == "active" and domain.dkim_selector == rotation.new_selector
    assert Path(domain.dkim_key_path).name == f"{domain.id}.g2.pem"
    new_mail = signed_by_signing_key(domain)
    assert verify(new_mail, dnslab) and verify(old_mail, dnslab)
    domain, moved = advance(backend, settings, domain, t0 + WAIT + OVERLAP - timedelta(seconds=1))
    assert domain.dkim_rotation.phase == "active" and verify(old_mail, dnslab)
    domain, moved = advance(backend, settings, domain, t0 + WAIT + OVERLAP)
    assert domain.dkim_rotation.phase == "revoked"
    old = next(r for r in domain.records if r.name == f"stackshift._domainkey.{zone}")
    assert old.value == "v=DKIM1; p=" and old.required
    assert verify(old_mail, dnslab)  # the revocation is not published yet
    checked = cli("domains", "verify", zone, "--json")
    assert json.loads(checked.stdout)["status"] == "verified"  # waiting for the revocation is no regression
    result = cli("domains", "publish", zone, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert [c["action"] for c in json.loads(result.stdout)["changes"] if c["action"] != "keep"] == ["update"]
    dnslab.flush_resolver()
    assert not verify(old_mail, dnslab) and verify(new_mail, dnslab)
    old_key = backend.keys_dir / f"{domain.id}.pem"
    assert old_key.exists()
    domain, moved = advance(backend, settings, domain, t0 + WAIT + OVERLAP + timedelta(minutes=1))
    assert domain.dkim_rotation.phase == "done" and moved.waiting is None
    assert not old_key.exists()
    assert not next(r for r in domain.records if r.name == f"stackshift._domainkey.{zone}").required
    assert verify(signed_by_signing_key(domain), dnslab)
    assert cli("domains", "verify", zone).exit_code == 0


def test_abort_before_active_restores_the_domain_exactly(lab, zone, cli):
    backend, settings = lab
    before = json.loads(cli("domains", "show", zone, "--json").stdout)
    keys_before = sorted(p.name for p in backend.keys_dir.iterdir())
    result = cli("domains", "rotate-dkim", zone)
    assert result.exit_code == 0, result.stderr
    assert len(list(backend.keys_dir.iterdir())) == len(keys_before) + 1
    aborted = cli("domains", "rotate-dkim", zone, "--abort")
    assert aborted.exit_code == 0, aborted.stderr
    after = json.loads(cli("domains", "show", zone, "--json").stdout)
    for shown in (before, after):  # what a check finds is refreshed by every run; the rest must be as before
        for key in ("lastCheckedAt", "bulkSenderRequirements", "status", "spfStatus", "dkimStatus", "dmarcStatus",
                    "returnPathStatus", "lastChangeAt", "verifiedSince"):
            shown.pop(key)
        for record in shown["records"]:
            record.pop("status"), record.pop("explanation")
    assert after == before and sorted(p.name for p in backend.keys_dir.iterdir()) == keys_before


def test_abort_of_a_published_rotation_removes_its_record_from_dns(lab, dnslab, zone, cli):
    result = cli("domains", "rotate-dkim", zone, "--publish", "--json")
    assert result.exit_code == 0, result.stderr
    new = json.loads(cli("domains", "show", zone, "--json").stdout)
    selector = new["dkimRotation"]["newSelector"]
    assert dnslab.rdatas(f"{selector}._domainkey.{zone}", "TXT")
    assert cli("domains", "rotate-dkim", zone, "--abort").exit_code == 0
    assert dnslab.rdatas(f"{selector}._domainkey.{zone}", "TXT") == []
    assert dnslab.rdatas(f"stackshift._domainkey.{zone}", "TXT")


def test_abort_after_active_is_refused(lab, zone, cli):
    backend, settings = lab
    domain = active_rotation(backend, settings, zone, cli)
    assert domain.dkim_rotation.phase == "active"
    refused = cli("domains", "rotate-dkim", zone, "--abort")
    assert refused.exit_code == 2 and "can no longer be aborted" in refused.stderr


def test_now_skips_the_overlap_and_warns_what_it_costs(lab, zone, cli):
    backend, settings = lab
    active_rotation(backend, settings, zone, cli)
    result = cli("domains", "rotate-dkim", zone, "--now")
    assert result.exit_code == 0, result.stderr
    assert "fails DKIM" in result.stderr
    shown = json.loads(cli("domains", "show", zone, "--json").stdout)["dkimRotation"]
    assert shown["phase"] == "revoked" and shown["overlapSkipped"] is True


def test_key_files_are_private_and_no_private_key_is_printed(lab, zone, cli):
    backend, _ = lab
    result = cli("--debug", "domains", "rotate-dkim", zone, "--key-size", "3072")
    assert result.exit_code == 0, result.stderr
    shown = cli("--debug", "domains", "show", zone, "--json")
    for path in backend.keys_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600
        body = "".join(path.read_text().splitlines()[1:-1])
        assert body[:40] not in result.stdout + result.stderr + shown.stdout + shown.stderr
    assert backend.keys_dir.stat().st_mode & 0o777 == 0o700
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    new = backend.keys_dir / f"{json.loads(shown.stdout)['id']}.g2.pem"
    assert load_pem_private_key(new.read_bytes(), None).key_size == 3072


def test_the_api_backend_says_it_cannot_rotate(api_server, config_dir):
    cli = Cli(api_server.env())
    assert cli("domains", "create", "example.com").exit_code == 0
    result = cli("domains", "rotate-dkim", "example.com")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "does not offer DKIM key rotation" in result.stderr


def test_what_a_killed_run_leaves_is_settled_by_the_next(lab, zone, cli):
    """The states a kill -9 can leave, made by hand: a new key committed but not yet renamed, a key an abort did
    not get to destroy, a temporary key whose staging never committed."""
    backend, settings = lab
    domain = service.start(backend, settings, backend.get(zone), selector="s2", key_size=2048, overlap=OVERLAP,
                           publish=False, now=utcnow())
    final = backend.keys_dir / f"{domain.id}.g2.pem"
    temp = backend.keys_dir / f".{domain.id}.g2.pem.tmp"
    final.rename(temp)  # killed between the commit and the rename
    assert cli("domains", "rotate-dkim", zone).exit_code == 0
    assert final.exists() and not temp.exists()
    stray = backend.keys_dir / f"{domain.id}.g7.pem"  # an abort killed before destroying its key
    stray.write_bytes(final.read_bytes())
    half = backend.keys_dir / f".{domain.id}.g8.pem.tmp"  # a staging killed before its commit
    half.write_bytes(b"x")
    assert cli("domains", "rotate-dkim", zone).exit_code == 0
    assert not stray.exists() and not half.exists() and final.exists()


def test_kill_9_at_any_moment_leaves_a_state_the_next_run_continues_from(dnslab, zone, cli, isolated_env):
    """Real SIGKILLs, at growing delays, of `rotate-dkim` runs; after each the store is sound and every key file
    is one a row uses, and a last run ends in a consistent rotation."""
    env = {**os.environ, **lab_env(dnslab), "STACKSHIFT_DNS_TIMEOUT": "1s"}
    run = [*stackshift_command(), "domains"]
    assert subprocess.run([*run, "create", zone], env=env, capture_output=True).returncode == 0
    store = isolated_env / "data" / "stackshift.db"
    keys = isolated_env / "data" / "keys"
    for delay in (0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8):
        args = [*run, "rotate-dkim", zone] + (["--abort"] if delay in (0.2, 0.6) else [])
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with sqlite3.connect(store) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    final = subprocess.run([*run, "rotate-dkim", zone, "--json"], env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    with sqlite3.connect(store) as conn:
        domain_id, generation = conn.execute("SELECT id, key_generation FROM domains").fetchone()
        rotation = conn.execute("SELECT phase, old_generation, new_generation FROM dkim_rotations "
                                "ORDER BY id DESC").fetchone()
    used = {generation} | ({rotation[1], rotation[2]} if rotation else set())
    names = {p.name for p in keys.iterdir()}
    expected = {f"{domain_id}.pem" if g == 1 else f"{domain_id}.g{g}.pem" for g in used}
    assert names == expected, (names, rotation)


def test_a_finished_rotation_stays_until_new_starts_another_and_abort_brings_it_back(lab, zone, cli):
    backend, settings = lab
    domain = service.start(backend, settings, backend.get(zone), selector="s2", key_size=2048, overlap=OVERLAP,
                           publish=False, now=utcnow())
    assert cli("domains", "publish", zone, "--yes").exit_code == 0
    t0 = utcnow()
    for at in (t0, t0 + WAIT):
        domain, _ = advance(backend, settings, domain, at)
    domain, _ = advance(backend, settings, domain, t0 + WAIT, skip_overlap=True)
    assert cli("domains", "publish", zone, "--yes").exit_code == 0  # the revocation
    domain, _ = advance(backend, settings, domain, t0 + WAIT + timedelta(minutes=1))
    assert domain.dkim_rotation.phase == "done"
    again = cli("domains", "rotate-dkim", zone, "--json")  # a cron job calling it again starts nothing
    assert again.exit_code == 0 and json.loads(again.stdout)["dkimRotation"]["phase"] == "done"
    assert "--new" in again.stderr
    started = cli("domains", "rotate-dkim", zone, "--new", "--selector", "s3", "--json")
    assert started.exit_code == 0, started.stderr
    assert json.loads(started.stdout)["dkimRotation"]["newSelector"] == "s3"
    assert cli("domains", "rotate-dkim", zone, "--abort").exit_code == 0
    shown = json.loads(cli("domains", "show", zone, "--json").stdout)
    assert shown["dkimRotation"]["phase"] == "done" and shown["dkimRotation"]["newSelector"] == "s2"
    assert shown["dkimSelector"] == "s2"


def test_starting_a_rotation_is_no_regression_the_status_follows_the_signing_key(lab, zone, cli):
    started = cli("domains", "rotate-dkim", zone, "--json")
    assert started.exit_code == 0, started.stderr
    shown = json.loads(cli("domains", "show", zone, "--json").stdout)
    staged = next(r for r in shown["records"] if r["name"].startswith("stackshift-"))
    assert staged["required"] is True and staged["status"] == "missing"  # required to move the rotation on
    assert shown["status"] == "verified" and "explanation" not in shown
    history = json.loads(cli("domains", "history", zone, "--json").stdout)
    assert not [e for e in history if e["event"] == "regression"]
