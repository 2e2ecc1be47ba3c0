"""pytest fixtures for the DNS lab (``tests/dnslab``).

Use them from a conftest with::

    from tests.conftest_dnslab import dnslab, fresh_prop_zone, fresh_zone  # noqa: F401

(or ``pytest_plugins = ["tests.conftest_dnslab"]`` in the top-level ``tests/conftest.py``; not both
styles at once, or pytest warns that the module was imported before it could be assert-rewritten).
Importing them into several conftests is fine: pytest then holds several fixture definitions,
but they share one lab per process (see ``_shared`` and ``_shared_server``).
``tests/dnslab/conftest.py`` imports them for the lab's own tests.

Fixtures:

* ``dnslab`` (session): the running :class:`tests.dnslab.DnsLab`; one per session, i.e. one per
  xdist worker, each on its own 127.B.C.0/24 block and ports. Stopped at session end (and atexit).
  If BIND/Unbound are missing or the lab can't start, every test using it ERRORS (never skips).
* ``fresh_zone`` (function): the name of an unused zone from z01.test ... z20.test (served by ns1
  only, SOA + NS only); after the test every other record is deleted and the zone is flushed
  from the resolver cache.
* ``fresh_prop_zone`` (function): the same for the two-server zones prop1.test ... prop8.test
  (nsa + nsb, independent copies); after the test both copies are reset and their SOA serials
  aligned again.
* ``fresh_tsig_zone`` (function): the same for tsig1.test ... tsig8.test (ns1), which only accept
  updates signed with the lab's TSIG key (``dnslab.tsig_key_name`` / ``tsig_algorithm`` /
  ``tsig_secret``): an unsigned update is REFUSED, a wrong secret gets NOTAUTH (BADSIG).
* ``fresh_tsig_deny_zone`` (function): tsigdeny.test (ns1), signed updates only, and its
  update-policy refuses even a signed update of ``_dmarc.tsigdeny.test`` (REFUSED): the "a later
  change of the batch fails" case.
* ``powerdns`` (session, on top of ``dnslab``): a running :class:`tests.dnslab.powerdns.PowerDns`,
  PowerDNS Authoritative on ``lab.addr("pdns")`` (127.B.C.12) at ``lab.port``, its HTTP API at
  ``powerdns.api_url`` with the key ``powerdns.api_key``; zones ``powerdns.zones`` (pdns1.test ...
  pdns4.test) resolvable through the lab resolver. Stopped, and its stubs / A record / address
  removed, at session end. Missing pdns or a failed start makes the tests using it ERROR.
* ``fresh_pdns_zone`` (function): an unused pdns zone, reset to SOA + NS through the API (and
  flushed from the resolver) after the test.

Every ``fresh_*`` fixture borrows its zone through ``_borrowed``; ``dnslab`` and ``powerdns`` both
come from ``_shared_server``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import pytest

from tests.dnslab import DnsLab, DnsLabUnavailable, LabError
from tests.dnslab.powerdns import PowerDns

# One lab (and one pdns) per process even if these fixtures are registered more than once (e.g. imported
# into a sub-directory conftest AND registered as a plugin: pytest then has two fixture definitions).
_shared: dict[str, Any] = {"server": None, "users": 0}
_shared_pdns: dict[str, Any] = {"server": None, "users": 0}


class _Closable(Protocol):
    def close(self) -> None: ...


_Server = TypeVar("_Server", bound=_Closable)


def _shared_server(shared: dict[str, Any], start: Callable[[], _Server], unavailable: str) -> Iterator[_Server]:
    """The body of a session fixture for a server shared by the whole process: the one in ``shared``, or a new one
    from ``start()`` (kept in ``shared``); it is closed once its last user (fixture definition) is done.

    A failed start makes the tests using it ERROR: ``"<unavailable>: <reason>"`` when the software is missing
    (:class:`DnsLabUnavailable`), the lab's own message for any other :class:`LabError`.
    """
    server = shared["server"]
    if server is None:
        try:
            server = start()
        except DnsLabUnavailable as exc:
            pytest.fail(f"{unavailable}: {exc}", pytrace=False)
        except LabError as exc:
            pytest.fail(str(exc), pytrace=False)
        shared["server"] = server
    shared["users"] += 1
    try:
        yield server
    finally:
        shared["users"] -= 1
        if shared["users"] == 0:
            shared["server"] = None
            server.close()


@contextmanager
def _borrowed(pool: DnsLab | PowerDns, kind: str | None = None) -> Iterator[str]:
    """A zone taken from ``pool``: the lab's pool of ``kind`` ("single", "prop", "tsig", "tsigdeny"), or, with no
    ``kind``, PowerDNS's one pool. Released (reset, flushed, returned to the pool) when the block ends, however."""
    if isinstance(pool, PowerDns):
        assert kind is None, f"PowerDNS has one pool of zones, no kind {kind!r}"
        zone = pool.acquire_zone()
    else:
        zone = pool.acquire_zone() if kind is None else pool.acquire_zone(kind)
    try:
        yield zone
    finally:
        pool.release_zone(zone)


@pytest.fixture(scope="session")
def dnslab(tmp_path_factory: pytest.TempPathFactory):
    """The session's DNS lab (see tests/dnslab/__init__.py for the topology)."""
    yield from _shared_server(_shared, lambda: DnsLab.start(tmp_path_factory.mktemp("dnslab")),
                              "DNS lab unavailable")


@pytest.fixture
def fresh_zone(dnslab: DnsLab):
    """An unused single-server lab zone (e.g. "z07.test"), reset after the test."""
    with _borrowed(dnslab, "single") as zone:
        yield zone


@pytest.fixture
def fresh_prop_zone(dnslab: DnsLab):
    """An unused two-server lab zone (e.g. "prop3.test" on nsa + nsb), reset and re-aligned after the test."""
    with _borrowed(dnslab, "prop") as zone:
        yield zone


@pytest.fixture
def fresh_tsig_zone(dnslab: DnsLab):
    """An unused TSIG-only lab zone (e.g. "tsig4.test" on ns1), reset after the test."""
    with _borrowed(dnslab, "tsig") as zone:
        yield zone


@pytest.fixture
def fresh_tsig_deny_zone(dnslab: DnsLab):
    """tsigdeny.test: TSIG-only, and the key may not touch _dmarc.tsigdeny.test; reset after the test."""
    with _borrowed(dnslab, "tsigdeny") as zone:
        yield zone


@pytest.fixture(scope="session")
def powerdns(dnslab: DnsLab):
    """The session's PowerDNS Authoritative server, attached to the lab (see tests/dnslab/powerdns.py)."""
    yield from _shared_server(_shared_pdns, lambda: PowerDns.start(dnslab), "PowerDNS unavailable")


@pytest.fixture
def fresh_pdns_zone(powerdns: PowerDns):
    """An unused PowerDNS zone (e.g. "pdns2.test"), reset to SOA + NS after the test."""
    with _borrowed(powerdns) as zone:
        yield zone
