"""The zone a domain's records go in, found by SOA through the resolvers (never guessed from the name), and plain
DNS queries for publishing: dnspython, synchronous, bounded (one domain at a time needs nothing more).

A `Resolvers` object asks the configured resolvers (dns.nameservers, else the system's) in turn; `ask` asks one
server, recursion off, over TCP (an update's server, and answers too large for UDP). Every answer is checked:
its id and question (dnspython), its rcode, and its size (records per answer, text per record).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from stackshift_cli.errors import StackshiftError
from stackshift_cli.escape import quoted, visible

if TYPE_CHECKING:
    import dns.message

MAX_RECORDS_PER_ANSWER = 500
MAX_LABELS = 127


class DnsLookupError(StackshiftError):
    """A lookup publishing needs failed (no answer, SERVFAIL, an answer stackshift refuses): exit 1."""


@dataclass(frozen=True)
class ZoneFound:
    """The zone holding a domain: its apex (the SOA's owner), its primary (SOA MNAME) and its NS names."""

    name: str
    mname: str
    nameservers: tuple[str, ...] = ()


def text(name: object) -> str:
    """A dnspython name as stackshift writes names: lowercase, no trailing dot."""
    return str(name).rstrip(".").lower()


class Resolvers:
    """The resolvers publishing asks (RD=1), in order: the first that answers decides."""

    def __init__(self, servers: Sequence[tuple[str, int]], timeout: float) -> None:
        self.servers = list(servers)
        self.timeout = timeout

    @classmethod
    def from_settings(cls, nameservers: Sequence[str], timeout: float) -> Resolvers:
        from stackshift_cli.config import parse_nameservers

        if nameservers:
            return cls(parse_nameservers(list(nameservers)), timeout)
        from stackshift_cli.verify.lookup import system_resolvers

        return cls([(s.address, s.port) for s in system_resolvers()], timeout)

    def query(self, name: str, rtype: str) -> dns.message.Message:
        failures = []
        for address, port in self.servers:
            try:
                return ask(address, port, name, rtype, self.timeout, recursion=True)
            except DnsLookupError as exc:
                failures.append(exc.message)
        raise DnsLookupError(f"No resolver answered for {rtype} at {visible(name)}: {'; '.join(failures)}",
                             hint="Check dns.nameservers (or STACKSHIFT_NAMESERVERS), or the system's resolvers.")

    def addresses(self, host: str) -> list[str]:
        """The host's IPv4 then IPv6 addresses."""
        found: list[str] = []
        for rtype in ("A", "AAAA"):
            response = self.query(host, rtype)
            found += [rdata.to_text() for rrset in response.answer if rrset.rdtype == _type(rtype) for rdata in rrset]
        return found

    def find_zone(self, name: str) -> ZoneFound:
        """The zone holding `name`: the owner of the SOA its resolver shows, at the name or above it (the SOA of
        an answer at a zone apex, or the authority SOA of an answer below it)."""
        import dns.rdatatype

        candidate = name
        for _ in range(MAX_LABELS):
            response = self.query(candidate, "SOA")
            for section in (response.answer, response.authority):
                for rrset in section:
                    owner = text(rrset.name)
                    if rrset.rdtype == dns.rdatatype.SOA and (name == owner or name.endswith("." + owner)):
                        mname = text(rrset[0].mname)
                        ns = self.query(owner, "NS")
                        hosts = sorted({text(r.target) for s in ns.answer if s.rdtype == dns.rdatatype.NS
                                        and text(s.name) == owner for r in s})
                        return ZoneFound(owner, mname, tuple(hosts[:13]))
            if "." not in candidate:
                break
            candidate = candidate.split(".", 1)[1]
        raise DnsLookupError(f"No zone holds {visible(name)}: no SOA record was found at it or above it.",
                             hint="Check that the domain is registered and delegated to your DNS provider.")


def _type(rtype: str) -> int:
    import dns.rdatatype

    return int(dns.rdatatype.from_text(rtype))


def ask(address: str, port: int, name: str, rtype: str, timeout: float, *, recursion: bool,
        tcp: bool = False) -> dns.message.Message:
    """One query to one server; an answer with an rcode other than NOERROR or NXDOMAIN, or too many records, is an
    error naming the server."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode

    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    query = dns.message.make_query(name, rtype)
    if not recursion:
        query.flags &= ~dns.flags.RD
    try:
        if tcp:
            response = dns.query.tcp(query, address, timeout=timeout, port=port)
        else:
            response, _ = dns.query.udp_with_fallback(query, address, timeout=timeout, port=port)
    except dns.exception.Timeout:
        raise DnsLookupError(f"{where} did not answer within {timeout:g}s") from None
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        raise DnsLookupError(f"{where} could not be asked ({quoted(str(exc), 120)})") from None
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise DnsLookupError(f"{where} answered {dns.rcode.to_text(rcode)} for {rtype} at {visible(name)}")
    if sum(len(rrset) for rrset in response.answer) > MAX_RECORDS_PER_ANSWER:
        raise DnsLookupError(f"{where} answered more than {MAX_RECORDS_PER_ANSWER} records for {rtype} at "
                             f"{visible(name)}; stackshift does not read that many")
    return response
