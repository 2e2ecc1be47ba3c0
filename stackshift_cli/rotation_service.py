"""`domains rotate-dkim` as a use case: start a rotation, move it on with what DNS shows, abort it.

The phases and what moves them are rotation.py's (pure); this module looks at DNS (the verify check of the domain,
and the TTLs a staged record waits for), and stores each move in one transaction of the local store: the rotation's
row, the domain's records, and which selector and key sign. A key file is written before the move that makes it
used, and destroyed only after the move that stops using it would be harmless to repeat, so a run killed at any
point leaves a state the next run continues from.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

from stackshift_cli.errors import StackshiftError, UsageError
from stackshift_cli.rotation import ACTIVE, DONE, READY, REVOKED, REVOKED_VALUE, STAGED, Rotation, Step, step

if TYPE_CHECKING:
    from stackshift_cli.backends.base import Backend
    from stackshift_cli.backends.local import LocalBackend
    from stackshift_cli.config import Settings
    from stackshift_cli.domain import DnsRecord, Domain

API_REFUSAL = ("The StackShift API does not offer DKIM key rotation (docs/api.md), and it keeps the private keys; "
               "rotate the key from your StackShift account.")


class NotRotatable(StackshiftError):
    """The backend cannot rotate keys (the API keeps them): exit 1."""


def local(backend: Backend, what: str = API_REFUSAL) -> LocalBackend:
    """The backend, when it keeps the keys (the local store); an error naming why not otherwise."""
    if not backend.keeps_private_keys or not hasattr(backend, "stage_rotation"):
        raise NotRotatable(what)
    return backend  # type: ignore[return-value]


def settle_files(backend: LocalBackend, domain: Domain) -> None:
    """Finish what a killed run left of the key files: a new key committed but not yet given its name is renamed
    into place; a key no row uses any more (an abort or a staging cut short) is destroyed. Only the files of
    this domain's generations are looked at, by names built from its id."""
    import re

    from stackshift_cli.keys import destroy_key, key_path, temp_key_path

    rotation = domain.dkim_rotation
    used = {backend.key_generation(domain)}
    if rotation is not None:
        used |= {rotation.new_generation} if rotation.phase == DONE else {rotation.old_generation,
                                                                          rotation.new_generation}
        final, temp = (key_path(backend.keys_dir, domain.id, rotation.new_generation),
                       temp_key_path(backend.keys_dir, domain.id, rotation.new_generation))
        if not final.exists() and temp.exists():
            temp.rename(final)
    shape = re.compile(rf"\.?{re.escape(domain.id)}\.g([0-9]{{1,6}})\.pem(\.tmp)?")
    try:
        names = [n for n in (p.name for p in backend.keys_dir.iterdir()) if shape.fullmatch(n)]
    except OSError:
        return
    for name in names:
        match = shape.fullmatch(name)
        assert match is not None
        generation = int(match.group(1))
        if generation not in used or match.group(2):
            destroy_key(backend.keys_dir / name)


def selector_record(domain: Domain, selector: str) -> DnsRecord | None:
    name = f"{selector}._domainkey.{domain.name}"
    return next((r for r in domain.records if r.purpose == "dkim" and r.name == name), None)


def start(backend: LocalBackend, settings: Settings, domain: Domain, *, selector: str | None, key_size: int,
          overlap: timedelta, publish: bool, now: datetime) -> Domain:
    """Stage a rotation: a new key pair under a new selector, its record required beside the old one."""
    from stackshift_cli import checks
    from stackshift_cli.keys import generate_dkim_keypair
    from stackshift_cli.records import normalize_selector
    from stackshift_cli.rotation import default_selector

    if domain.dkim_selector is None or selector_record(domain, domain.dkim_selector) is None:
        raise UsageError(f"{domain.name} has no DKIM record of its own selector to rotate from.")
    taken = {r.name.split("._domainkey.", 1)[0] for r in domain.records if r.purpose == "dkim"}
    new_selector = normalize_selector(selector) if selector else default_selector(now.date(), taken)
    if new_selector in taken:
        raise UsageError(f"The selector {new_selector} is already used by {domain.name}.",
                         hint="Choose another with --selector, or leave it out for stackshift-YYYYMMDD.")
    settle_files(backend, domain)
    previous = domain.dkim_rotation
    old_generation = backend.key_generation(domain)
    used = [old_generation, *((previous.old_generation, previous.new_generation) if previous else ())]
    pem, public_key = generate_dkim_keypair(key_size)
    kind = checks.by_purpose("dkim")
    assert kind is not None
    record = kind.rules().expected(domain.name, selector=new_selector, public_key_b64=public_key,
                                   profile=settings.sending_profile(), inbound=False)
    rotation = Rotation(STAGED, domain.dkim_selector, new_selector, old_generation, max(used) + 1, key_size,
                        overlap, publish, now)
    backend.stage_rotation(domain, rotation, [*domain.records, record], pem)
    return backend.get(domain.id)


def advance(backend: LocalBackend, settings: Settings, domain: Domain, *, now: datetime, activate: bool,
            skip_overlap: bool = False, nameservers: Sequence[str] | None = None, check: bool = True
            ) -> tuple[Domain, Step]:
    """Look at DNS (a verify check of the domain, stored as verify stores it, unless `check` is false: then the
    verdicts stored last) and move the rotation on as far as it may go; each move is stored in one transaction."""
    rotation = domain.dkim_rotation
    assert rotation is not None
    settle_files(backend, domain)
    if check:
        domain = backend.save_check(backend.check(domain, nameservers=nameservers))
        domain = replace(domain, dkim_rotation=rotation)
    new = selector_record(domain, rotation.new_selector)
    old = selector_record(domain, rotation.old_selector)
    new_verified = new is not None and new.status == "verified"
    wait = None
    if rotation.phase == STAGED and new_verified and rotation.seen_at is None:
        wait = staged_wait(settings, domain, rotation, nameservers)
    moved = step(rotation, now=now, new_verified=new_verified, activate=activate, skip_overlap=skip_overlap,
                 revocation_verified=old is None or old.status == "verified", wait=wait)
    after = moved.rotation
    if after != rotation:
        _store(backend, domain, rotation, after)
    return backend.get(domain.id), moved


def _store(backend: LocalBackend, domain: Domain, before: Rotation, after: Rotation) -> None:
    """Store one run's moves: the records and the signing key change at activation (the new selector's record
    first, as the domain's dkimStatus), at revocation (the old record's value) and when done (not required)."""
    from stackshift_cli.keys import destroy_key, key_path

    records = list(domain.records)
    signing = None
    if after.phase in (ACTIVE, REVOKED, DONE) and before.phase in (STAGED, READY):
        new, old = selector_record(domain, after.new_selector), selector_record(domain, after.old_selector)
        swap = {id(new): old, id(old): new} if new is not None and old is not None else {}
        records = [swap.get(id(r), r) for r in records]  # the signing selector's record where the old one stood
        signing = (after.new_selector, after.new_generation)
    if after.phase in (REVOKED, DONE) and before.phase not in (REVOKED, DONE):
        records = [replace(r, value=REVOKED_VALUE, status="missing", explanation=None)
                   if r.name == f"{after.old_selector}._domainkey.{domain.name}" else r for r in records]
    if after.phase == DONE:
        # The key first: a run killed after it finds the rotation revoked and destroys nothing more (the file is
        # gone); killed before, the key is still there and the next run destroys it.
        destroy_key(key_path(backend.keys_dir, domain.id, after.old_generation))
        records = [replace(r, required=False) if r.name == f"{after.old_selector}._domainkey.{domain.name}" else r
                   for r in records]
    backend.save_rotation(domain, after, records, signing=signing)


def abort(backend: LocalBackend, domain: Domain) -> Domain:
    """Before `active`, put everything back as it was before the rotation started: the new record and key go."""
    rotation = domain.dkim_rotation
    if rotation is None or rotation.phase == DONE:
        raise UsageError(f"{domain.name} has no DKIM key rotation in progress.")
    if rotation.phase not in (STAGED, READY):
        raise UsageError(f"The rotation of {domain.name} is {rotation.phase}: {rotation.new_selector} already signs, "
                         "so it can no longer be aborted.",
                         hint="Run `stackshift domains rotate-dkim` to finish it, or start a new rotation after it.")
    name = f"{rotation.new_selector}._domainkey.{domain.name}"
    backend.abort_rotation(domain, rotation, [r for r in domain.records if r.name != name])
    return backend.get(domain.id)


def staged_wait(settings: Settings, domain: Domain, rotation: Rotation, nameservers: Sequence[str] | None
                ) -> timedelta:
    """The longer of the new record's TTL (the longest any authoritative server gives) and the zone's
    negative-caching TTL (RFC 2308 5: the lesser of the SOA's TTL and its MINIMUM): after that, no resolver still
    caches "no such record" from before it was published."""
    import dns.rdatatype

    from stackshift_cli.publish.zone import DnsLookupError, Resolvers, ask

    resolvers = Resolvers.from_settings(list(nameservers if nameservers is not None else
                                             settings.get("dns.nameservers") or []),
                                        settings.duration("dns.timeout"))
    port = int(settings.get("dns.authoritative_port"))
    name = f"{rotation.new_selector}._domainkey.{domain.name}"
    zone = resolvers.find_zone(name)
    longest = 0
    for host in zone.nameservers:
        for address in resolvers.addresses(host)[:2]:
            try:
                txt = ask(address, port, name, "TXT", resolvers.timeout, recursion=False)
                soa = ask(address, port, zone.name, "SOA", resolvers.timeout, recursion=False)
            except DnsLookupError:
                continue
            ttls = [rrset.ttl for rrset in txt.answer if rrset.rdtype == dns.rdatatype.TXT]
            negative = [min(rrset.ttl, rrset[0].minimum) for rrset in soa.answer if rrset.rdtype == dns.rdatatype.SOA]
            longest = max([longest, *ttls, *negative])
    return timedelta(seconds=min(longest, 7 * 86400))
