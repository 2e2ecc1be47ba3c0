"""The `rfc2136` provider: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), to the zone's primary or a server.

Reads ask that same server (recursion off, over TCP): what the plan sees is what the update will meet. Each update
is one edit at one name, sent with prerequisites (RFC 2136 2.4) that the name still holds, for every type the edit
touches, exactly what the plan saw: a record someone changed in between makes the server refuse the update
(NXRRSET, YXRRSET) instead of stackshift overwriting it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from stackshift_cli.errors import PrerequisiteFailed, ProviderAuthError, ProviderError, UsageError
from stackshift_cli.escape import quoted, visible
from stackshift_cli.providers import READ_TYPES, RFC2136, Edit, Publisher, ZoneRecord
from stackshift_cli.publish.zone import DnsLookupError, Resolvers, ask, text

if TYPE_CHECKING:
    from stackshift_cli.config import Settings

MAX_TXT_STRING = 255  # octets in one character-string (RFC 1035 3.3)
_PREREQUISITE_RCODES = ("NXRRSET", "YXRRSET", "NXDOMAIN", "YXDOMAIN")
_SERVER_HINT = ("Updates go to the zone's primary (its SOA MNAME) unless publish.rfc2136.server (or "
                "STACKSHIFT_RFC2136_SERVER, with _PORT) names it: check that it is the primary and answers.")
_TSIG_HINT = ("Check publish.rfc2136.key_name, key_secret and key_algorithm (or STACKSHIFT_RFC2136_KEY_NAME, "
              "_KEY_SECRET, _KEY_ALGORITHM) against the server's key.")


class Rfc2136(Publisher):
    name = RFC2136

    def __init__(self, zone: str, address: str, port: int, host: str, *, key_name: str | None,
                 key_secret: str | None, key_algorithm: str, timeout: float) -> None:
        self.zone = zone
        self.address = address
        self.port = port
        self.timeout = timeout
        self.key_name = key_name
        self._keyring: Any = None
        if key_name and key_secret:
            import dns.tsigkeyring

            try:
                self._keyring = dns.tsigkeyring.from_text({key_name: key_secret})
            except Exception:  # dnspython raises binascii.Error, ValueError ... for a bad secret
                raise UsageError("publish.rfc2136.key_secret is not a valid base64 TSIG secret.",
                                 hint="Set it again with `stackshift config set publish.rfc2136.key_secret -`.") \
                    from None
        self.key_algorithm = key_algorithm
        where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        self.where = f"rfc2136 ({host}, {where})" if host != address else f"rfc2136 ({where})"

    @classmethod
    def open(cls, settings: Settings, zone: str, nameservers: Sequence[str], *, mname: str | None = None
             ) -> Rfc2136:
        """Updates go to publish.rfc2136.server, else to the zone's primary (its SOA MNAME)."""
        import ipaddress

        timeout = settings.duration("publish.timeout")
        configured = settings.get("publish.rfc2136.server")
        host = configured or mname
        resolvers = Resolvers.from_settings(nameservers, settings.duration("dns.timeout"))
        if not host:
            host = resolvers.find_zone(zone).mname
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            found = resolvers.addresses(host)
            if not found:
                raise ProviderError(f"The update server {visible(host)} has no address.",
                                    hint="Set publish.rfc2136.server (or STACKSHIFT_RFC2136_SERVER) to the primary's "
                                         "address.") from None
            address = found[0]
        key_name, key_secret = settings.get("publish.rfc2136.key_name"), settings.get("publish.rfc2136.key_secret")
        if bool(key_name) != bool(key_secret):
            missing = "key_secret" if key_name else "key_name"
            raise UsageError(f"publish.rfc2136.{missing} is not set, and a TSIG key needs both a name and a secret.",
                             hint=f"Set it with `stackshift config set publish.rfc2136.{missing} "
                                  f"{'-' if missing == 'key_secret' else 'NAME'}` (or STACKSHIFT_RFC2136_"
                                  f"{missing.upper()}).")
        return cls(zone, address, int(settings.get("publish.rfc2136.port")), host, key_name=key_name,
                   key_secret=key_secret, key_algorithm=settings.get("publish.rfc2136.key_algorithm"),
                   timeout=timeout)

    # ------------------------------------------------------------ reading

    def read(self, names: Sequence[str]) -> dict[str, list[ZoneRecord]]:
        import dns.flags
        import dns.rdatatype

        found: dict[str, list[ZoneRecord]] = {}
        for name in names:
            records: list[ZoneRecord] = []
            for rtype in READ_TYPES:
                try:
                    response = ask(self.address, self.port, name, rtype, self.timeout, recursion=False, tcp=True)
                except DnsLookupError as exc:
                    raise ProviderError(f"Cannot read {visible(name)} from {self.where}: {exc.message}.",
                                        hint=_SERVER_HINT) from None
                if not response.flags & dns.flags.AA:
                    raise ProviderError(f"{self.where} is not authoritative for {self.zone}: it cannot take its "
                                        "updates.", hint=_SERVER_HINT)
                for rrset in response.answer:
                    if text(rrset.name) != name or dns.rdatatype.to_text(rrset.rdtype) not in READ_TYPES:
                        continue
                    records += [_record(name, rrset.rdtype, rrset.ttl, rdata) for rdata in rrset]
            found[name] = list(dict.fromkeys(records))  # a CNAME comes back with every query
        return found

    # ------------------------------------------------------------ writing

    def apply(self, edit: Edit) -> None:
        import dns.exception
        import dns.query
        import dns.rcode
        import dns.rdataclass
        import dns.rdataset
        import dns.rdatatype
        import dns.tsig
        import dns.update

        import dns.name

        keyname = dns.name.from_text(self.key_name) if self.key_name else None
        update = dns.update.UpdateMessage(self.zone, keyring=self._keyring, keyname=keyname,
                                          keyalgorithm=_algorithm(self.key_algorithm))
        for rtype in edit.expect_types:
            present = [r for r in edit.expect if r.type == rtype]
            if present:
                rdataset = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
                for record in present:
                    rdataset.add(_rdata(record))
                update.present(edit.name + ".", rdataset)
            else:
                update.absent(edit.name + ".", rtype)
        for record in edit.remove:
            update.delete(edit.name + ".", _rdata(record))
        for record in edit.add:
            update.add(edit.name + ".", record.ttl or 300, _rdata(record))
        try:
            response = dns.query.tcp(update, self.address, timeout=self.timeout, port=self.port)
        except dns.tsig.PeerError as exc:
            raise ProviderAuthError(f"{self.where} refused the TSIG key {visible(self.key_name or '')} "
                                    f"({type(exc).__name__}) for {visible(edit.name)}; nothing was changed there.",
                                    hint=_TSIG_HINT) from None
        except dns.exception.Timeout:
            raise ProviderError(f"{self.where} did not answer the update of {visible(edit.name)} within "
                                f"{self.timeout:g}s; it may or may not have applied it.",
                                hint="Run the same command again: it plans from what the zone holds then.") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise ProviderError(f"Cannot send the update of {visible(edit.name)} to {self.where}: "
                                f"{quoted(str(exc), 120)}.") from None
        rcode = dns.rcode.to_text(response.rcode())
        if rcode == "NOERROR":
            return
        if rcode in _PREREQUISITE_RCODES:
            raise PrerequisiteFailed(f"{visible(edit.name)} changed at {self.where} since the plan was made "
                                     f"({rcode}); nothing was changed there.",
                                     hint="Run the same command again to see the new plan.")
        if rcode == "NOTAUTH":
            raise ProviderAuthError(f"{self.where} refused the update of {visible(edit.name)} (NOTAUTH): it does not "
                                    "accept this TSIG key for the zone.", hint=_TSIG_HINT)
        if rcode == "REFUSED":
            signed = f"the key {visible(self.key_name)}" if self.key_name else "unsigned updates"
            raise ProviderAuthError(f"{self.where} refused the update of {visible(edit.name)} (REFUSED): its policy "
                                    f"does not let {signed} change this name.",
                                    hint="Check the zone's allow-update or update-policy, and the TSIG key.")
        raise ProviderError(f"{self.where} did not apply the update of {visible(edit.name)} ({rcode}).")


def _algorithm(name: str) -> Any:
    """dnspython's name of a TSIG algorithm: hmac-md5 is the old HMAC-MD5.SIG-ALG.REG.INT (RFC 8945 6)."""
    import dns.tsig

    return {"hmac-md5": dns.tsig.HMAC_MD5, "hmac-sha1": dns.tsig.HMAC_SHA1, "hmac-sha224": dns.tsig.HMAC_SHA224,
            "hmac-sha256": dns.tsig.HMAC_SHA256, "hmac-sha384": dns.tsig.HMAC_SHA384,
            "hmac-sha512": dns.tsig.HMAC_SHA512}[name.lower()]


def _record(name: str, rdtype: int, ttl: int, rdata: Any) -> ZoneRecord:
    import dns.rdatatype

    rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))
    if rtype == "TXT":
        strings = tuple(s.decode("utf-8", "replace") for s in rdata.strings)
        return ZoneRecord("TXT", name, "".join(strings), ttl, strings=strings)
    if rtype == "CNAME":
        return ZoneRecord("CNAME", name, text(rdata.target), ttl)
    if rtype == "MX":
        return ZoneRecord("MX", name, text(rdata.exchange), ttl, priority=int(rdata.preference))
    return ZoneRecord(rtype, name, rdata.to_text(), ttl)


def _rdata(record: ZoneRecord) -> Any:
    """The rdata of a record: TXT in the strings it was read in, or split into 255-octet strings."""
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    from dns.rdtypes.ANY.CNAME import CNAME
    from dns.rdtypes.ANY.MX import MX
    from dns.rdtypes.ANY.TXT import TXT

    if record.type == "TXT":
        if record.strings:
            strings = [s.encode("utf-8") for s in record.strings]
        else:
            raw = record.value.encode("utf-8")
            strings = [raw[i:i + MAX_TXT_STRING] for i in range(0, len(raw), MAX_TXT_STRING)] or [b""]
        return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)
    if record.type == "CNAME":
        return CNAME(dns.rdataclass.IN, dns.rdatatype.CNAME, dns.name.from_text(record.value))
    if record.type == "MX":
        return MX(dns.rdataclass.IN, dns.rdatatype.MX, record.priority or 0, dns.name.from_text(record.value))
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(record.type), record.value)
