"""The sender domain and its DNS records, the status vocabulary, and the aggregate rule (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

# Domain status (product documentation vocabulary; do not rename).
PENDING = "pending"
VERIFIED = "verified"
FAILED = "failed"
DISABLED = "disabled"
# Record and check status.
MISSING = "missing"

DOMAIN_STATUSES = (PENDING, VERIFIED, FAILED, DISABLED)
RECORD_STATUSES = (MISSING, PENDING, VERIFIED, FAILED)

# Record purposes, and the domain field that carries each check's status.
SPF = "spf"
DKIM = "dkim"
DMARC = "dmarc"
RETURN_PATH = "returnPath"
INBOUND = "inbound"
PURPOSES = (SPF, DKIM, DMARC, RETURN_PATH, INBOUND)
CHECK_FIELDS = {
    SPF: "spfStatus",
    DKIM: "dkimStatus",
    DMARC: "dmarcStatus",
    RETURN_PATH: "returnPathStatus",
}

DEFAULT_VERIFY_WINDOW = timedelta(hours=72)


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
    def from_json(cls, data: dict[str, Any]) -> DnsRecord:
        """Build a record from JSON, tolerating missing optional fields and ignoring unknown ones."""
        name = str(data.get("name") or "").rstrip(".")
        priority = data.get("priority")
        return cls(
            type=str(data.get("type") or "").upper(),
            name=name,
            host=str(data.get("host") or name),
            value=str(data.get("value") or ""),
            purpose=data.get("purpose"),
            required=bool(data.get("required", True)),
            status=str(data.get("status") or MISSING),
            explanation=data.get("explanation"),
            priority=int(priority) if isinstance(priority, (int, str)) and str(priority).isdigit() else None,
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
        if self.check_error:
            data["checkError"] = self.check_error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Domain:
        """Build a domain from API JSON: unknown fields ignored, optional ones tolerated, statuses kept as given."""
        checks = {f: str(data[f]) for f in CHECK_FIELDS.values() if data.get(f) is not None}
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or "").rstrip(".").lower(),
            status=str(data.get("status") or PENDING),
            records=tuple(DnsRecord.from_json(r) for r in data.get("records") or () if isinstance(r, dict)),
            created_at=parse_time(data.get("createdAt")),
            last_checked_at=parse_time(data.get("lastCheckedAt")),
            dkim_selector=data.get("dkimSelector"),
            check_statuses=checks,
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
