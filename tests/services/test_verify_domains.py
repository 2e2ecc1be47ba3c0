"""services.verify_domains without a CLI: which domains a run checks, the disabled rule, the resolvers it passes
down, and the API's verdicts with stackshift's own diagnosis. An in-memory backend; no DNS, no HTTP."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from stackshift_cli import services
from stackshift_cli.backends.base import Backend, resolve_ref
from stackshift_cli.config import ConfigFile, Settings
from stackshift_cli.domain import DISABLED, FAILED, MISSING, PENDING, VERIFIED, DnsRecord, Domain
from stackshift_cli.errors import ExitCode, NotFound, StackshiftError, UsageError
from stackshift_cli.output import Ui
from stackshift_cli.services import Target, VerifyOutcome, chosen_nameservers, verify_domains


def records(name: str) -> tuple[DnsRecord, ...]:
    return (DnsRecord("TXT", name, "@", "v=spf1 include:spf.stackshift.email ~all", purpose="spf"),
            DnsRecord("CNAME", f"bounces.{name}", "bounces", "bounces.stackshift.email", purpose="returnPath"))


def domain(name: str, number: int, status: str = PENDING) -> Domain:
    return Domain(id=f"dom_{number:016x}", name=name, status=status, records=records(name))


class Memory(Backend):
    """Domains in a dict; `check` gives every record the verdicts in `verdicts` (by purpose), default verified."""

    name = "memory"
    where = "memory"

    def __init__(self, *domains: Domain, verdicts: dict[str, tuple[str, str | None]] | None = None) -> None:
        self.domains = {d.id: d for d in domains}
        self.verdicts = verdicts or {}
        self.checked: list[tuple[str, object]] = []
        self.saved: list[str] = []

    @classmethod
    def open(cls, settings, ui):
        return cls()

    def create(self, name, *, selector, inbound, exist_ok):
        raise NotImplementedError

    def list(self, status=None):
        return [d for d in self.domains.values() if status is None or d.status == status]

    def get(self, ref):
        return resolve_ref(ref, by_id=self._by_id, where=self.where,
                           by_name=lambda name: next((d for d in self.domains.values() if d.name == name), None))

    def _by_id(self, domain_id):
        if domain_id not in self.domains:
            raise NotFound(f"No domain with id {domain_id} in memory.")
        return self.domains[domain_id]

    def delete(self, ref):
        return self.domains.pop(self.get(ref).id)

    def check(self, domain, *, nameservers=None):
        self.checked.append((domain.name, nameservers))
        judged = [r.with_verdict(*self.verdicts.get(r.purpose, (VERIFIED, None))) for r in domain.records]
        statuses = {r.status for r in judged}
        status = FAILED if FAILED in statuses else VERIFIED if statuses == {VERIFIED} else PENDING
        return replace(domain, records=tuple(judged), status=status)

    def save_check(self, checked):
        self.saved.append(checked.name)
        self.domains[checked.id] = checked
        return checked

    def history(self):
        from stackshift_cli.backends.local import _empty_history

        return _empty_history("memory")

    def journal(self, *, create=True):
        from stackshift_cli.publish.journal import Journal

        return Journal.empty("memory")

    def close(self):
        pass


class Remote(Memory):
    """The same, but its verdicts come from elsewhere, as the API's do."""

    name = "remote"
    judges_remotely = True


@pytest.fixture
def settings(config_dir) -> Settings:
    return Settings("default", ConfigFile(config_dir / "config.toml"))


@pytest.fixture
def ui() -> Ui:
    return Ui(stdout=io.StringIO(), stderr=io.StringIO())


def run(backend, settings, ui, target, **options) -> VerifyOutcome:
    return verify_domains(backend, settings, ui, target, nameservers=options.pop("nameservers", []), **options)


# ---------------------------------------------------------------- which domains a run checks


@pytest.mark.parametrize("ref, every", [(None, False), ("example.com", True)])
def test_a_run_checks_one_domain_or_all_never_both_or_neither(ref, every):
    with pytest.raises(UsageError, match=r"Give one domain \(NAME or ID\), or --all"):
        Target(ref, every=every)


def test_one_domain_is_found_by_name_or_id(settings, ui):
    backend = Memory(domain("a.example", 1), domain("b.example", 2))
    by_name = run(backend, settings, ui, Target("B.Example."))
    by_id = run(backend, settings, ui, Target("dom_0000000000000001"))
    assert [d.name for d in by_name.results] == ["b.example"] and [d.name for d in by_id.results] == ["a.example"]
    assert backend.saved == ["b.example", "a.example"]


def test_every_domain_is_checked_and_stored_with_all(settings, ui):
    backend = Memory(domain("a.example", 1), domain("b.example", 2), verdicts={"spf": (FAILED, "no")})
    outcome = run(backend, settings, ui, Target(every=True))
    assert sorted(d.name for d in outcome.results) == ["a.example", "b.example"]
    assert sorted(backend.saved) == ["a.example", "b.example"]
    assert outcome.exit_code == ExitCode.VERIFICATION_FAILED


def test_an_unknown_domain_is_not_found(settings, ui):
    with pytest.raises(NotFound):
        run(Memory(domain("a.example", 1)), settings, ui, Target("b.example"))


# ---------------------------------------------------------------- disabled domains are never checked or changed


def test_a_disabled_domain_named_is_an_error_and_is_not_checked(settings, ui):
    backend = Memory(domain("off.example", 1, DISABLED))
    with pytest.raises(StackshiftError, match="off.example is disabled; verify does not check or change"):
        run(backend, settings, ui, Target("off.example"))
    assert backend.checked == [] and backend.saved == []


def test_disabled_domains_are_skipped_by_all_and_said_so(settings, ui):
    backend = Memory(domain("on.example", 1), domain("off.example", 2, DISABLED))
    outcome = run(backend, settings, ui, Target(every=True))
    assert [d.name for d in outcome.results] == ["on.example"] and backend.saved == ["on.example"]
    assert ui.stderr.getvalue() == "Skipping 1 disabled domain(s): verify never changes them.\n"


def test_all_with_nothing_to_verify_says_so_and_exits_0(settings, ui):
    outcome = run(Memory(domain("off.example", 1, DISABLED)), settings, ui, Target(every=True))
    assert outcome.results == [] and outcome.exit_code == ExitCode.OK
    assert ui.stderr.getvalue().splitlines()[-1] == ("No domains to verify. Create one with "
                                                     "`stackshift domains create example.com`.")


# ---------------------------------------------------------------- resolvers


def test_the_resolvers_given_reach_the_check_and_the_settings_are_not_changed(settings, ui):
    backend = Memory(domain("a.example", 1))
    run(backend, settings, ui, Target("a.example"), nameservers=["192.0.2.53:5353"])
    assert backend.checked == [("a.example", ["192.0.2.53:5353"])]
    assert settings.overrides == {}


def test_without_given_resolvers_the_configured_ones_are_used(settings, ui, monkeypatch):
    monkeypatch.setenv("STACKSHIFT_NAMESERVERS", "192.0.2.1, 192.0.2.2:53")
    assert chosen_nameservers(settings, None) == ["192.0.2.1", "192.0.2.2:53"]
    assert chosen_nameservers(settings, [" 192.0.2.9 "]) == ["192.0.2.9"]
    backend = Memory(domain("a.example", 1))
    verify_domains(backend, settings, ui, Target("a.example"))
    assert backend.checked == [("a.example", ["192.0.2.1", "192.0.2.2:53"])]


@pytest.mark.parametrize("given, message", [([""], "Invalid --nameserver: A nameserver address is empty."),
                                            (["not-an-ip"], "Invalid --nameserver: ")])
def test_a_bad_resolver_given_is_a_usage_error(settings, given, message):
    with pytest.raises(UsageError) as raised:
        chosen_nameservers(settings, given)
    assert raised.value.message.startswith(message)


# ---------------------------------------------------------------- verdicts from elsewhere, and stackshift's diagnosis


@pytest.fixture
def diagnosis(monkeypatch):
    """stackshift's own DNS check, replaced: what it was asked, and what it says."""
    calls = []

    def check_records(name, records, settings, *, nameservers=None):
        calls.append(([r.purpose for r in records], nameservers))
        return [r.with_verdict(FAILED, f"stackshift found the {r.purpose} record wrong.") for r in records]

    monkeypatch.setattr("stackshift_cli.verify.check_records", check_records)
    return calls


def test_a_remote_verdict_keeps_its_status_and_gets_stackshifts_diagnosis(settings, ui, diagnosis):
    backend = Remote(domain("a.example", 1), verdicts={"spf": (FAILED, "The API says no.")})
    outcome = run(backend, settings, ui, Target("a.example"), nameservers=["192.0.2.53"])
    spf, return_path = outcome.results[0].records
    assert (spf.status, spf.explanation) == (FAILED, "The API says no. — stackshift: stackshift found the spf "
                                                     "record wrong.")
    assert (return_path.status, return_path.explanation) == (VERIFIED, None), "verified records are not re-checked"
    assert diagnosis == [(["spf"], ["192.0.2.53"])]


def test_a_remote_verdict_that_is_all_verified_is_not_diagnosed(settings, ui, diagnosis):
    outcome = run(Remote(domain("a.example", 1)), settings, ui, Target("a.example"))
    assert outcome.exit_code == ExitCode.OK and diagnosis == []


def test_a_local_verdict_is_not_diagnosed_again(settings, ui, diagnosis):
    outcome = run(Memory(domain("a.example", 1), verdicts={"spf": (MISSING, "No SPF record.")}), settings, ui,
                  Target("a.example"))
    assert outcome.results[0].records[0].explanation == "No SPF record." and diagnosis == []


def test_when_stackshift_cannot_look_the_remote_verdict_stands_with_a_warning(settings, ui, monkeypatch):
    def check_records(name, records, settings, *, nameservers=None):
        raise StackshiftError("no resolver")

    monkeypatch.setattr("stackshift_cli.verify.check_records", check_records)
    outcome = run(Remote(domain("a.example", 1), verdicts={"spf": (FAILED, "The API says no.")}), settings, ui,
                  Target("a.example"))
    assert outcome.results[0].records[0].explanation == "The API says no."
    assert "Warning: stackshift could not run its own DNS check: no resolver" in ui.stderr.getvalue()


def test_merge_diagnosis_keeps_each_status_and_order():
    api = [r.with_verdict(FAILED, "API.") for r in records("a.example")]
    ours = [r.with_verdict(PENDING, "Ours.") for r in records("a.example")]
    merged = services.merge_diagnosis(api, ours)
    assert [(r.purpose, r.status, r.explanation) for r in merged] == [
        ("spf", FAILED, "API. — stackshift sees pending: Ours."),
        ("returnPath", FAILED, "API. — stackshift sees pending: Ours.")]


# ---------------------------------------------------------------- with --all, one domain never stops the others


class Troubled(Memory):
    def check(self, domain, *, nameservers=None):
        if domain.name == "gone.example":
            raise NotFound("deleted meanwhile")
        if domain.name == "bug.example":
            raise RuntimeError("injected")
        return super().check(domain, nameservers=nameservers)


def test_a_domain_deleted_meanwhile_is_skipped_and_one_that_hits_a_bug_is_reported(settings, ui):
    backend = Troubled(domain("ok.example", 1), domain("gone.example", 2), domain("bug.example", 3))
    outcome = run(backend, settings, ui, Target(every=True))
    by_name = {d.name: d for d in outcome.results}
    assert sorted(by_name) == ["bug.example", "ok.example"] and backend.saved == ["ok.example"]
    assert "RuntimeError: injected" in by_name["bug.example"].check_error
    assert outcome.exit_code == ExitCode.ERROR
    stderr = ui.stderr.getvalue()
    assert "Warning: gone.example (dom_0000000000000002) was deleted while it was being checked; skipped." in stderr
    assert "Error: bug.example could not be checked: internal error: RuntimeError: injected" in stderr


@pytest.mark.parametrize("key, value", [
    ("verify.window", "99999999999999d"),
    ("dns.timeout", "nan"),
    ("dns.authoritative_port", "70000"),
    ("dns.nameservers", "not-an-ip"),
    ("sending.return_path_host", "a b"),
])
def test_a_bad_setting_a_check_reads_stops_the_run_before_any_domain_is_checked(settings, ui, key, value):
    settings.overrides[key] = value
    backend = Memory(domain("a.example", 1))
    with pytest.raises(UsageError, match=key.replace(".", r"\.")):
        verify_domains(backend, settings, ui, Target("a.example"), nameservers=["127.0.0.1"])
    assert backend.checked == [] and backend.saved == []


def test_the_callers_hook_sees_each_stored_verdict_with_the_one_before_it(settings, ui):
    backend = Memory(domain("a.example", 1), domain("b.example", 2), verdicts={"spf": (FAILED, "no")})
    seen: list[tuple[str | None, str, str]] = []
    outcome = run(backend, settings, ui, Target(every=True),
                  on_result=lambda old, new: seen.append((old.status if old else None, new.name, new.status)))
    assert sorted(seen) == [(PENDING, "a.example", FAILED), (PENDING, "b.example", FAILED)]
    assert [d.status for d in outcome.results] == [FAILED, FAILED] and sorted(backend.saved) == ["a.example", "b.example"]
