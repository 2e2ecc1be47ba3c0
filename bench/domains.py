"""The benchmark domains: names, ids, the one DKIM key they share, which ones are broken, and their verdicts.

Domain i (1, 2, ...) is `d000001.bench` and so on. The world publishes, and the stores hold, the records that
`stackshift domains create` asks for (`stackshift_cli.records.build_records`, default sending profile, no inbound
MX). Every domain uses one DKIM key pair, made once and kept in the bench cache: a store of 100,000 domains cannot
wait for 100,000 RSA keys.

A deterministic ~10 % are published broken (i % 10 == 3), in turn of several kinds (BREAKAGES). Each kind carries
the verdict stackshift gives it today (status and the four check statuses, recorded from a real run): the bench checks
every verdict of every run against these, so an engine change that alters a verdict shows at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TLD = "bench"
SELECTOR = "stackshift"
CHECK_FIELDS = ("spfStatus", "dkimStatus", "dmarcStatus", "returnPathStatus")
VERIFIED = {"status": "verified", **{field: "verified" for field in CHECK_FIELDS}}


def domain_name(i: int) -> str:
    return f"d{i:06d}.{TLD}"


def domain_index(name: str) -> int | None:
    """i for `d000001.bench` (any case, trailing dot allowed); None for any other name."""
    name = name.lower().rstrip(".")
    if not name.endswith("." + TLD):
        return None
    label = name[: -len(TLD) - 1].rsplit(".", 1)[-1]
    return int(label[1:]) if len(label) == 7 and label[0] == "d" and label[1:].isdigit() else None


def domain_id(i: int) -> str:
    """A stable id of the form the local store makes (`dom_` and 16 hex digits)."""
    return "dom_" + hashlib.sha256(f"stackshift-bench-{i}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Breakage:
    """One way a domain is published wrong, and the verdict stackshift gives it (recorded from a run)."""

    kind: str
    what: str
    change: Callable[[dict[str, str], "Keys"], None]  # edits {purpose: value}; a deleted purpose is not published
    expected: dict[str, str]


def _drop(purpose: str) -> Callable[[dict[str, str], "Keys"], None]:
    return lambda values, keys: values.pop(purpose)


def _set(purpose: str, value: str) -> Callable[[dict[str, str], "Keys"], None]:
    return lambda values, keys: values.__setitem__(purpose, value)


def _wrong_key(values: dict[str, str], keys: Keys) -> None:
    values["dkim"] = values["dkim"].replace(keys.public_b64, keys.wrong_public_b64)


def _verdict(status: str, **checks: str) -> dict[str, str]:
    return {"status": status, **{field: checks.get(field, "verified") for field in CHECK_FIELDS}}


BREAKAGES: tuple[Breakage, ...] = (
    Breakage("spf-missing", "no SPF record", _drop("spf"), _verdict("pending", spfStatus="missing")),
    Breakage("spf-no-include", "SPF without StackShift's include (v=spf1 ip4:198.51.100.0/24 -all)",
             _set("spf", "v=spf1 ip4:198.51.100.0/24 -all"), _verdict("failed", spfStatus="failed")),
    Breakage("dkim-wrong-key", "DKIM record with another key", _wrong_key, _verdict("failed", dkimStatus="failed")),
    Breakage("dkim-missing", "no DKIM record", _drop("dkim"), _verdict("pending", dkimStatus="missing")),
    Breakage("dmarc-invalid-p", "DMARC with p=bogus", _set("dmarc", "v=DMARC1; p=bogus;"),
             _verdict("failed", dmarcStatus="failed")),
    Breakage("return-path-wrong-target", "return-path CNAME to bounces.mailer.example",
             _set("returnPath", "bounces.mailer.example"), _verdict("failed", returnPathStatus="failed")),
)


def breakage(i: int) -> Breakage | None:
    """How domain i is broken, or None for a correct domain (9 in 10)."""
    if i % 10 != 3:
        return None
    return BREAKAGES[(i // 10) % len(BREAKAGES)]


def expected_verdict(i: int) -> dict[str, str]:
    broken = breakage(i)
    return dict(VERIFIED) if broken is None else dict(broken.expected)


@dataclass(frozen=True)
class Keys:
    """The DKIM key pair every benchmark domain uses, and another public key (for `dkim-wrong-key`)."""

    pem: bytes
    public_b64: str
    wrong_public_b64: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.public_b64.encode()).hexdigest()[:8]


def keys(cache: Path) -> Keys:
    """The bench's key pair, made with stackshift's own generator the first time and kept in `<cache>/keys.json`."""
    path = cache / "keys.json"
    try:
        data = json.loads(path.read_text())
        return Keys(data["pem"].encode(), data["public_b64"], data["wrong_public_b64"])
    except (OSError, ValueError, KeyError):
        pass
    from stackshift_cli.keys import generate_dkim_keypair

    pem, public = generate_dkim_keypair()
    _, wrong = generate_dkim_keypair()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"pem": pem.decode(), "public_b64": public, "wrong_public_b64": wrong}, handle)
    os.replace(tmp, path)
    return Keys(pem, public, wrong)


def records(i: int, keys: Keys) -> list:
    """The records `create` asks domain i to publish (stackshift_cli.records.build_records), as DnsRecord objects."""
    from stackshift_cli.records import SendingProfile, build_records

    return build_records(domain_name(i), selector=SELECTOR, public_key_b64=keys.public_b64, inbound=False,
                         profile=SendingProfile())


def published(i: int, keys: Keys) -> list:
    """The records the world publishes for domain i: the ones `create` asks for, changed by its breakage if any."""
    from dataclasses import replace

    wanted = records(i, keys)
    broken = breakage(i)
    if broken is None:
        return wanted
    values = {r.purpose: r.value for r in wanted}
    broken.change(values, keys)
    return [replace(r, value=values[r.purpose]) for r in wanted if r.purpose in values]
