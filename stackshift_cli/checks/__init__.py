"""Record checks: one module per record purpose, and the registry every other part of stackshift iterates.

A check module (`checks/spf.py`, `dkim.py`, `dmarc.py`, `return_path.py`, `inbound_mx.py`) holds the rules of
its record (pure functions of DNS answers) and these entry points:

    claims(record) -> bool              whether a record without a `purpose` is of this kind (API records)
    expected(name, *, selector, public_key_b64, profile, inbound) -> DnsRecord | None
                                        the record `create` asks the user to publish (None: not for this domain)
    looks_like(record, rr) -> bool      whether a record found at another name is the one meant here
                                        (the wrong-host diagnosis: the zone appended twice, the apex)
    wrong_types(record) -> tuple        the types that, at the record's own name, stand in its place
    PROBE_APEX: bool                    whether a missing record may have been published at the apex
    async judge(record, judging) -> (Verdict, Settled | None) | None
                                        the verdict from DNS (None: a record type this check does not judge)

The registry below gives each purpose its label, the domain's field that carries its status, its column in
`domains list`, and its `sending.*` config keys. Nothing else names a purpose: `records.build_records` (what
`create` prints), the verify engine's dispatch, the diagnoses, `Domain.to_json`'s check-status fields, the
output's labels and columns, and the config keys all iterate REGISTRY.

Adding a kind is one module and one line. For MTA-STS (a TXT record at `_mta-sts.<domain>`):

    # checks/mta_sts.py: claims, expected, looks_like, wrong_types, PROBE_APEX, judge (and its rules)
    Kind("mtaSts", "MTA-STS", "stackshift_cli.checks.mta_sts", status_field="mtaStsStatus", column="MTA-STS",
         sending=(SendingKey("mta_sts_mode", "MTA-STS mode for new domains.", "choice:enforce,testing", "testing"),)),

This package's `__init__` stays light (no check module is imported until a record is built or judged), because
`domain.py` and `config.py`, which every command imports, read the registry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackshift_cli.domain import DnsRecord


@dataclass(frozen=True)
class SendingKey:
    """A `sending.<name>` config key: what the records of new domains point at."""

    name: str
    help: str
    parse: str  # how config.py reads it: "hostname", "host_label", "choice:a,b", "rua", "priority"
    default: Any = None


@dataclass(frozen=True)
class Kind:
    """One record purpose."""

    purpose: str  # the record's `purpose` in JSON
    label: str  # how output names it ("SPF", "Return-path")
    module: str  # the module with its rules and entry points
    status_field: str | None = None  # the domain's field for its status (spfStatus); None: not one of those
    column: str | None = None  # its column in `domains list` (with status_field)
    sending: tuple[SendingKey, ...] = ()

    def rules(self) -> ModuleType:
        return importlib.import_module(self.module)


DMARC_POLICIES = ("none", "quarantine", "reject")  # p=, sp=, np= (RFC 9989 4.7)

REGISTRY: tuple[Kind, ...] = (
    Kind("spf", "SPF", "stackshift_cli.checks.spf", status_field="spfStatus", column="SPF",
         sending=(SendingKey("spf_include", "The SPF include that authorises StackShift.", "hostname",
                             "spf.stackshift.email"),)),
    Kind("dkim", "DKIM", "stackshift_cli.checks.dkim", status_field="dkimStatus", column="DKIM",
         sending=(SendingKey("dkim_selector", "Default DKIM selector for new domains.", "host_label", "stackshift"),)),
    Kind("dmarc", "DMARC", "stackshift_cli.checks.dmarc", status_field="dmarcStatus", column="DMARC",
         sending=(SendingKey("dmarc_policy", "DMARC policy published for new domains.",
                             "choice:" + ",".join(DMARC_POLICIES), "none"),
                  SendingKey("dmarc_rua", "Address for DMARC aggregate reports (rua=mailto:...).", "rua"))),
    Kind("returnPath", "Return-path", "stackshift_cli.checks.return_path", status_field="returnPathStatus",
         column="RETURN-PATH",
         sending=(SendingKey("return_path_host", "Host of the return-path CNAME, under the domain.", "host_label",
                             "bounces"),
                  SendingKey("return_path_target", "Target of the return-path CNAME.", "hostname",
                             "bounces.stackshift.email"))),
    Kind("inbound", "MX", "stackshift_cli.checks.inbound_mx",
         sending=(SendingKey("inbound_host", "Host of the inbound MX record, under the domain.", "host_label",
                             "inbound"),
                  SendingKey("inbound_target", "Exchange of the inbound MX record.", "hostname",
                             "inbound.stackshift.email"),
                  SendingKey("inbound_priority", "Priority of the inbound MX record (0 to 65535).", "priority", 10))),
)

PURPOSES = tuple(k.purpose for k in REGISTRY)
CHECK_FIELDS = {k.purpose: k.status_field for k in REGISTRY if k.status_field}  # "spf" -> "spfStatus"
SENDING_KEYS = tuple(key for k in REGISTRY for key in k.sending)
_BY_PURPOSE = {k.purpose: k for k in REGISTRY}


def by_purpose(purpose: str | None) -> Kind | None:
    return _BY_PURPOSE.get(purpose or "")


def kind_of(record: DnsRecord) -> Kind | None:
    """The record's kind: its purpose when it has one, else the first check that claims it."""
    if record.purpose:
        return by_purpose(record.purpose)
    return next((k for k in REGISTRY if k.rules().claims(record)), None)


def label(purpose: str | None) -> str:
    kind = by_purpose(purpose)
    return kind.label if kind else (purpose or "")
