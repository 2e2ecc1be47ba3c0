"""`domains watch` against the lab's BIND, with the clock passed in (no real waiting): a domain published and
verified, its DKIM record deleted by an RFC 2136 update, then restored."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from stackshift_cli.domain import utcnow
from stackshift_cli.output import Ui
from stackshift_cli.watch import WatchOptions, watch
from tests.helpers import Cli
from tests.publish.conftest import lab_env

WINDOW = timedelta(hours=72)


@pytest.fixture
def watched(published):
    return published


def run_once(backend, settings, at, **options) -> tuple[int, list[dict]]:
    out = io.StringIO()
    ui = Ui(stdout=out, stderr=io.StringIO(), color=False)
    code = watch(backend, settings, ui, WatchOptions(once=True, jsonl=True, **options), clock=lambda: at)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_deleted_record_is_one_regression_failed_only_after_the_window_and_restored_one_verified(
        watched, dnslab, zone):
    backend, settings = watched
    t0 = utcnow()
    assert run_once(backend, settings, t0) == (0, [])  # verified, and nothing changed
    dkim = f"stackshift._domainkey.{zone}"
    value = "".join(s.decode() for s in dnslab.rdatas(dkim, "TXT")[0].strings)
    dnslab.remove(dkim, "TXT")  # someone cleans up "unused" records
    code, events = run_once(backend, settings, t0 + timedelta(minutes=5))
    assert code == 4 and [e["event"] for e in events] == ["regression"]
    assert events[0]["explanation"].startswith("was verified since ")
    assert [(r["purpose"], r["oldStatus"], r["newStatus"]) for r in events[0]["records"]] == \
        [("dkim", "verified", "missing")]
    assert run_once(backend, settings, t0 + timedelta(hours=71)) == (4, [])  # still inside the window: no change
    code, events = run_once(backend, settings, t0 + timedelta(minutes=5) + WINDOW)
    assert code == 3 and [(e["event"], e["oldStatus"], e["newStatus"]) for e in events] == \
        [("status", "pending", "failed")]
    dnslab.publish(dkim, "TXT", value)  # repaired
    dnslab.flush_resolver()  # as the negative-caching TTL would expire
    code, events = run_once(backend, settings, t0 + WINDOW + timedelta(hours=1))
    assert code == 0 and [(e["event"], e["newStatus"]) for e in events] == [("verified", "verified")]
    shown = json.loads(Cli(lab_env(dnslab))("domains", "show", zone, "--json").stdout)
    assert shown["verifiedSince"] and shown["lastChangeAt"] and "explanation" not in shown
    history = json.loads(Cli(lab_env(dnslab))("domains", "history", zone, "--json").stdout)
    kinds = [e["event"] for e in history if e["purpose"] is None] if history and "purpose" in history[0] else \
        [e["event"] for e in history if e["event"] != "record"]
    assert kinds[-3:] == ["regression", "status", "verified"]


def test_the_prometheus_file_holds_exactly_the_watch_metrics(watched, zone, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    backend, settings = watched
    path = tmp_path / "stackshift.prom"
    code, _ = run_once(backend, settings, utcnow(), prometheus=path)
    assert code == 0
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    assert set(families) == {"stackshift_domain_status", "stackshift_record_status",
                             "stackshift_domain_last_checked_timestamp_seconds",
                             "stackshift_domain_verified_since_timestamp_seconds",
                             "stackshift_watch_round_duration_seconds"}
    status = {s.labels["status"]: s.value for s in families["stackshift_domain_status"].samples
              if s.labels["domain"] == zone}
    assert status == {"verified": 1, "pending": 0, "failed": 0, "disabled": 0}
    assert Path(path).stat().st_mode & 0o777 == 0o644


def test_verify_all_names_regressions_first(watched, dnslab, zone, cli):
    from tests.helpers import run_on_pty

    dnslab.remove(f"_dmarc.{zone}", "TXT")
    code, screen = run_on_pty("domains", "verify", "--all", env={**lab_env(dnslab), "NO_COLOR": "1"}, columns=160)
    assert code == 4, screen
    report = screen[screen.index("regression"):]  # on a terminal: the regressions first, then the summary table
    assert f"1 regression (verified before, not now): {zone}." in screen and report.index(zone) < report.index("NAME")
    piped = cli("domains", "verify", "--all")  # streamed to a script: the last word, once the stream is written
    assert piped.exit_code == 4
    assert piped.stderr.strip().splitlines()[-1] == f"Warning: 1 regression (verified before, not now): {zone}."


def test_watch_once_on_the_api_backend_polls_its_verify_and_keeps_history(api_server, config_dir, isolated_env):
    cli = Cli(api_server.env())
    assert cli("domains", "create", "example.com").exit_code == 0
    result = cli("domains", "watch", "--once", "--jsonl")
    assert result.exit_code == 4, result.stderr  # the API says pending
    assert api_server.requests_to("POST", "/mail/domains/")  # its verify endpoint was called
    assert (isolated_env / "data" / "history.db").exists()
    again = cli("domains", "watch", "--once", "--jsonl")
    assert again.exit_code == 4 and again.stdout == ""  # nothing changed since


def test_show_on_the_api_backend_gives_what_the_history_knows(api_server, config_dir, isolated_env):
    cli = Cli(api_server.env())
    assert cli("domains", "create", "example.com").exit_code == 0
    before = json.loads(cli("domains", "show", "example.com", "--json").stdout)
    assert before["lastChangeAt"] is None  # never checked by stackshift: no history yet
    assert cli("domains", "verify", "example.com").exit_code == 4
    shown = json.loads(cli("domains", "show", "example.com", "--json").stdout)
    assert shown["lastChangeAt"] is not None and shown["verifiedSince"] is None


def test_watch_jsonl_escapes_what_a_terminal_would_obey(tmp_path):
    from datetime import datetime, timezone

    from stackshift_cli.history import Event
    from stackshift_cli.watch import print_events

    out = io.StringIO()
    event = Event(datetime(2026, 11, 1, tzinfo=timezone.utc), "dom_0123456789abcdef", "example.com", "verified",
                  "pending", "now \x9b31m and \u202e reversed")
    print_events(Ui(stdout=out, color=False), [event], jsonl=True)
    line = out.getvalue().strip()
    assert "\x9b" not in line and "\u202e" not in line and json.loads(line)["explanation"].startswith("now \x9b")
