"""The zones and name servers of the domains checked lately, kept between runs as a guess, never as an answer.

Finding a domain's authoritative servers takes two round trips before the first record can be asked of them (the
zone's NS set from the resolver, then the servers' addresses). `verify NAME` sends its record queries to the
servers the last run found for that domain at once, in the same round as that discovery, and uses their answers
only when the discovery (made as always) finds the very same zone and servers; otherwise it asks the servers it
found, as without a guess. So the file can make a check quicker, never different.

The file is data from outside like any other: it is read with size, count and shape limits, an entry that is not
exactly what this module writes is ignored, and it is written atomically, mode 0600, in the private data directory.
Entries are kept per set of resolvers and authoritative port (a test's loopback world is not the user's Internet).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from stackshift_cli.verify.answers import Server, Zone

FILE_NAME = "zones.json"
MAX_FILE_BYTES = 256 * 1024
MAX_VIEWS = 8  # sets of resolvers remembered
MAX_ZONES_PER_VIEW = 256  # domains remembered per set of resolvers, the most recently checked
MAX_SERVERS = 16
MAX_AGE_S = 7 * 24 * 3600.0  # a guess older than a week is not worth a packet
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


def path_in(directory: Path) -> Path:
    return directory / "cache" / FILE_NAME


def view_key(resolvers: list[Server], authoritative_port: int) -> str:
    return ",".join(f"{s.address}#{s.port}" for s in resolvers) + f";{authoritative_port}"


def load(path: Path, view: str, *, now: float | None = None) -> dict[str, Zone]:
    """domain -> the zone (name and servers) the last runs found for it, with these resolvers; {} when there is no
    file or it cannot be read. Entries that are not well-formed or too old are left out."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return {}
        entries = json.loads(data).get("views", {}).get(view, {})
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}
    if not isinstance(entries, dict):
        return {}
    now = time.time() if now is None else now
    zones: dict[str, Zone] = {}
    for domain, entry in list(entries.items())[:MAX_ZONES_PER_VIEW]:
        zone = _zone(domain, entry, now)
        if zone is not None:
            zones[domain] = zone
    return zones


def save(path: Path, view: str, found: dict[str, Zone], *, now: float | None = None) -> None:
    """Remember the zones found this run (merged over the file's, the most recent first, within the limits).
    Best effort: a file that cannot be written is left as it is."""
    if not found:
        return
    from stackshift_cli.files import write_private_file

    now = time.time() if now is None else now
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_FILE_BYTES + 1) or b"{}")
        views = data.get("views") if isinstance(data, dict) else None
        if not isinstance(views, dict):
            views = {}
    except (OSError, ValueError, RecursionError):
        views = {}
    entries = {domain: {"zone": zone.name, "at": now,
                        "servers": [[s.address, s.port, s.host] for s in zone.servers[:MAX_SERVERS]]}
               for domain, zone in found.items() if zone.name and zone.servers and not zone.error}
    previous = views.get(view)
    if not isinstance(previous, dict):
        previous = {}
    for domain, entry in previous.items():
        if domain not in entries and len(entries) < MAX_ZONES_PER_VIEW and _zone(domain, entry, now) is not None:
            entries[domain] = entry
    views.pop(view, None)
    kept = {view: entries, **dict(list(views.items())[:MAX_VIEWS - 1])}  # this view first: it is the newest
    try:
        write_private_file(path, json.dumps({"views": kept}, separators=(",", ":")).encode())
    except OSError:
        pass


def _zone(domain: object, entry: object, now: float) -> Zone | None:
    if not (_is_name(domain) and isinstance(entry, dict)):
        return None
    name, at, servers = entry.get("zone"), entry.get("at"), entry.get("servers")
    if not (_is_name(name) and isinstance(at, (int, float)) and 0 <= now - at <= MAX_AGE_S
            and isinstance(servers, list) and 0 < len(servers) <= MAX_SERVERS):
        return None
    assert isinstance(domain, str) and isinstance(name, str)
    if not (domain == name or domain.endswith("." + name)):
        return None  # a domain's zone is at or above it
    parsed = []
    for server in servers:
        if not (isinstance(server, list) and len(server) == 3):
            return None
        address, port, host = server
        if not (_is_address(address) and type(port) is int and 0 < port < 65536 and (host is None or _is_name(host))):
            return None
        parsed.append(Server(address, port, host))
    return Zone(name, tuple(parsed))


def _is_name(value: object) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= 253 and set(value) <= _NAME_CHARS
            and "" not in value.split("."))


def _is_address(value: object) -> bool:
    import ipaddress

    if not isinstance(value, str) or len(value) > 45:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
