"""How the authoritative servers' answers and the resolver's answer combine into the one answer a check judges.

The verdict follows the authoritative servers: they see a record the moment it is published and no cache
can fool them. When they disagree the zone is still propagating (pending); when none can be reached the
resolver decides and the explanation says so; when the resolver still serves an older answer, a note says
how long its cache may keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackshift_cli.domain import PENDING
from stackshift_cli.verify.answers import Answer, Observation, Verdict


@dataclass(frozen=True)
class Settled:
    """The answer to judge, where it came from, and what the user should know beside the verdict."""

    answer: Answer
    zone: str | None
    notes: tuple[str, ...] = ()
    resolver: Answer | None = None
    from_resolver: bool = False


def settle(obs: Observation) -> Settled | Verdict:
    """The answer every reachable authoritative server agrees on, or a pending verdict that says why not."""
    reached = [a for a in obs.authoritative if not a.transient]
    unreachable = [a for a in obs.authoritative if a.transient]
    if not reached:
        return _resolver_decides(obs, unreachable)
    groups: dict[tuple, list[Answer]] = {}
    for answer in reached:
        groups.setdefault(answer.signature(), []).append(answer)
    if len(groups) > 1:
        return Verdict(PENDING, _propagation(obs, list(groups.values())))
    notes = []
    if unreachable:
        notes.append(
            f"{_servers(unreachable)} did not answer ({'; '.join(a.problem for a in unreachable)}); "
            f"the other authoritative servers of {obs.zone.name} agree."
        )
    return Settled(reached[0], obs.zone.name, tuple(notes), obs.resolver)


def resolver_note(settled: Settled) -> str | None:
    """When the resolver still serves an answer the authoritative servers no longer give: which, and until when."""
    resolver = settled.resolver
    if settled.from_resolver or resolver is None:
        return None
    if resolver.transient:
        return f"The resolver could not answer ({resolver.problem}); the authoritative servers decided."
    if resolver.signature() == settled.answer.signature():
        return None
    if not resolver.records:
        ttl = resolver.soa.ttl if resolver.soa else None
        how_long = (f"for at most {ttl} s more (the zone's negative-caching TTL, from its SOA record)"
                    if ttl is not None else "until its negative-caching TTL expires")
        old = "that the record does not exist"
    else:
        ttl = max(r.ttl for r in resolver.records)
        how_long = f"for at most {ttl} s more (the old record's TTL)"
        old = "with the old record"
    return (
        f"The authoritative servers already serve the current answer, but the resolver {resolver.server.label} "
        f"still answers from its cache {old}, {how_long}; receivers using it see the old answer until then. "
        "Nothing to do: the cache expires by itself."
    )


def _resolver_decides(obs: Observation, unreachable: list[Answer]) -> Settled | Verdict:
    if unreachable:
        why = f"no authoritative server of {obs.zone.name} could be reached ({'; '.join(a.problem for a in unreachable)})"
    else:
        why = obs.zone.error or f"the authoritative servers of {obs.name} could not be found"
    resolver = obs.resolver
    if resolver is None or resolver.transient:
        problem = resolver.problem if resolver is not None else "no resolver"
        return Verdict(
            PENDING,
            f"The check of {obs.type} at {obs.name} could not finish: {why}, and the resolver failed too "
            f"({problem}). This is usually temporary; verify again later.",
        )
    note = f"{_capital(why)}, so the resolver {resolver.server.label} decided; its answer may come from a cache."
    return Settled(resolver, obs.zone.name, (note,), resolver, from_resolver=True)


def _propagation(obs: Observation, groups: list[list[Answer]]) -> str:
    """Which servers lag, with their SOA serials: the ones serving the lowest serials."""
    serial_of = {a.server: obs.serials.get(a.server) for group in groups for a in group}
    newest = max((s for s in serial_of.values() if s is not None), default=None)

    def describe(group: list[Answer]) -> str:
        return ", ".join(
            f"{a.server.label}, serial {serial_of[a.server] if serial_of[a.server] is not None else 'unknown'}"
            for a in group
        )

    ranked = sorted(groups, key=lambda g: max((serial_of[a.server] or -1) for a in g), reverse=True)
    ahead, behind = ranked[0], [a for g in ranked[1:] for a in g]
    if newest is None:
        return (f"The authoritative servers of {obs.zone.name} disagree about {obs.type} at {obs.name} "
                f"({describe(ahead)} vs {describe(behind)}); the DNS provider is still copying the zone. "
                "Verify again in a few minutes.")
    return (
        f"The zone {obs.zone.name} is still propagating between its authoritative servers: "
        f"{describe(behind)} {'lags' if len(behind) == 1 else 'lag'} behind {describe(ahead)}, and they give "
        f"different answers for {obs.type} at {obs.name}. Nothing to change; verify again in a few minutes."
    )


def _servers(answers: list[Answer]) -> str:
    return ", ".join(a.server.label for a in answers)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
