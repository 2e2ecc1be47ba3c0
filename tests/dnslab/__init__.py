"""DNS lab for the tests: real BIND authoritative servers and an Unbound resolver, loopback only.

Started once per pytest session (per xdist worker) by the ``dnslab`` fixture in
``tests/conftest_dnslab.py``; usable directly too::

    from tests.dnslab import DnsLab
    with DnsLab.start() as lab:          # temp dir; or DnsLab.start("/some/dir")
        lab.publish("_dmarc.example.test", "TXT", "v=DMARC1; p=none")
        print(lab.query_resolver("_dmarc.example.test", "TXT").answer)

Topology
--------
Each lab owns one block ``127.B.C.0/24``: ``B`` = 100 + the xdist worker number (99 without
xdist), ``C`` random (re-drawn if any of the block's addresses is already on ``lo``), so two labs
never share an address. Every authoritative server - BIND or Python - listens on UDP+TCP on the
same random port ``P`` (free on all the block's addresses, outside the ephemeral port range):

========================  ==========  ==================================================
address (``lab.addr``)    what        zones / behaviour
========================  ==========  ==================================================
127.B.C.10  ``root``      named       the lab root zone ``.``: delegations of every lab
                                      zone + glue for every ``*.lab.test`` host
127.B.C.11  ``ns1``       named       lab.test, example.test, other.test, example.co.uk,
                                      stackshift.email, z01.test ... z20.test,
                                      mixed.test, slow.test; TSIG-only: tsig1.test ...
                                      tsig8.test, tsigdeny.test
127.B.C.12  ``pdns``      PowerDNS    pdns1.test ... pdns4.test (sqlite3 backend, HTTP API on
                                      127.0.0.1): only while the ``powerdns`` fixture runs
                                      (``tests/dnslab/powerdns.py``); otherwise unused
127.B.C.21  ``nsa``       named       prop.test, prop1.test ... prop8.test  (own copy)
127.B.C.22  ``nsb``       named       prop.test, prop1.test ... prop8.test  (own copy;
                                      no zone transfer between nsa and nsb)
127.B.C.31  ``blackhole`` Python      bound UDP + listening TCP, never answers
127.B.C.32  ``servfail``  Python      answers SERVFAIL to everything
127.B.C.33  ``slow``      Python      DelayProxy -> ns1, 100 ms (``lab.slow_proxy.delay_ms``)
127.B.C.40-59             Python      extra DelayProxies from ``lab.start_delay_proxy()``
127.B.C.60-79             Python      HostileServers from ``hostile.start_hostile(lab)``: scripted
                                      answers (SOA loops, TC then a closed TCP connection,
                                      silence), the rest relayed to the resolver
127.0.0.1 port Q          unbound     the caching resolver (``lab.resolver``)
========================  ==========  ==================================================

NS sets (host names in ``lab.test``, whose A records are the addresses above): most zones
``ns1.lab.test``; prop zones ``nsa`` + ``nsb``; ``mixed.test`` = ``ns1`` + ``blackhole``;
``slow.test`` = ``slow``; ``dead.test`` = ``blackhole`` only; ``servfail.test`` = ``servfail``
only. Every zone starts with serial 1, ``$TTL 300`` and SOA minimum (negative TTL) 300, and only
SOA + NS at the apex, except ``stackshift.email`` (``spf`` TXT "v=spf1 ip4:192.0.2.0/24 ~all",
``bounces`` A 192.0.2.10, ``inbound`` A 192.0.2.20).

BIND instances run in the foreground (``named -g -4 -n 1 -c <tmp>/named-<host>/named.conf``),
``recursion no; dnssec-validation no; notify no;``, no rndc channel, listen only on their own
address, and every zone has ``allow-update { 127.0.0.0/8; }`` so records are changed with RFC 2136
updates (``lab.publish`` / ``lab.remove`` / ``lab.replace``, which use ``dns.update`` over TCP).

TSIG zones (the publish feature signs its updates): ``tsig1.test`` ... ``tsig8.test`` have
``allow-update { key "stackshift-lab-key."; }`` and no IP ACL, so an unsigned update is REFUSED and
a wrongly signed one gets NOTAUTH (TSIG error BADSIG; dnspython raises ``dns.tsig.PeerBadSignature``).
``tsigdeny.test`` has ``update-policy { deny <key> name _dmarc.tsigdeny.test. ANY; grant <key>
subdomain tsigdeny.test. ANY; }``: even a signed update of ``_dmarc.tsigdeny.test`` is REFUSED (and
a whole update containing it). The key is ``lab.tsig_key_name`` ("stackshift-lab-key."),
``lab.tsig_algorithm`` ("hmac-sha256") and ``lab.tsig_secret`` (base64 of 32 random bytes, new per
lab); ``lab.tsig_keyring`` is the dnspython keyring. The lab's helpers (publish, replace, remove,
reset_zone, ``lab.update_message(zone)``) sign updates of these zones themselves; AXFR and queries
need no key. Their SOA MNAME is ``ns1.lab.test.`` like the other ns1 zones.

PowerDNS (``tests/dnslab/powerdns.py``, fixtures ``powerdns`` and ``fresh_pdns_zone``): a
``pdns_server`` on ``lab.addr("pdns")``:P whose zones are created and changed through its HTTP API
(``powerdns.api_url``, key ``powerdns.api_key``); ``pdns.lab.test`` is published in ``lab.test``
and its zones are added to Unbound as stubs at run time (``unbound-control stub_add``), so the
resolver finds them like the BIND zones. The lab root does not delegate them.
BIND only listens on addresses that exist on an interface, so the lab adds its four named
addresses as ``/32`` on ``lo`` (rtnetlink, needs root) and removes them at close.

Resolution path: Unbound (``module-config: "iterator"``, no DNSSEC, ``do-not-query-localhost:
no``, ``outgoing-interface: 127.0.0.1``) cannot learn a non-53 port from a referral, so every lab
zone is a ``stub-zone`` whose ``stub-addr`` entries are its NS addresses ``@P`` (``stub-prime:
no``, ``stub-first: no``), and ``"."`` is a stub to the lab root, which answers NXDOMAIN for any
name outside the lab: no packet ever leaves 127.0.0.0/8 and there is no root-hints traffic (the
root stub replaces the built-in hints). The root zone still delegates every lab zone, for tests
that walk the tree by hand. A delegation a test adds *inside* a lab zone is NOT followed by
Unbound (it would use port 53). Unbound's built-in ``test.`` local zone is disabled
(``local-zone: "test." nodefault``) and ``discard-timeout: 0`` keeps it answering slow lookups
(e.g. ``mixed.test`` when it tries the silent server first: ~0.75-2.3 s). It caches positive
and negative answers (``cache-min-ttl: 0``, ``serve-expired: no``), so an NXDOMAIN seen before a
publish stays for 300 s: ``lab.flush_resolver(name)`` clears it (control socket in the temp dir).

Everything (configs, zone files, journals, logs, pid files) lives in the lab's temp dir; the
processes are killed at close, at interpreter exit (atexit) and, via PR_SET_PDEATHSIG, when the
Python process dies.
"""

from .lab import (
    ADDON_HOSTS,
    DEFAULT_TTL,
    HOSTS,
    NEGATIVE_TTL,
    POOLS,
    PROP_POOL,
    SINGLE_POOL,
    TSIG_ALGORITHM,
    TSIG_DENY_POOL,
    TSIG_KEY_NAME,
    TSIG_POOL,
    ZONES,
    DnsLab,
    DnsLabUnavailable,
    LabError,
    ZoneSpec,
    split_txt,
)
from .hostile import HostileServer, start_hostile
from .pyservers import BlackholeServer, DelayProxy, ServfailServer

__all__ = [
    "ADDON_HOSTS",
    "DEFAULT_TTL",
    "HOSTS",
    "NEGATIVE_TTL",
    "POOLS",
    "PROP_POOL",
    "SINGLE_POOL",
    "TSIG_ALGORITHM",
    "TSIG_DENY_POOL",
    "TSIG_KEY_NAME",
    "TSIG_POOL",
    "ZONES",
    "BlackholeServer",
    "DelayProxy",
    "DnsLab",
    "DnsLabUnavailable",
    "HostileServer",
    "LabError",
    "ServfailServer",
    "ZoneSpec",
    "split_txt",
    "start_hostile",
]
