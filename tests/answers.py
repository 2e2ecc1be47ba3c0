"""Hand-built DNS answers for the pure-rule tests: a zone written as a dict, answered the way a resolver would.

    zone = Zone({
        "example.com": ["TXT v=spf1 include:spf.stackshift.email ~all", "MX 10 mail.example.com"],
        "mail.example.com": ["A 192.0.2.25"],
        "_spf.example.net": "TIMEOUT",            # every query for the name times out
        "alias.example.com": ["CNAME example.com"],
    })
    zone.answer("example.com", "TXT")            # an Answer, CNAME chain included
    spf_verdict(zone, "example.com")             # the SPF verdict, lookups fetched from the zone

A TXT value given as a list is published as several character-strings ("TXT" followed by a list is written
`("TXT", ["v=spf1 ", "mx"])`); an `Rr` is published exactly as built (a target in capitals, a final dot). Names
not in the zone are NXDOMAIN. No I/O: the evaluators only see Answers.

A zone can also stand for one server of several: `Zone(data, server=NS2, soa=Soa(...))` answers as NS2, its
negative answers carrying the SOA (the negative-caching TTL). `observation()` puts the answers of each
authoritative server and of the resolver together, as `views.settle` receives them from the lookups.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from stackshift_cli.checks import cname, dmarc, return_path, spf
from stackshift_cli.domain import DnsRecord
from stackshift_cli.records import SendingProfile, build_records
from stackshift_cli.verify import diagnose
from stackshift_cli.verify.answers import Answer, Observation, Rr, Server, Soa, Verdict
from stackshift_cli.verify.answers import Zone as Servers

SERVER = Server("127.0.0.1")
INCLUDE = "spf.stackshift.email"
EXPECTED_SPF = f"v=spf1 include:{INCLUDE} ~all"
STACKSHIFT_SPF = "v=spf1 ip4:192.0.2.0/24 ~all"  # StackShift's own record, as in the DNS lab
TTL = 300

RecordSpec = str | tuple[str, str | Sequence[str]] | Rr


def _parse(name: str, spec: RecordSpec) -> Rr:
    if isinstance(spec, Rr):
        return spec
    if isinstance(spec, tuple):
        rtype, value = spec
    else:
        rtype, _, value = spec.partition(" ")
    rtype = rtype.upper()
    if rtype in ("TXT", "SPF"):
        strings = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        return Rr(name, rtype, TTL, "".join(strings), strings)
    if rtype == "MX":
        priority, _, exchange = str(value).partition(" ")
        return Rr(name, "MX", TTL, exchange.lower().rstrip("."), priority=int(priority))
    if rtype == "CNAME":
        return Rr(name, "CNAME", TTL, str(value).lower().rstrip("."))
    return Rr(name, rtype, TTL, str(value))


class Zone:
    """Names -> records (or "TIMEOUT" / "SERVFAIL" for names whose queries fail)."""

    def __init__(self, data: Mapping[str, Iterable[RecordSpec] | str], *, stackshift: bool = True,
                 server: Server = SERVER, soa: Soa | None = None) -> None:
        self.server = server
        self.soa = soa  # carried by negative answers (NXDOMAIN, or no record of the type)
        self.data: dict[str, list[Rr] | str] = {}
        if stackshift:
            self.data[INCLUDE] = [_parse(INCLUDE, f"TXT {STACKSHIFT_SPF}")]
        for name, specs in data.items():
            key = name.lower().rstrip(".")
            self.data[key] = specs if isinstance(specs, str) else [_parse(key, s) for s in specs]

    def answer(self, name: str, rtype: str) -> Answer:
        """What a resolver answers: the CNAME chain, then the records of `rtype` at its end."""
        query = name.lower().rstrip(".")
        chain: list[Rr] = []
        current = query
        for _ in range(8):
            entry = self.data.get(current)
            if isinstance(entry, str):
                return Answer(self.server, query, rtype, entry if entry == "SERVFAIL" else "TIMEOUT",
                              error=None if entry == "SERVFAIL" else "no answer within 1s")
            if entry is None:
                return Answer(self.server, query, rtype, "NXDOMAIN" if not chain else "NOERROR", tuple(chain),
                              soa=self.soa)
            found = [r for r in entry if r.type == rtype]
            alias = next((r for r in entry if r.type == "CNAME"), None)
            if found or alias is None or rtype == "CNAME":
                return Answer(self.server, query, rtype, "NOERROR", tuple(chain + found), authoritative=True,
                              soa=None if found else self.soa)
            chain.append(alias)
            current = alias.text
        return Answer(self.server, query, rtype, "SERVFAIL")

    def fetched(self, needed: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Answer]:
        return {(n, t): self.answer(n, t) for n, t in needed}


def spf_verdict(zone: Zone, domain: str = "example.com", *, expected: str = EXPECTED_SPF,
                include: str = INCLUDE) -> Verdict:
    """The SPF verdict for `domain`, fetching from the zone whatever the walk asks for, round after round."""
    answer = zone.answer(domain, "TXT")
    texts = [r.text for r in answer.rrs("TXT") if spf.is_spf(r.text)]
    fetched: dict[tuple[str, str], Answer] = {}
    for _ in range(20):
        needed = spf.needed(domain, texts, include, fetched)
        if not needed:
            break
        fetched.update(zone.fetched(needed))
    return spf.evaluate(answer, include=include, expected=expected, fetched=fetched)


def dmarc_judgement(zone: Zone, domain: str = "example.com", *, expected: str = "v=DMARC1; p=none;",
                    return_path: str | None = None) -> dmarc.Judgement:
    """The DMARC judgement for `domain`, with the DNS tree walk answered from the zone."""
    own = zone.answer(f"_dmarc.{domain}", "TXT")
    walked = {}
    if dmarc.needs_walk(own):
        walked = {n: zone.answer(f"_dmarc.{n}", "TXT") for n in dmarc.walk_names(domain)[1:]}
    return dmarc.evaluate(own, domain=domain, expected=expected, walked=walked, return_path=return_path)


def return_path_verdict(zone: Zone, name: str = "bounces.example.com", *,
                        target: str = "bounces.stackshift.email") -> Verdict:
    """The return-path verdict as the check gives it: the CNAME answer at the name, its A answer beside it (what a
    proxying provider answers with), and, for a CNAME to another name, the chain the resolver follows from it."""
    found = zone.answer(name, "CNAME")
    alias = found.cname()
    chain = zone.answer(name, "A") if alias is not None and not cname.same_name(alias.text, target) else None
    return return_path.evaluate(found, zone.answer(name, "A"), target=target, chain=chain)


# Not a real key: the rules compare the text (a real key pair is generated where a signature is verified).
FAKE_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwHandBuiltKeyForPureTests0123456789+/ABCDEFGH"


def expected_records(domain: str = "example.com", *, key: str = FAKE_KEY) -> dict[str, DnsRecord]:
    """The records `create --inbound` asks for (purpose -> record), with the default sending profile."""
    return {r.purpose: r for r in build_records(domain, selector="stackshift", public_key_b64=key, inbound=True,
                                                profile=SendingProfile())}


def diagnosis(zone: Zone, record: DnsRecord, *, domain: str = "example.com",
              zone_name: str | None = "example.com") -> Verdict | None:
    """What `diagnose.explain_missing` says of a missing `record`, each of its probes answered from the zone."""
    answers = {(n, t): zone.answer(n, t) for n, t in diagnose.probes(record, zone_name, domain)}
    return diagnose.explain_missing(record, zone_name, domain, answers)


ServerState = Mapping[str, Iterable[RecordSpec] | str] | str  # a zone's records, or how every query fails


def observation(name: str, rtype: str, authoritative: Mapping[Server, ServerState], *,
                resolver: ServerState | None = None, resolver_server: Server = SERVER,
                serials: Mapping[Server, int | None] | None = None, soa: Soa | None = None,
                zone: str | None = "example.com", zone_error: str | None = None) -> Observation:
    """What each authoritative server (its records, or "TIMEOUT" / "SERVFAIL" for every query) and the resolver
    answer for `name`/`rtype`, as the lookups hand it to `views.settle`. Negative answers carry `soa`."""

    def served(state: ServerState, server: Server) -> Answer:
        data = {name: state} if isinstance(state, str) else state
        return Zone(data, stackshift=False, server=server, soa=soa).answer(name, rtype)

    return Observation(name, rtype, Servers(zone, tuple(authoritative), zone_error),
                       tuple(served(state, server) for server, state in authoritative.items()),
                       dict(serials or {}),
                       served(resolver, resolver_server) if resolver is not None else None)
