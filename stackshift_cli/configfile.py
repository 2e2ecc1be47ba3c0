"""The directories, the config file, and where a value comes from (flag > environment > file > default): the light
core of config.py.

TAB completion runs on every key press and needs, before anything else is imported, the profile, the backend in
use, the API URL and the data directory (namecache.fast_complete). It reads them through this module: the same
paths, the same file and the same precedence as every command, and the three keys it needs (`backend`, `api.url`,
`api.key`), which config.KEYS holds too. Every other key, with the parsers it needs (the checks registry's `sending.*`
keys, durations, resolvers), stays in config.py.

Only the standard library, and each of its heavier modules when it is needed: tomllib when there is a config file,
platformdirs when the environment names no directory, urllib.parse and ipaddress when a URL is checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.errors import ConfigError, UsageError
from stackshift_cli.escape import quoted

TYPE_CHECKING = False  # typing itself is not imported: TAB reads its settings through this module
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

APP_NAME = "stackshift"
DEFAULT_PROFILE = "default"
DEFAULT_API_URL = "https://api.stackshift.dev"
DB_NAME = "stackshift.db"  # the local store, in the data directory
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


def validate_profile_name(name: str) -> str:
    if not isinstance(name, str) or not PROFILE_NAME.fullmatch(name):
        raise UsageError(f"'{name}' is not a valid profile name.", hint="Use letters, digits, '-', '_' and '.'.")
    return name


# ---------------------------------------------------------------- keys


class Key:
    """A config key: how to read a value the user typed, its default, and whether it is secret."""

    __slots__ = ("name", "help", "parse", "default", "env", "secret", "types")

    def __init__(self, name: str, help: str, parse: Callable[[str], Any] = str, default: Any = None,
                 env: str | None = None, secret: bool = False, types: tuple[type, ...] = (str,)) -> None:
        self.name = name
        self.help = help
        self.parse = parse
        self.default = default
        self.env = env
        self.secret = secret
        self.types = types  # what the config file may hold for it (TOML types)

    def __repr__(self) -> str:
        return f"Key({self.name!r})"


_TOML_KINDS = {str: "text", int: "a whole number", float: "a number", list: "a list", bool: "true or false",
               dict: "a table"}


def check_type(key: Key, raw: Any) -> None:
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


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in allowed:
            raise UsageError(f"'{text}' is not one of: {', '.join(allowed)}.")
        return value

    return parse


def api_url(text: str) -> str:
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
    import ipaddress

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
    value = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//.*@", lambda m: f"{m.group(1) or ''}//…@", str(text).strip(),
                   flags=re.DOTALL)
    return quoted(value, limit)


# The keys that say which backend a run uses and where its domains are (BACKENDS.choose, the API cache for TAB).
BACKEND = Key("backend", "Where domains live: local (this machine) or api (your StackShift account).",
              choice(*BACKENDS), None, "STACKSHIFT_BACKEND")
API_URL = Key("api.url", "Base URL of the StackShift API.", api_url, DEFAULT_API_URL, "STACKSHIFT_API_URL")
API_KEY = Key("api.key", "API key (set it with `stackshift auth login`).", str, None, "STACKSHIFT_API_KEY", True)
CORE_KEYS: dict[str, Key] = {key.name: key for key in (BACKEND, API_URL, API_KEY)}


def unknown_key(name: str) -> UsageError:
    hint = "Run `stackshift config list --all` to see every key."
    if name.startswith("publish."):  # publish.PROVIDER.OPTION: the providers' options are not all listed there
        hint = ("Run `stackshift providers list` to see the DNS providers and their settings "
                "(publish.PROVIDER.OPTION), and `stackshift config list --all` for the other keys.")
    return UsageError(f"'{quoted(name)}' is not a config key.", hint=hint)


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


# ---------------------------------------------------------------- effective values


class ProfileSettings:
    """Effective values for one profile: command-line overrides > environment > file > defaults.

    Knows the keys in `keys`: CORE_KEYS here (what TAB reads), every key in config.Settings. The file is read the
    first time a value is not found before it (a broken config file does not stop a run that never needs it).
    """

    keys: Mapping[str, Key] = CORE_KEYS

    def __init__(self, profile: str, file: ConfigFile | None = None, overrides: dict[str, Any] | None = None):
        self.profile = validate_profile_name(profile)
        self.file = file or ConfigFile()
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    def key(self, name: str) -> Key:
        if name not in self.keys:
            raise unknown_key(name)
        return self.keys[name]

    def source(self, name: str) -> str:
        key = self.key(name)
        if name in self.overrides:
            return "flag"
        if key.env and os.environ.get(key.env):
            return f"env {key.env}"
        if self.file.get(self.profile, name) is not None:
            return "file"
        return "default"

    def get(self, name: str) -> Any:
        """The effective value, parsed and checked; a bad value names where it came from."""
        key = self.key(name)
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
            check_type(key, raw)
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
