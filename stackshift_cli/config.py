"""Paths, the TOML config file, profiles, and value precedence: flags > environment > file > defaults."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.checks import SENDING_KEYS, SendingKey
from stackshift_cli.errors import ConfigError, UsageError
from stackshift_cli.escape import quoted

APP_NAME = "stackshift"
DEFAULT_PROFILE = "default"
DEFAULT_API_URL = "https://api.stackshift.dev"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MAX_DURATION_S = 3650 * 86400.0  # ten years: longer is a typo, and would overflow dates


# ---------------------------------------------------------------- paths


def config_dir() -> Path:
    env = os.environ.get("STACKSHIFT_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def data_dir() -> Path:
    env = os.environ.get("STACKSHIFT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


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


@dataclass(frozen=True)
class Key:
    """A config key: how to read a value the user typed, its default, and whether it is secret."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    default: Any = None
    env: str | None = None
    secret: bool = False
    types: tuple[type, ...] = (str,)  # what the config file may hold for it (TOML types)


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in allowed:
            raise UsageError(f"'{text}' is not one of: {', '.join(allowed)}.")
        return value

    return parse


def _url(text: str) -> str:
    """The API's base URL: https, or http on this machine only (the key must never travel in cleartext), and no
    user name or password in it (they would show in output and logs; the key goes in api.key)."""
    from urllib.parse import urlsplit

    raw = str(text).strip()
    shown = shown_url(raw)
    if "@" in raw:
        raise UsageError(f"The API URL {shown} has a user name or password in it; stackshift does not accept "
                         "credentials in a URL, where they would show in output and logs.",
                         hint="Remove them: the API key goes in api.key (`stackshift auth login`) "
                              "or STACKSHIFT_API_KEY.")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number from 0 to 65535)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(c.isspace() or not c.isprintable() for c in raw)):
        raise UsageError(f"'{shown}' is not an http(s) URL.", hint="For example https://api.stackshift.dev.")
    if parts.query or parts.fragment:
        raise UsageError(f"'{shown}' has a query or a fragment; the API URL is a base URL such as "
                         "https://api.stackshift.dev.")
    if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(f"'{shown}' is refused: over plain http the API key would travel in cleartext.",
                         hint="Use https://, or http:// only for an API on this machine (localhost, 127.0.0.0/8, ::1).")
    return raw.rstrip("/")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a host whose traffic never leaves this machine."""
    name = host.lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown_url(text: str, limit: int = 100) -> str:
    """A URL as a message shows it: without anything before an '@' in its authority (a user name, a password),
    escaped and shortened."""
    from stackshift_cli.escape import quoted

    value = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//.*@", lambda m: f"{m.group(1) or ''}//…@", str(text).strip(),
                   flags=re.DOTALL)
    return quoted(value, limit)


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
        Key("backend", "Where domains live: local (this machine) or api (your StackShift account).",
            _choice(*BACKENDS), None, "STACKSHIFT_BACKEND"),
        Key("api.url", "Base URL of the StackShift API.", _url, DEFAULT_API_URL, "STACKSHIFT_API_URL"),
        Key("api.key", "API key (set it with `stackshift auth login`).", str, None, "STACKSHIFT_API_KEY", True),
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
        *(_sending_key(key) for key in SENDING_KEYS),
    )
}


_TOML_KINDS = {str: "text", int: "a whole number", float: "a number", list: "a list", bool: "true or false",
               dict: "a table"}


def _check_type(key: Key, raw: Any) -> None:
    """A value from the config file is of a TOML type the key takes (`dkim_selector = 5` is not a selector)."""
    kind = bool if isinstance(raw, bool) else next((t for t in _TOML_KINDS if isinstance(raw, t)), None)
    if kind in key.types and (kind is not list or all(isinstance(item, str) for item in raw)):
        return
    if kind is list:
        shown = "a list that holds more than text"
    else:
        shown = _TOML_KINDS[kind] if kind is not None else type(raw).__name__
    wanted = " or ".join(_TOML_KINDS[t] for t in key.types)
    raise UsageError(f"it is {shown}, but {key.name} takes {wanted}.",
                     hint=f"Fix it with `stackshift config set {key.name} VALUE`, or in the config file.")


def known_key(name: str) -> Key:
    if name not in KEYS:
        raise UsageError(
            f"'{name}' is not a config key.",
            hint="Run `stackshift config list --all` to see every key.",
        )
    return KEYS[name]


def validate_profile_name(name: str) -> str:
    if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
        raise UsageError(f"'{name}' is not a valid profile name.", hint="Use letters, digits, '-', '_' and '.'.")
    return name


def redact(value: Any) -> str:
    """A secret as its last four characters only."""
    text = str(value)
    return "****" + text[-4:] if len(text) > 8 else "****"


# ---------------------------------------------------------------- the file


class ConfigFile:
    """The config file: `[profiles.NAME]` tables holding nested keys (`[profiles.work.api]`)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_file()
        self._data: dict[str, Any] | None = None

    def load(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._read()
        return self._data

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"Cannot read the config file {self.path}: {exc.strerror}.") from None
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"The config file {self.path} is not valid TOML ({exc}).",
                hint="Fix it by hand or move it aside; stackshift will not overwrite it.",
            ) from None
        if not isinstance(data.get("profiles", {}), dict):
            raise ConfigError(f"The config file {self.path} has a 'profiles' entry that is not a table.")
        return data

    def profiles(self) -> list[str]:
        return sorted(self.load().get("profiles", {}))

    def profile_values(self, profile: str) -> dict[str, Any]:
        """The profile's keys as flat dotted names."""
        table = self.load().get("profiles", {}).get(profile, {})
        return dict(_flatten(table)) if isinstance(table, dict) else {}

    def get(self, profile: str, key: str) -> Any:
        """The value the file holds for `key` (dotted) in `profile`, or None; a value where a table belongs (or
        the other way round) is reported, naming the key."""
        node: Any = self.load().get("profiles", {})
        path = ["profiles", profile, *key.split(".")]
        for depth, part in enumerate(path[1:], start=1):
            if not isinstance(node, dict):
                raise self._not_a_table(path[:depth], node)
            if part not in node:
                return None
            node = node[part]
        return node

    def set(self, profile: str, key: str, value: Any) -> None:
        data = self.load()
        table: Any = data.setdefault("profiles", {})
        path = ["profiles", profile, *key.split(".")]
        for depth, part in enumerate(path[1:-1], start=1):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise self._not_a_table(path[:depth + 1], table)
        if isinstance(table.get(path[-1]), dict):
            raise ConfigError(f"In the config file {self.path}, {'.'.join(path)} is a table, not a value; "
                              "stackshift will not replace it.", hint="Fix it by hand, or remove it.")
        table[path[-1]] = value
        self._write(data)

    def _not_a_table(self, path: list[str], value: Any) -> ConfigError:
        return ConfigError(f"In the config file {self.path}, {quoted('.'.join(path))} is {quoted(repr(value), 40)}, "
                           "where a table of keys belongs.", hint="Fix it by hand, or remove that line.")

    def unset(self, profile: str, key: str) -> bool:
        data = self.load()
        table = data.get("profiles", {}).get(profile, {})
        *parents, leaf = key.split(".")
        chain = [table]
        for part in parents:
            table = table.get(part, {}) if isinstance(table, dict) else {}
            chain.append(table)
        if not isinstance(table, dict) or leaf not in table:
            return False
        del table[leaf]
        for parent, part in zip(reversed(chain[:-1]), reversed(parents)):  # drop tables left empty
            if parent.get(part) == {}:
                del parent[part]
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        import tomli_w

        from stackshift_cli.files import write_private_file

        try:
            write_private_file(self.path, tomli_w.dumps(data).encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"Cannot write the config file {self.path}: {exc.strerror}.") from None


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, value))
    return items


# ---------------------------------------------------------------- effective settings


class Settings:
    """Effective values for one profile: command-line overrides > environment > file > defaults."""

    def __init__(self, profile: str, file: ConfigFile | None = None, overrides: dict[str, Any] | None = None):
        self.profile = validate_profile_name(profile)
        self.file = file or ConfigFile()
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    def source(self, name: str) -> str:
        key = known_key(name)
        if name in self.overrides:
            return "flag"
        if key.env and os.environ.get(key.env):
            return f"env {key.env}"
        if self.file.get(self.profile, name) is not None:
            return "file"
        return "default"

    def get(self, name: str) -> Any:
        """The effective value, parsed and checked; a bad value names where it came from."""
        key = known_key(name)
        origin = self.source(name)
        if origin == "default":
            return key.default
        if origin == "flag":
            raw = self.overrides[name]
        elif origin == "file":
            raw = self.file.get(self.profile, name)
        else:
            raw = os.environ[key.env]  # type: ignore[index]
        try:
            _check_type(key, raw)
            return key.parse(raw)
        except UsageError as exc:
            where = {"file": f"the config file ({self.file.path}, profile {self.profile})"}.get(origin, origin)
            raise UsageError(f"Invalid value for {name} from {where}: {exc.message}", hint=exc.hint) from None

    def require_profile(self) -> None:
        """The profile exists: `default` always does, any other one once the config file has a table for it."""
        if self.profile == DEFAULT_PROFILE:
            return
        profiles = self.file.profiles()
        if self.profile in profiles:
            return
        known = [DEFAULT_PROFILE, *(p for p in profiles if p != DEFAULT_PROFILE)]
        shown = ", ".join(quoted(p, 40) for p in known[:10]) + (", …" if len(known) > 10 else "")
        raise UsageError(
            f"There is no profile {quoted(self.profile)} in {self.file.path}; the profiles are: {shown}.",
            hint=f"Check --profile or STACKSHIFT_PROFILE, or create it with `stackshift --profile "
                 f"{quoted(self.profile, 64)} config set KEY VALUE` or `… auth login`.",
        )

    def sending_profile(self):
        from stackshift_cli.records import SendingProfile

        prefix = "sending."
        return SendingProfile.from_mapping(
            {name[len(prefix) :]: self.get(name) for name in KEYS if name.startswith(prefix)}
        )

    def duration(self, name: str) -> float:
        return parse_duration(self.get(name))
