"""The bulk-sender requirements of Gmail, Yahoo and Outlook that DNS can show, for one domain (pure).

Since 2024 these receivers ask bulk senders for SPF and DKIM that pass, a DMARC policy of at least p=none, and
DMARC alignment: the From: domain must match (relaxed: share the organizational domain with) the DKIM d= domain
or the SPF (return-path) domain. StackShift signs with d=<domain> and bounces through `bounces.<domain>`, so DKIM
always aligns and SPF aligns unless the DMARC record asks for strict SPF alignment (aspf=s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stackshift_cli.domain import CHECK_FIELDS, DKIM, DMARC, RETURN_PATH, SPF, VERIFIED, Domain

KEYS = ("spf", "dkim", "dmarc", "alignment")
MAX_DETAIL = 500


@dataclass(frozen=True)
class DmarcFacts:
    """What the DMARC record that applies asks for (from a check)."""

    location: str
    policy: str
    aspf: str = "r"
    adkim: str = "r"
    own: bool = True


@dataclass(frozen=True)
class Requirement:
    key: str  # one of KEYS
    met: bool | None  # None: not known (the domain was never checked)
    description: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"requirement": self.key, "met": self.met, "description": self.description, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Any) -> Requirement | None:
        """A stored requirement, or None when the data is not one (the store's rows are validated too)."""
        if not isinstance(data, dict) or data.get("requirement") not in KEYS:
            return None
        met = data.get("met")
        description, detail = data.get("description"), data.get("detail")
        if not (met is None or type(met) is bool) or not isinstance(description, str) or not isinstance(detail, str):
            return None
        return cls(data["requirement"], met, description[:MAX_DETAIL], detail[:MAX_DETAIL])


def requirements(domain: Domain, dmarc: DmarcFacts | None = None) -> tuple[Requirement, ...]:
    """One line per requirement, from the records' statuses and, when known, the DMARC record that applies."""
    status = {purpose: domain.check_status(field) for purpose, field in CHECK_FIELDS.items()}
    checked = domain.last_checked_at is not None

    def met(purpose: str) -> bool | None:
        return status[purpose] == VERIFIED if checked else None

    def state(purpose: str) -> str:
        return f"the {purpose_label(purpose)} record is {status[purpose]}" if checked else "not checked yet"

    name = domain.name
    spf_ok, dkim_ok, dmarc_ok = met(SPF), met(DKIM), met(DMARC)
    found = []
    found.append(Requirement("spf", spf_ok, "SPF passes for mail sent through StackShift",
                             f"{name} authorises StackShift" if spf_ok else state(SPF)))
    found.append(Requirement("dkim", dkim_ok, f"DKIM key published for d={name}",
                             "the key record matches" if dkim_ok else state(DKIM)))
    if dmarc_ok and dmarc is not None:
        where = "its own record" if dmarc.own else "the record it inherits"
        dmarc_detail = f"p={dmarc.policy} from {dmarc.location} ({where})"
    else:
        dmarc_detail = "a DMARC policy applies" if dmarc_ok else state(DMARC)
    found.append(Requirement("dmarc", dmarc_ok, "DMARC policy of at least p=none", dmarc_detail))
    found.append(_alignment(domain, status, checked, dmarc))
    return tuple(found)


def _alignment(domain: Domain, status: dict[str, str], checked: bool, dmarc: DmarcFacts | None) -> Requirement:
    description = "DMARC alignment (DKIM or SPF matches the From: domain)"
    if not checked:
        return Requirement("alignment", None, description, "not checked yet")
    name = domain.name
    return_path = next((r.name for r in domain.records if r.purpose == RETURN_PATH), f"a name under {name}")
    parts: list[str] = []
    dkim_aligns = status.get(DKIM) == VERIFIED
    parts.append(f"DKIM aligns (d={name})" if dkim_aligns else "DKIM cannot align until its key is verified")
    if dmarc is not None and dmarc.aspf == "s":
        spf_aligns = False
        parts.append(f"SPF cannot align: aspf=s requires the return path to be {name} itself, not {return_path}")
    elif status.get(SPF) == VERIFIED and status.get(RETURN_PATH) == VERIFIED:
        spf_aligns = True
        parts.append(f"SPF aligns through the return path {return_path}"
                     + (" (aspf=r)" if dmarc is not None else ""))
    else:
        spf_aligns = False
        parts.append("SPF cannot align until SPF and the return path are verified")
    return Requirement("alignment", dkim_aligns or spf_aligns, description, "; ".join(parts))


def purpose_label(purpose: str) -> str:
    return {SPF: "SPF", DKIM: "DKIM", DMARC: "DMARC", RETURN_PATH: "return-path"}.get(purpose, purpose)


def dumps(found: tuple[Requirement, ...]) -> str | None:
    return json.dumps([r.to_json() for r in found]) if found else None


def loads(text: Any) -> tuple[Requirement, ...]:
    """Requirements stored as JSON; anything unreadable is dropped (they are computed again on the next check)."""
    if not isinstance(text, str) or len(text) > 20_000:
        return ()
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(data, list):
        return ()
    found = [r for r in (Requirement.from_json(item) for item in data[: len(KEYS)]) if r is not None]
    return tuple(found) if [r.key for r in found] == list(KEYS) else ()
