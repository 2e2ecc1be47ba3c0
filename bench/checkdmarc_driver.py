"""The baseline: checkdmarc on a list of domains against one resolver. Runs in checkdmarc's own venv (deps.py).

    <venv>/bin/python bench/checkdmarc_driver.py --resolver IP:PORT [--timeout S] DOMAINS_FILE

checkdmarc's command line takes resolvers as bare IP addresses (port 53), so this calls its library the way its
command line does (`check_domains` on the whole list, its defaults: BIMI selector "default", no MX TLS test), with
the world's resolver and port. One JSON line per domain on stdout: whether checkdmarc found SPF and DMARC valid.

Nothing may leave loopback: an audit hook refuses (and counts) every connection, datagram or name lookup that would
go anywhere else (HTTPS for MTA-STS or BIMI, SMTP for STARTTLS, the system's resolver). The last line on stderr is
`outside-attempts: {...}` with what was refused (none, when checkdmarc stays on the given resolver).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections import Counter

refused: Counter = Counter()


def _loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _what(port) -> str:
    return {53: "dns", 853: "dns-over-tls", 443: "https", 80: "http", 25: "smtp", 465: "smtp", 587: "smtp"}.get(
        port, f"port {port}")


def _guard(event: str, args: tuple) -> None:
    """Refuse any traffic that would leave loopback (an audit hook: it sees every socket the process makes)."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and len(address) >= 2 and not _loopback(address[0]):
            refused[f"{_what(address[1])} to {address[0]}"] += 1
            raise PermissionError(f"bench: {event} to {address[0]} refused (loopback only)")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0] if args else None
        if host not in (None, "") and not _loopback(host if not isinstance(host, bytes) else host.decode()):
            refused[f"name lookup of {host}"] += 1
            raise PermissionError(f"bench: {event} of {host!r} refused (it would ask the system's resolver)")
    elif event == "smtplib.connect":
        refused["smtp"] += 1
        raise PermissionError("bench: SMTP refused")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolver", required=True, help="IP:PORT")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("domains_file")
    args = parser.parse_args()
    sys.addaudithook(_guard)

    import checkdmarc
    import dns.nameserver

    address, port = args.resolver.rsplit(":", 1)
    with open(args.domains_file) as handle:
        names = [line.strip() for line in handle if line.strip()]
    results = checkdmarc.check_domains(names, nameservers=[dns.nameserver.Do53Nameserver(address, int(port))],
                                       timeout=args.timeout, check_mx_tls=False)
    if isinstance(results, dict):
        results = [results]
    for result in results:
        spf, dmarc = result.get("spf") or {}, result.get("dmarc") or {}
        print(json.dumps({"domain": result["domain"], "spf": bool(spf.get("valid")), "dmarc": bool(dmarc.get("valid")),
                          "spf_error": spf.get("error"), "dmarc_error": dmarc.get("error")}))
    print("outside-attempts: " + json.dumps(dict(refused)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
