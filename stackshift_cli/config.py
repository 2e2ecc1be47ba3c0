"""Paths, the TOML config file, profiles, and value precedence: flags > environment > file > defaults.

The paths, the file, the precedence and the keys that choose the backend live in configfile.py (TAB reads them
without this module); this one adds every other key, with its parser.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any, Callable

from stackshift_cli.checks import SENDING_KEYS, SendingKey
from stackshift_cli.configfile import (  # noqa: F401  (re-exported: config is where the rest of stackshift looks)
    API_KEY,
    API_URL,
    APP_NAME,
    BACKEND,
    DEFAULT_API_URL,
    DEFAULT_PROFILE,
    ConfigFile,
    Key,
    ProfileSettings,
    check_type as _check_type,
    choice as _choice,
    config_dir,
    config_file,
    data_dir,
    is_loopback_host,
    shown_url,
    unknown_key,
    validate_profile_name,
)
from stackshift_cli.configfile import PROFILE_NAME as _PROFILE_NAME  # noqa: F401
from stackshift_cli.errors import UsageError
from stackshift_cli.escape import quoted
from stackshift_cli.providers import RFC2136_INFO, Credential

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MAX_DURATION_S = 3650 * 86400.0  # ten years: longer is a typo, and would overflow dates


# ---------------------------------------------------------------- value types


def parse_duration(text: str | float | int) -> float:
    """'15m', '10s', '1h30m', '500ms', '72h' or a plain number of seconds -> seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        raw = str(text).strip()
        pos, seconds = 0, 0.0
        for match in _DURATION.finditer(raw):
            if match.start() != pos or not match.group(0):
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "").lower() or None]
            pos = match.end()
        if not raw or pos != len(raw):
            raise UsageError(f"'{quoted(str(text))}' is not a duration.",
                             hint="Use a form such as 30s, 15m, 1h30m or 72h.")
    if not seconds > 0:  # also NaN
        raise UsageError(f"'{quoted(str(text))}' is not a positive duration.")
    if seconds > MAX_DURATION_S:
        raise UsageError(f"'{quoted(str(text))}' is longer than {MAX_DURATION_S // 86400:.0f} days, the longest "
                         "duration stackshift accepts.")
    return seconds


def parse_nameserver(text: str) -> tuple[str, int]:
    """'IP', 'IP:PORT', 'IPv6' or '[IPv6]:PORT' -> (ip, port)."""
    raw = text.strip()
    host, port = raw, 53
    if raw.startswith("["):
        end = raw.find("]")
        host, rest = raw[1:end] if end > 0 else "", raw[end + 1 :] if end > 0 else ""
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                host = ""
            else:
                port = int(rest[1:])
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        port = int(port_text) if port_text.isdigit() else -1
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(
            f"'{text}' is not a nameserver address.",
            hint="Use an IP address with an optional port: 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53.",
        ) from None
    if not 0 < port < 65536:
        raise UsageError(f"'{text}' has an invalid port; use 1 to 65535.")
    return host, port


def parse_nameservers(value: str | list[str]) -> list[tuple[str, int]]:
    """A list of 'IP[:PORT]' (or one comma-separated string) -> [(ip, port)]. An empty list means "not set" (the
    system's resolvers); an empty entry (",", " , ", an empty --nameserver) is an error, never that fallback."""
    items = value if isinstance(value, list) else str(value).split(",")
    if any(not str(item).strip() for item in items):
        raise UsageError(
            "A nameserver address is empty.",
            hint="Give IP addresses with optional ports, comma-separated: 192.0.2.53,192.0.2.54:5353; unset it to "
                 "use the system's resolvers.",
        )
    return [parse_nameserver(item) for item in items]


# ---------------------------------------------------------------- known keys


_SIZE = re.compile(r"(\d+)\s*(b|kb|mb|gb|kib|mib|gib)?", re.IGNORECASE)
_SIZE_UNITS = {None: 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
MIN_RESPONSE_BYTES = 1000
MAX_RESPONSE_BYTES = 10**9


def _byte_size(text: str) -> int:
    """'10MB', '512KiB', '2000000' -> bytes, from 1 KB to 1 GB (a limit outside that is a mistake)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.fullmatch(str(text).strip())
        if not match or isinstance(text, bool):
            raise UsageError(f"'{text}' is not a size.", hint="Use a number of bytes, or a form such as 512KB or 20MB.")
        digits = match.group(1).lstrip("0") or "0"
        value = int(digits) * _SIZE_UNITS[(match.group(2) or "").lower() or None] if len(digits) <= 12 else -1
    if not MIN_RESPONSE_BYTES <= value <= MAX_RESPONSE_BYTES:
        raise UsageError(f"'{text}' is out of range; use 1KB to 1GB.")
    return value


def _whole_number(text: str) -> int:
    raw = str(text).strip()
    if isinstance(text, bool) or not re.fullmatch(r"[0-9]{1,9}", raw):
        raise UsageError(f"'{quoted(raw)}' is not a whole number from 0 to 999999999.")
    return int(raw)


def _priority(text: str) -> int:
    value = _whole_number(text)
    if value > 65535:
        raise UsageError(f"'{quoted(str(text))}' is not an MX priority; use 0 to 65535.")
    return value


def _port(text: str) -> int:
    value = _whole_number(text)
    if not 0 < value < 65536:
        raise UsageError(f"'{text}' is not a port; use 1 to 65535.")
    return value


def _host_label(text: str) -> str:
    from stackshift_cli.records import normalize_selector

    return normalize_selector(text)


def _hostname(text: str) -> str:
    from stackshift_cli.names import normalize_domain

    return normalize_domain(text)


def _nameserver_list(text: str) -> list[str]:
    items = text if isinstance(text, list) else str(text).split(",")
    parse_nameservers(items)
    return [str(item).strip() for item in items if str(item).strip()]


def _duration_text(text: str) -> str:
    parse_duration(text)
    return str(text).strip()


def _duration_up_to(limit_s: float, what: str) -> Callable[[str], str]:
    """A duration no longer than `limit_s` (a DNS query or an API request never needs more)."""
    def parse(text: str) -> str:
        if parse_duration(text) > limit_s:
            raise UsageError(f"'{quoted(str(text))}' is longer than {limit_s:g}s, the most {what} may take.")
        return str(text).strip()

    return parse


_TIMES = (str, int, float)  # a duration in the config file: "15m", or a number of seconds


_MAILBOX = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")  # RFC 5322 dot-atom, without what DMARC splits on


def _dmarc_rua(text: str) -> str:
    """An address for aggregate reports, alone: it ends up inside the DMARC record, where ';' and ',' separate
    tags and URIs, so only a plain mailbox@domain (optionally mailto:) is accepted."""
    value = str(text).strip()
    address = value[len("mailto:"):] if value.lower().startswith("mailto:") else value
    local, at, domain = address.rpartition("@")
    problem = None
    if not at or not _MAILBOX.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        problem = "is not an email address"
    else:
        from stackshift_cli.names import normalize_domain

        try:
            if normalize_domain(domain) != domain.lower():
                problem = "has a domain that is not in its plain form"
        except UsageError:
            problem = "has a domain that is not a valid domain name"
    if problem:
        raise UsageError(f"'{quoted(value)}' {problem} for DMARC reports.",
                         hint="Give one address such as dmarc@example.com (or mailto:dmarc@example.com).")
    return value


# ---------------------------------------------------------------- publishing


MIN_TTL, MAX_TTL = 60, 86400
TSIG_ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5")
MAX_PROVIDER_VALUE = 1000  # characters of a provider's option: a token, a URL, an account name
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_KEY_NAME_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


def _provider_name(text: str) -> str:
    from stackshift_cli.providers import provider_info

    return provider_info(str(text)).name


def _ttl(text: str) -> int:
    """Seconds, a whole number from MIN_TTL (a minute) to MAX_TTL (a day)."""
    raw = str(text).strip()
    value = int(raw) if not isinstance(text, bool) and re.fullmatch(r"[0-9]{1,9}", raw) else -1
    if not MIN_TTL <= value <= MAX_TTL:
        raise UsageError(f"'{quoted(raw)}' is not a TTL stackshift publishes records with; use a whole number of "
                         f"seconds from {MIN_TTL} to {MAX_TTL}.",
                         hint="300 (five minutes, the default) lets a mistake be corrected quickly.")
    return value


def _dns_name(text: str, what: str, label: re.Pattern[str], example: str) -> str:
    """A DNS name of ASCII labels matching `label`, lowercase, without the trailing dot (one label is enough)."""
    raw = str(text).strip()
    name = raw[:-1] if raw.endswith(".") else raw
    name = name.lower()
    labels = name.split(".")
    if not name or len(name) > 253 or not all(label.fullmatch(part) for part in labels):
        raise UsageError(f"'{quoted(raw)}' is not {what}.",
                         hint=f"Use labels of letters, digits and hyphens separated by dots, such as {example}.")
    return name


def _server(text: str) -> str:
    """The host name or IP address updates are sent to: no port (publish.rfc2136.port), no URL."""
    import ipaddress

    raw = str(text).strip()
    address = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        pass
    if ":" in raw or "/" in raw:
        raise UsageError(f"'{quoted(raw)}' is not a host name or an IP address.",
                         hint="Give only the server, such as ns1.example.net or 192.0.2.53; its port is "
                              "publish.rfc2136.port.")
    name = _dns_name(raw, "a host name or an IP address", _HOST_LABEL, "ns1.example.net or 192.0.2.53")
    if name.rsplit(".", 1)[-1].isdigit():
        raise UsageError(f"'{quoted(raw)}' is not a host name or an IP address.",
                         hint="Give a host name such as ns1.example.net or an address such as 192.0.2.53.")
    return name


def _tsig_key_name(text: str) -> str:
    return _dns_name(text, "a TSIG key name (a DNS name)", _KEY_NAME_LABEL, "stackshift-key. or tsig-key")


def _tsig_secret(text: str) -> str:
    """A TSIG secret: base64 of at least one byte. Never echoed in a message: it is a secret."""
    import base64
    import binascii

    value = str(text).strip()
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise UsageError("The TSIG secret is not base64 (the secret itself is not shown).",
                         hint="Copy the secret from the key file (e.g. tsig-keygen's `secret \"...\";`), "
                              "such as c2VjcmV0IGtleSBieXRlcw==.")
    return value


def _provider_value(text: str) -> str:
    """A provider option's value: one line of printable text (never echoed: it may be a token)."""
    value = str(text).strip()
    if not value:
        raise UsageError("The value is empty.", hint="Give a value, or `stackshift config unset` the key.")
    if len(value) > MAX_PROVIDER_VALUE:
        raise UsageError(f"The value is {len(value)} characters long; a provider's option takes at most "
                         f"{MAX_PROVIDER_VALUE}.", hint="Check that the whole of a file was not given as the value.")
    if not value.isprintable():
        raise UsageError("The value holds a control character or a line break (it is not shown here).",
                         hint="Give one line of printable text.")
    return value


def _rfc2136_key(option: str, parse: Callable[[str], Any], default: Any = None, types: tuple[type, ...] = (str,),
                 help: str | None = None, more: str = "") -> Key:
    """publish.rfc2136.OPTION, with the help text (unless `help` replaces it; `more` adds to it), environment
    variable and secrecy the provider registry gives it."""
    credential = next(c for c in RFC2136_INFO.credentials if c.option == option)
    return Key(credential.key, f"rfc2136: {help or credential.help}{more}", parse, default, credential.env,
               credential.secret, types)


def _sending_key(key: SendingKey) -> Key:
    """A check's `sending.*` key (checks.REGISTRY) as a config key, with the parser its `parse` names."""
    if key.parse.startswith("choice:"):
        return Key(f"sending.{key.name}", key.help, _choice(*key.parse[len("choice:"):].split(",")), key.default)
    parse, types = {"hostname": (_hostname, (str,)), "host_label": (_host_label, (str,)), "rua": (_dmarc_rua, (str,)),
                    "priority": (_priority, (int, str))}[key.parse]
    return Key(f"sending.{key.name}", key.help, parse, key.default, types=types)


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        BACKEND,
        API_URL,
        API_KEY,
        Key("api.timeout", "How long one API request may take in all (connecting, sending, reading the answer).",
            _duration_up_to(600, "an API request"), "30s", types=_TIMES),
        Key("api.max_response_bytes", "Largest API answer stackshift reads, in bytes (10MB, 512KB accepted).",
            _byte_size, 10_000_000, types=(int, str)),
        Key("dns.nameservers", "Resolvers to query, comma-separated IP or IP:PORT (default: the system's).",
            _nameserver_list, None, "STACKSHIFT_NAMESERVERS", types=(str, list)),
        Key("dns.timeout", "How long one DNS query may take.", _duration_up_to(60, "a DNS query"), "3s",
            types=_TIMES),
        Key("dns.authoritative_port", "Port of the authoritative servers that verify queries directly.",
            _port, 53, "STACKSHIFT_DNS_AUTHORITATIVE_PORT", types=(int, str)),
        Key("verify.window", "How long a required record may stay missing before the domain is failed.",
            _duration_text, "72h", types=_TIMES),
        Key("verify.regression_window", "How long a verified domain that breaks stays pending before it is failed.",
            _duration_text, "72h", types=_TIMES),
        *(_sending_key(key) for key in SENDING_KEYS),
        Key("publish.provider", "DNS provider stackshift publishes records to (`stackshift providers list`).",
            _provider_name, None, "STACKSHIFT_PUBLISH_PROVIDER"),
        Key("publish.ttl", f"TTL in seconds of the records stackshift publishes ({MIN_TTL} to {MAX_TTL}).",
            _ttl, 300, types=(int, str)),
        Key("publish.timeout", "How long one request to a DNS provider may take.",
            _duration_up_to(600, "a request to a DNS provider"), "30s", types=_TIMES),
        _rfc2136_key("server", _server, more=" A host name or an IP address."),
        _rfc2136_key("port", _port, 53, types=(int, str), help="Port of the server updates go to."),
        _rfc2136_key("key_name", _tsig_key_name),
        _rfc2136_key("key_secret", _tsig_secret),
        _rfc2136_key("key_algorithm", _choice(*TSIG_ALGORITHMS), TSIG_ALGORITHMS[0]),
    )
}


def known_key(name: str) -> Key:
    """The key called `name`: one of KEYS, or a dns-lexicon provider's option (`publish.cloudflare.auth_token`)."""
    key = KEYS.get(name) or provider_key(name)
    if key is None:
        raise unknown_key(name)
    return key


def provider_key(name: str) -> Key | None:
    """`publish.PROVIDER.OPTION` for an option of a dns-lexicon provider, or None. These keys (hundreds) are not in
    KEYS: each is made from the provider registry when it is named, with the registry's help text, environment
    variable (lexicon's own, LEXICON_CLOUDFLARE_AUTH_TOKEN) and secrecy. The registry is read only for a name of
    that shape, so no other key costs its import."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "publish" or name in KEYS:
        return None
    return _provider_keys().get(name)


@functools.cache
def _provider_keys() -> dict[str, Key]:
    from stackshift_cli.providers import all_providers

    return {credential.key: _option_key(info.name, credential)
            for info in all_providers().values() if info.kind == "lexicon" for credential in info.credentials}


def _option_key(provider: str, credential: Credential) -> Key:
    help = credential.help or f"Option {credential.option} of the {provider} provider"
    return Key(credential.key, f"{provider}: {help[:1].upper()}{help[1:]}", _provider_value, None, credential.env,
               credential.secret)


def redact(value: Any) -> str:
    """A secret as its last four characters only."""
    text = str(value)
    return "****" + text[-4:] if len(text) > 8 else "****"


# ---------------------------------------------------------------- effective settings


class Settings(ProfileSettings):
    """Effective values of every config key (KEYS) for one profile: command-line overrides > environment > file >
    defaults (configfile.ProfileSettings)."""

    keys = KEYS

    def key(self, name: str) -> Key:
        return known_key(name)

    def provider_keys_set(self) -> list[str]:
        """The dns-lexicon providers' keys (`publish.cloudflare.auth_token`) that have a value in the profile's
        file or in the environment, sorted: what `config list` shows of them (not the hundreds there are)."""
        found = {name for name in self.file.profile_values(self.profile) if provider_key(name)}
        if any(variable.startswith("LEXICON_") for variable in os.environ):  # the registry is read only then
            found |= {name for name, key in _provider_keys().items() if key.env and os.environ.get(key.env)}
        return sorted(found)

    def sending_profile(self):
        from stackshift_cli.records import SendingProfile

        prefix = "sending."
        return SendingProfile.from_mapping(
            {name[len(prefix) :]: self.get(name) for name in KEYS if name.startswith(prefix)}
        )

    def duration(self, name: str) -> float:
        return parse_duration(self.get(name))
