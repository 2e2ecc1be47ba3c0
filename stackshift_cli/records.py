"""Which DNS records a sender domain needs, from the sending profile (pure)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from stackshift_cli.checks import REGISTRY, SENDING_KEYS
from stackshift_cli.domain import DnsRecord
from stackshift_cli.errors import InvalidDomainName, UsageError
from stackshift_cli.escape import quoted
from stackshift_cli.names import MAX_NAME_OCTETS
from stackshift_cli.psl import privatesuffix  # reads the list at the first look-up, without parsing it

_SELECTOR = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


class SendingProfile:
    """What the records point at: the `sending.*` config keys of every check (checks.SENDING_KEYS), as
    attributes (`profile.spf_include`), with their defaults."""

    def __init__(self, **values: Any) -> None:
        defaults = {key.name: key.default for key in SENDING_KEYS}
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise TypeError(f"not sending keys: {', '.join(unknown)}")
        self._values = {**defaults, **values}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SendingProfile:
        known = {key.name for key in SENDING_KEYS}
        return cls(**{k: v for k, v in values.items() if k in known})

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SendingProfile) and self._values == other._values

    def __repr__(self) -> str:
        return f"SendingProfile({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"


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


def new_record(purpose: str, rtype: str, fqdn: str, domain_name: str, value: str, **extra: Any) -> DnsRecord:
    """A record to publish, its host relative to the domain the user manages (see relative_host)."""
    return DnsRecord(type=rtype, name=fqdn, host=relative_host(fqdn, domain_name), value=value, purpose=purpose,
                     **extra)


def build_records(
    name: str,
    *,
    selector: str,
    public_key_b64: str,
    inbound: bool,
    profile: SendingProfile,
) -> list[DnsRecord]:
    """The records to publish for `name`, in the order users publish them (the checks registry's order)."""
    built = (kind.rules().expected(name, selector=selector, public_key_b64=public_key_b64, profile=profile,
                                   inbound=inbound) for kind in REGISTRY)
    return [record for record in built if record is not None]


def check_publishable(name: str, *, selector: str, inbound: bool, profile: SendingProfile) -> None:
    """Refuse a domain whose records could not be published: a record name over 253 octets (RFC 1035 2.3.4),
    which the selector or a long host can make of a name that is valid by itself."""
    records = build_records(name, selector=selector, public_key_b64="", inbound=inbound, profile=profile)
    longest = max((r.name for r in records), key=len)
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
    return privatesuffix(name) or name


def organizational_domain(name: str) -> str | None:
    """RFC 7489 organizational domain: the registrable domain, None when the name is a public suffix."""
    return privatesuffix(name)


def relative_host(fqdn: str, domain_name: str) -> str:
    """`fqdn` relative to the registrable domain of `domain_name`; "@" for its apex."""
    zone = registrable_domain(domain_name)
    if fqdn == zone:
        return "@"
    if fqdn.endswith("." + zone):
        return fqdn[: -len(zone) - 1]
    return fqdn
