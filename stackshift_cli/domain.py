"""The sender domain and its DNS records, the status vocabulary (from statuses.py), and the aggregate rule (pure,
no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from stackshift_cli.checks import CHECK_FIELDS, PURPOSES
from stackshift_cli.errors import InvalidApiData, InvalidDomainName
from stackshift_cli.escape import quoted
from stackshift_cli.names import MAX_NAME_OCTETS, is_id
from stackshift_cli.statuses import (  # noqa: F401  (the status vocabulary, re-exported beside the model)
    DISABLED,
    DOMAIN_STATUSES,
    FAILED,
    MISSING,
    PENDING,
    RECORD_STATUSES,
    VERIFIED,
)

# Record purposes (the record's `purpose` in JSON). The checks registry (checks/__init__.py) knows every one,
# and which domain field carries each check's status; these names are for code that means one of them.
SPF = "spf"
DKIM = "dkim"
DMARC = "dmarc"
RETURN_PATH = "returnPath"
INBOUND = "inbound"

DEFAULT_VERIFY_WINDOW = timedelta(hours=72)

# What stackshift accepts from the API (Domain.from_json): anything else is refused where it enters.
RECORD_TYPES = ("TXT", "CNAME", "MX")  # the types stackshift can check and print as a zone
MAX_RECORDS = 100  # records of one domain
_WORD = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a status: shown as it is when stackshift does not know it
_DNS_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")  # record names hold `_dmarc`, `s1._domainkey` ...
_PRIORITY_TEXT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class DnsRecord:
    """One DNS record the user publishes, with the verdict of its last check."""

    type: str
    name: str  # FQDN without the trailing dot
    host: str  # name relative to the registrable domain, "@" for its apex
    value: str
    purpose: str | None = None
    required: bool = True
    status: str = MISSING
    explanation: str | None = None
    priority: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "host": self.host,
            "value": self.value,
            "status": self.status,
            "required": self.required,
            "explanation": self.explanation,
            "purpose": self.purpose,
        }
        if self.priority is not None or self.type == "MX":
            data["priority"] = self.priority
        return data

    @classmethod
    def from_json(cls, data: Any, domain: str | None = None) -> DnsRecord:
        """Build a record from API JSON, checked: raises InvalidApiData saying what is wrong with it.

        Optional fields may be missing (or null) and unknown ones are ignored; a field that is present must have
        its type and form. With `domain`, the record's name must be that domain or a name under it.
        """
        if not isinstance(data, dict):
            raise InvalidApiData(f"it is {_kind(data)}, not an object")
        rtype = _text(data, "type", "")
        if rtype.upper() not in RECORD_TYPES:
            raise InvalidApiData(f"its type {_shown(rtype)} is not one stackshift knows ({', '.join(RECORD_TYPES)})")
        raw_name = _text(data, "name", "")
        name = raw_name[:-1] if raw_name.endswith(".") else raw_name
        if not is_dns_name(name):
            raise InvalidApiData(f"its name {_shown(raw_name)} is not a DNS name")
        if domain is not None and not (name.lower() == domain or name.lower().endswith("." + domain)):
            raise InvalidApiData(f"its name {_shown(name)} is not under the domain {domain}")
        host = _text(data, "host", "") or name
        if host != "@" and not is_dns_name(host):
            raise InvalidApiData(f"its host {_shown(host)} is neither '@' nor a DNS name")
        value = _text(data, "value", "")
        if rtype.upper() in ("CNAME", "MX") and value and not is_dns_name(value.removesuffix(".")):
            raise InvalidApiData(f"its {rtype.upper()} value {_shown(value)} is not a DNS name")
        purpose = _text(data, "purpose", None)
        required = data.get("required")
        if required is not None and not isinstance(required, bool):
            raise InvalidApiData(f"its 'required' is {_kind(required)}, not true or false")
        return cls(
            type=rtype.upper(),
            name=name,
            host=host,
            value=value,
            purpose=purpose if purpose in PURPOSES else None,  # an unknown purpose: judged by its type
            required=True if required is None else required,
            status=_word(data, "status", MISSING),
            explanation=_text(data, "explanation", None),
            priority=_priority(data.get("priority")),
        )

    def with_verdict(self, status: str, explanation: str | None) -> DnsRecord:
        return replace(self, status=status, explanation=explanation)


@dataclass(frozen=True)
class Domain:
    """A sender domain as both backends describe it."""

    id: str
    name: str
    status: str = PENDING
    records: tuple[DnsRecord, ...] = ()
    created_at: datetime | None = None
    last_checked_at: datetime | None = None
    dkim_selector: str | None = None
    check_statuses: dict[str, str] = field(default_factory=dict)  # "spfStatus" -> status
    dkim_key_path: str | None = None  # local backend only
    requirements: tuple[Any, ...] = ()  # requirements.Requirement from the last check, when stackshift made it
    check_error: str | None = None  # why the last attempt to check it could not run (not stored)
    dkim_rotation: Any = None  # rotation.Rotation, the domain's DKIM key rotation (local backend only)
    verified_since: datetime | None = None  # when it last became verified (history.py)
    last_change_at: datetime | None = None  # when its status or a record's status last changed
    regressed_at: datetime | None = None  # when a verified domain's required record stopped verifying (unrepaired)
    explanation: str | None = None  # why the domain has its status, when a rule of its own decided it (a regression)

    def check_status(self, field_name: str) -> str:
        """The status of one check (spfStatus, ...): stored, else the status of its record."""
        if field_name in self.check_statuses:
            return self.check_statuses[field_name]
        purpose = next(p for p, f in CHECK_FIELDS.items() if f == field_name)
        record = next((r for r in self.records if r.purpose == purpose), None)
        return record.status if record else MISSING

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "status": self.status}
        for field_name in CHECK_FIELDS.values():
            data[field_name] = self.check_status(field_name)
        data["records"] = [r.to_json() for r in self.records]
        data["createdAt"] = format_time(self.created_at)
        data["lastCheckedAt"] = format_time(self.last_checked_at)
        data["dkimSelector"] = self.dkim_selector
        if self.explanation:
            data["explanation"] = self.explanation
        if self.dkim_rotation is not None:
            data["dkimRotation"] = self.dkim_rotation.to_json()
        if self.check_error:
            data["checkError"] = self.check_error
        return data

    @classmethod
    def from_json(cls, data: Any, *, skipped: list[str] | None = None) -> Domain:
        """Build a domain from API JSON, checked where it enters; raises InvalidApiData saying what is wrong.

        The id must be a token (letters, digits, '_', '-'; at most 64), the name a valid domain name in its
        canonical form (a trailing dot and upper case are tolerated), the times ISO 8601, and `records` a list
        of at most MAX_RECORDS. Unknown fields are ignored and statuses kept as given. A record stackshift
        cannot use is left out and described in `skipped` when that list is given; otherwise it is an error.
        """
        if not isinstance(data, dict):
            raise InvalidApiData(f"it is {_kind(data)}, not an object")
        domain_id = data.get("id")
        if not is_id(domain_id):
            shown = _shown(domain_id) if isinstance(domain_id, str) else _kind(domain_id)
            raise InvalidApiData(f"its id {shown} is not an id (1 to 64 letters, digits, '_' or '-')")
        name = _domain_name(data.get("name"))
        records = data.get("records")
        if records is None:
            records = []
        if not isinstance(records, list):
            raise InvalidApiData(f"{name} has 'records' that are {_kind(records)}, not a list")
        if len(records) > MAX_RECORDS:
            raise InvalidApiData(f"{name} has {len(records)} records; stackshift reads at most {MAX_RECORDS} "
                                 "records of a domain")
        parsed: list[DnsRecord] = []
        for index, item in enumerate(records, 1):
            try:
                parsed.append(DnsRecord.from_json(item, name))
            except InvalidApiData as exc:
                if skipped is None:
                    raise InvalidApiData(f"record {index} of {name}: {exc.message}") from None
                skipped.append(f"record {index} of {name}: {exc.message}")
        selector = _text(data, "dkimSelector", None)
        if selector is not None and not is_dns_name(selector):
            raise InvalidApiData(f"{name} has a dkimSelector {_shown(selector)} that is not a DNS name")
        return cls(
            id=domain_id,
            name=name,
            status=_word(data, "status", PENDING),
            records=tuple(parsed),
            created_at=_api_time(data, "createdAt"),
            last_checked_at=_api_time(data, "lastCheckedAt"),
            dkim_selector=selector,
            check_statuses={f: _word(data, f, "") for f in CHECK_FIELDS.values() if data.get(f) is not None},
        )

    def with_records(self, records: list[DnsRecord], checked_at: datetime, window: timedelta) -> Domain:
        """This domain after a check: new record verdicts, check statuses and aggregate status."""
        records_t = tuple(records)
        checks = {
            f: next((r.status for r in records_t if r.purpose == p), MISSING) for p, f in CHECK_FIELDS.items()
        }
        status = self.status
        if status != DISABLED:
            status = aggregate_status(records_t, self.created_at or checked_at, checked_at, window)
        return replace(self, records=records_t, status=status, last_checked_at=checked_at, check_statuses=checks)


def aggregate_status(
    records: tuple[DnsRecord, ...] | list[DnsRecord],
    created_at: datetime,
    now: datetime,
    window: timedelta = DEFAULT_VERIFY_WINDOW,
) -> str:
    """verified iff every required record is verified; failed iff a required record failed, or one is
    still missing once the window since creation has passed; pending otherwise."""
    required = [r for r in records if r.required]
    if any(r.status == FAILED for r in required):
        return FAILED
    if all(r.status == VERIFIED for r in required):
        return VERIFIED
    if now - created_at >= window and any(r.status == MISSING for r in required):
        return FAILED
    return PENDING


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- checking API JSON (Domain.from_json)


def is_dns_name(name: str) -> bool:
    """True for a name DNS can carry as a record name (no final dot): ASCII labels of letters, digits, '-' and '_',
    1 to 63 octets each, at most 253 in all."""
    return 0 < len(name) <= MAX_NAME_OCTETS and all(_DNS_LABEL.fullmatch(label) for label in name.split("."))


def _domain_name(value: Any) -> str:
    """The domain's name as stored: what normalize_domain makes of it, which it must already be."""
    from stackshift_cli.names import normalize_domain

    if not isinstance(value, str):
        raise InvalidApiData(f"its name is {_kind(value)}, not a string")
    name = (value[:-1] if value.endswith(".") else value).lower()
    try:
        valid = normalize_domain(name) == name
        reason = "it is not in canonical form (lowercase A-labels)"
    except InvalidDomainName as exc:
        valid, reason = False, exc.message if len(value) <= 100 else f"{len(value)} characters"
    if not valid:
        raise InvalidApiData(f"its name {_shown(value)} is not a valid domain name ({reason.rstrip('.')})")
    return name


def _text(data: dict[str, Any], key: str, default: Any) -> Any:
    """A string field: `default` when missing or null."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidApiData(f"its '{key}' is {_kind(value)}, not a string")
    return value


def _word(data: dict[str, Any], key: str, default: str) -> str:
    """A status: one word, kept as given even when stackshift does not know it."""
    value = _text(data, key, None)
    if value is None:
        return default
    if not _WORD.fullmatch(value):
        raise InvalidApiData(f"its '{key}' {_shown(value)} is not a status word")
    return value


def _priority(value: Any) -> int | None:
    """An MX priority: 0 to 65535, as a number or a string of digits."""
    if value is None:
        return None
    if isinstance(value, str) and _PRIORITY_TEXT.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        number = -1
    if not 0 <= number <= 65535:
        raise InvalidApiData(f"its priority {_shown(str(value))} is not a number from 0 to 65535")
    return number


def _api_time(data: dict[str, Any], key: str) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset) that is a real moment in UTC, or None when missing."""
    value = _text(data, key, None)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidApiData(f"its '{key}' {_shown(value)} is not a time stackshift can read") from None


def _shown(value: Any) -> str:
    """Outside text in a message: quoted, escaped and shortened."""
    return f"'{quoted(str(value)[:200], 60)}'"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")
