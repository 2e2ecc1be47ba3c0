"""Which DNS records a sender domain needs, from the sending profile (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache

from stackshift_cli.domain import DKIM, DMARC, INBOUND, RETURN_PATH, SPF, DnsRecord
from stackshift_cli.errors import InvalidDomainName, UsageError
from stackshift_cli.escape import quoted
from stackshift_cli.names import MAX_NAME_OCTETS

_SELECTOR = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


@dataclass(frozen=True)
class SendingProfile:
    """What the records point at; every field can be set in the config file under `sending.`."""

    spf_include: str = "spf.stackshift.email"
    dkim_selector: str = "stackshift"
    dmarc_policy: str = "none"
    dmarc_rua: str | None = None
    return_path_host: str = "bounces"
    return_path_target: str = "bounces.stackshift.email"
    inbound_host: str = "inbound"
    inbound_target: str = "inbound.stackshift.email"
    inbound_priority: int = 10

    @classmethod
    def from_mapping(cls, values: dict[str, object]) -> SendingProfile:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


def normalize_selector(selector: str) -> str:
    """A DKIM selector is one or more DNS labels; raise UsageError otherwise."""
    value = selector.strip().lower()
    if not _SELECTOR.match(value):
        raise UsageError(
            f"'{quoted(selector)}' is not a valid DKIM selector.",
            hint="Use letters, digits and hyphens, such as 'stackshift' or 's2026'.",
        )
    return value


def dkim_record_value(public_key_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def dmarc_record_value(profile: SendingProfile) -> str:
    value = f"v=DMARC1; p={profile.dmarc_policy};"
    if profile.dmarc_rua:
        rua = profile.dmarc_rua if profile.dmarc_rua.startswith("mailto:") else f"mailto:{profile.dmarc_rua}"
        value += f" rua={rua};"
    return value


def build_records(
    name: str,
    *,
    selector: str,
    public_key_b64: str,
    inbound: bool,
    profile: SendingProfile,
) -> list[DnsRecord]:
    """The records to publish for `name`, in the order users publish them."""

    def record(purpose: str, rtype: str, fqdn: str, value: str, **extra: object) -> DnsRecord:
        return DnsRecord(type=rtype, name=fqdn, host=relative_host(fqdn, name), value=value, purpose=purpose, **extra)  # type: ignore[arg-type]

    records = [
        record(SPF, "TXT", name, f"v=spf1 include:{profile.spf_include} ~all"),
        record(DKIM, "TXT", f"{selector}._domainkey.{name}", dkim_record_value(public_key_b64)),
        record(DMARC, "TXT", f"_dmarc.{name}", dmarc_record_value(profile)),
        record(RETURN_PATH, "CNAME", f"{profile.return_path_host}.{name}", profile.return_path_target),
    ]
    if inbound:
        records.append(
            record(
                INBOUND,
                "MX",
                f"{profile.inbound_host}.{name}",
                profile.inbound_target,
                required=False,
                priority=profile.inbound_priority,
            )
        )
    return records


def check_publishable(name: str, *, selector: str, inbound: bool, profile: SendingProfile) -> None:
    """Refuse a domain whose records could not be published: a record name over 253 octets (RFC 1035 2.3.4),
    which the selector or a long host can make of a name that is valid by itself."""
    names = [f"{selector}._domainkey.{name}", f"_dmarc.{name}", f"{profile.return_path_host}.{name}"]
    if inbound:
        names.append(f"{profile.inbound_host}.{name}")
    longest = max(names, key=len)
    if len(longest) > MAX_NAME_OCTETS:
        raise InvalidDomainName(
            f"The records of {quoted(name, 60)} would need the name {quoted(longest, 60)}, which is {len(longest)} "
            f"octets long; a DNS name has at most {MAX_NAME_OCTETS}.",
            hint="Use a shorter domain, or a shorter DKIM selector (--dkim-selector).",
        )


def check_not_public_suffix(name: str) -> None:
    """A public suffix (co.uk, github.io: names are registered under it) cannot be a sender domain."""
    if organizational_domain(name) is None:
        raise InvalidDomainName(
            f"{quoted(name)} is a public suffix (like co.uk or github.io): domains are registered under it, so it "
            "cannot be a sender domain itself.",
            hint=f"Create the domain you registered under it, such as example.{quoted(name)}.",
        )


def registrable_domain(name: str) -> str:
    """The domain most users edit at their DNS provider (Public Suffix List), or the name itself."""
    return _psl().privatesuffix(name) or name


def organizational_domain(name: str) -> str | None:
    """RFC 7489 organizational domain: the registrable domain, None when the name is a public suffix."""
    return _psl().privatesuffix(name)


def relative_host(fqdn: str, domain_name: str) -> str:
    """`fqdn` relative to the registrable domain of `domain_name`; "@" for its apex."""
    zone = registrable_domain(domain_name)
    if fqdn == zone:
        return "@"
    if fqdn.endswith("." + zone):
        return fqdn[: -len(zone) - 1]
    return fqdn


@lru_cache(maxsize=1)
def _psl():  # the list takes ~0.1 s to load: only when a record is built or a zone is looked up
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()
