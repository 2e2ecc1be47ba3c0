"""What DNS servers said, as plain data: the input of every evaluator (no I/O, no dnspython)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from stackshift_cli.escape import visible
from stackshift_cli.names import MAX_LABEL_OCTETS, MAX_NAME_OCTETS

NO_ANSWER_CODES = ("TIMEOUT", "UNREACHABLE", "BADRESPONSE", "NOTAUTH", "BADNAME")  # queries without a usable reply


def canonical_name(text: str) -> str:
    """A DNS name as compared: no surrounding space, no final dot, lower case."""
    return text.strip().rstrip(".").lower()


def dns_name_problem(name: str) -> str | None:
    """Why `name` (no final dot) is not a name DNS can carry (RFC 1035 2.3.4), or None. The SPF grammar allows
    such names in a domain-spec, but no receiver can look them up."""
    if not name.isascii():
        return f"{visible(name)} is not a valid DNS name (it has characters that are not ASCII)"
    if len(name) > MAX_NAME_OCTETS:
        return f"{visible(name[:40])}… is not a valid DNS name (longer than {MAX_NAME_OCTETS} octets)"
    labels = name.split(".")
    if any(not label for label in labels):
        return f"{visible(name)} is not a valid DNS name (it has an empty label)"
    long = next((label for label in labels if len(label) > MAX_LABEL_OCTETS), None)
    if long is not None:
        return f"{visible(name)} is not a valid DNS name (a label of {len(long)} octets; at most {MAX_LABEL_OCTETS})"
    return None


class Verdict(NamedTuple):
    """A record's status and the sentence that tells the user what it means and what to do."""

    status: str
    explanation: str | None = None


@dataclass(frozen=True)
class Server:
    """A server we send queries to; `host` is its NS name when it is an authoritative server."""

    address: str
    port: int = 53
    host: str | None = None

    @property
    def label(self) -> str:
        where = f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"
        if self.port == 53:
            where = self.address
        return f"{self.host} ({where})" if self.host else where


@dataclass(frozen=True)
class Rr:
    """One resource record of an answer, with its data already decoded."""

    name: str  # owner, lowercase, no trailing dot
    type: str  # "TXT", "CNAME", ...
    ttl: int
    text: str  # TXT: the strings joined; CNAME/NS: the target; MX: the exchange; SOA: the serial; else rdata text
    strings: tuple[str, ...] = ()  # TXT only: the character-strings as published
    priority: int | None = None  # MX only

    def key(self) -> tuple[str, str, str, int | None]:
        """What the record says, without its TTL (servers and caches agree on this, not on the TTL)."""
        return (self.name, self.type, self.text.lower() if self.type != "TXT" else self.text, self.priority)


@dataclass(frozen=True)
class Soa:
    owner: str
    serial: int
    ttl: int
    minimum: int


@dataclass(frozen=True)
class Answer:
    """One server's reply to one query, or the reason there was none."""

    server: Server
    name: str
    type: str
    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... or one of NO_ANSWER_CODES
    records: tuple[Rr, ...] = ()  # the answer section, CNAME chain included
    soa: Soa | None = None  # from the authority section (negative answers)
    additional: tuple[Rr, ...] = ()
    authority_ns: tuple[str, ...] = ()  # a referral's NS names
    authoritative: bool = False
    error: str | None = None  # why there was no usable answer, in words
    referral: str | None = None  # the child zone a non-authoritative server referred us to

    @property
    def transient(self) -> bool:
        """The query did not finish: nothing can be concluded about the record from this answer."""
        return self.rcode not in ("NOERROR", "NXDOMAIN")

    @property
    def problem(self) -> str:
        """The transient failure, worded for an explanation: 'SERVFAIL from 127.0.0.1'."""
        if self.rcode in NO_ANSWER_CODES:
            return f"{self.error or self.rcode.lower()} ({self.server.label})"
        return f"{self.rcode} from {self.server.label}"

    def final_name(self) -> str:
        """The name at the end of the CNAME chain that starts at the query name."""
        name, seen = self.name, set()
        while name not in seen:
            seen.add(name)
            target = next((r.text for r in self.records if r.type == "CNAME" and r.name == name), None)
            if target is None:
                return name
            name = target
        return name

    def rrs(self, rtype: str, name: str | None = None) -> list[Rr]:
        """Records of `rtype` owned by `name` (default: the end of the CNAME chain)."""
        owner = name if name is not None else self.final_name()
        return [r for r in self.records if r.type == rtype and r.name == owner]

    def cname(self) -> Rr | None:
        return next((r for r in self.records if r.type == "CNAME" and r.name == self.name), None)

    def signature(self) -> tuple:
        """What this answer says, comparable across servers and caches."""
        return (self.rcode if self.rcode != "NXDOMAIN" or self.records else "NXDOMAIN",
                frozenset(r.key() for r in self.records))


@dataclass(frozen=True)
class Zone:
    """The zone that holds a name, and its authoritative servers (empty when discovery failed)."""

    name: str | None
    servers: tuple[Server, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Observation:
    """What every authoritative server of the zone, and the configured resolver, answer for one name and type."""

    name: str
    type: str
    zone: Zone
    authoritative: tuple[Answer, ...]
    serials: dict[Server, int | None] = field(default_factory=dict)
    resolver: Answer | None = None
