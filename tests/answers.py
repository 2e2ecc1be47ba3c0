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
`("TXT", ["v=spf1 ", "mx"])`). Names not in the zone are NXDOMAIN. No I/O: the evaluators only see Answers.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from stackshift_cli.checks import dmarc, spf
from stackshift_cli.verify.answers import Answer, Rr, Server, Verdict

SERVER = Server("127.0.0.1")
INCLUDE = "spf.stackshift.email"
EXPECTED_SPF = f"v=spf1 include:{INCLUDE} ~all"
STACKSHIFT_SPF = "v=spf1 ip4:192.0.2.0/24 ~all"  # StackShift's own record, as in the DNS lab
TTL = 300

RecordSpec = str | tuple[str, str | Sequence[str]]


def _parse(name: str, spec: RecordSpec) -> Rr:
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

    def __init__(self, data: Mapping[str, Iterable[RecordSpec] | str], *, stackshift: bool = True) -> None:
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
                return Answer(SERVER, query, rtype, entry if entry == "SERVFAIL" else "TIMEOUT",
                              error=None if entry == "SERVFAIL" else "no answer within 1s")
            if entry is None:
                return Answer(SERVER, query, rtype, "NXDOMAIN" if not chain else "NOERROR", tuple(chain))
            found = [r for r in entry if r.type == rtype]
            alias = next((r for r in entry if r.type == "CNAME"), None)
            if found or alias is None or rtype == "CNAME":
                return Answer(SERVER, query, rtype, "NOERROR", tuple(chain + found), authoritative=True)
            chain.append(alias)
            current = alias.text
        return Answer(SERVER, query, rtype, "SERVFAIL")

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
