"""Publishing through dns-lexicon: any of its providers (Cloudflare, Route 53, PowerDNS, …) opened for one zone.

lexicon is imported only here, and only when a provider is opened (`pip install 'stackshift-cli[publish]'`). Its
`Client` is not used: it guesses the zone with tldextract (which downloads the public-suffix list) or with the
system's resolver. The provider class is built directly, for the zone stackshift found, with a ConfigResolver:

    {provider_name, domain, ttl}          stackshift's, never overridden
    LEXICON_<PROVIDER>_<OPTION>           lexicon's own environment variables
    publish.<provider>.<option>           stackshift's config

Every call to the provider runs in a daemon thread and is awaited with a deadline (publish.timeout, else 30s):
lexicon's providers call `requests` without timeouts. What a provider returns is checked (names under the zone,
at most MAX_RECORDS records, values of at most MAX_VALUE_CHARS characters); errors become messages built from
status codes and our own words, with anything quoted from outside escaped and every secret value scrubbed.

What differs between providers, as far as it matters here:

- TXT content comes back as plain text, as `"quoted"`, as several quoted strings `"a" "b"`, or with only the
  outer quotes stripped (`a" "b`, lexicon's `_clean_TXT_record` and PowerDNS): `txt_text` reads them all.
  It is sent as plain text (providers split long values themselves), except to PowerDNS: quoted strings of at
  most 255 octets each.
- MX: most providers take "10 mx.example.net." as content; those in PRIORITY_OPTION take the host as content and
  the priority as lexicon's `priority` option (Cloudflare, DNSimple, …), and may list MX records without it.
- PowerDNS: lexicon's provider appends the zone to a CNAME target outside the zone (`_fqdn_name`), on write and
  on read, and caches the zone's records until its next write; both are corrected on the provider object here.
"""

from __future__ import annotations

import re
import threading
from functools import partial

from stackshift_cli.errors import PrerequisiteFailed, ProviderAuthError, ProviderError, StackshiftError, UsageError
from stackshift_cli.escape import quoted
from stackshift_cli.providers import READ_TYPES, Credential, Edit, ProviderInfo, Publisher, ZoneRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

    from stackshift_cli.config import Settings

    T = TypeVar("T")

DEFAULT_TTL = 300
DEFAULT_TIMEOUT_S = 30.0
MAX_RECORDS = 10_000  # records one listing of the zone may hold
MAX_VALUE_CHARS = 4_000  # characters of one record's value (a 4096-bit DKIM key is about 800)
MAX_BODY_CHARS = 200  # of a provider's error response, quoted in a message
TXT_STRING_OCTETS = 255

# Providers that take an MX record's priority as lexicon's `priority` option and its host alone as the content.
# (The others take "10 mx.example.net." as the content: PowerDNS, Route 53, Gandi, Hetzner, OVH, …)
PRIORITY_OPTION = frozenset({
    "cloudflare", "cloudns", "conoha", "dnsimple", "dnsservices", "easyname", "euserv", "exoscale", "gransy", "henet",
    "hostingde", "httpnet", "infoblox", "namecom", "netcup", "online", "porkbun", "regfish", "zonomi",
})
# Providers that want quoted TXT strings of at most 255 octets, and fully qualified targets with the trailing dot.
ZONE_FILE_CONTENT = frozenset({"powerdns"})


# ---------------------------------------------------------------- content: reading


def _quoted_strings(content: str) -> list[bytes] | None:
    """The character-strings of `"a" "b"` (zone-file syntax: backslash escapes, `\\DDD` for a byte), or None when
    `content` is not exactly a sequence of quoted strings."""
    strings: list[bytes] = []
    i, end = 0, len(content)
    while True:
        while i < end and content[i].isspace():
            i += 1
        if i == end:
            return strings or None
        if content[i] != '"':
            return None
        i += 1
        text = bytearray()
        while True:
            if i >= end:
                return None  # not closed
            char = content[i]
            if char == '"':
                i += 1
                break
            if char == "\\":
                digits = content[i + 1 : i + 4]
                if len(digits) == 3 and all(d in "0123456789" for d in digits):
                    if int(digits) > 255:
                        return None
                    text.append(int(digits))
                    i += 4
                    continue
                if i + 1 >= end:
                    return None
                char = content[i + 1]
                i += 1
            text += char.encode("utf-8", "surrogateescape")
            i += 1
        strings.append(bytes(text))
        if i < end and not (content[i].isspace() or content[i] == '"'):
            return None


def txt_text(content: str) -> str:
    """A TXT record's text, its strings joined, from any shape lexicon's providers return it in: plain text,
    `"quoted"` (with zone-file escapes), several quoted strings `"a" "b"`, or those with the outer quotes stripped
    (`a" "b`). Bytes that are not UTF-8 come back as surrogate escapes, as everywhere in stackshift."""
    stripped = content.strip()
    strings = _quoted_strings(stripped) if stripped.startswith('"') else None
    if strings is None and '"' in stripped:
        unwrapped = _quoted_strings(f'"{stripped}"')  # a" "b: only the outer quotes were stripped
        strings = unwrapped if unwrapped is not None and len(unwrapped) > 1 else None
    if strings is None:
        return content
    return b"".join(strings).decode("utf-8", "surrogateescape")


def _host(text: str) -> str | None:
    """A CNAME or MX target as a ZoneRecord holds it (lowercase, no trailing dot), or None when it is not a name."""
    host = text.strip().rstrip(".").lower()
    if not host or len(host) > 253 or not host.isprintable() or any(c.isspace() or c in "\"\\" for c in host):
        return None
    return host


def _int(value: object, top: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value <= top else None


def _mx_priority(record: Mapping[str, Any]) -> int | None:
    """An MX priority lexicon gives beside the content: `priority`, or `options.mx.priority`."""
    options = record.get("options")
    mx = options.get("mx") if isinstance(options, dict) else None
    for value in (record.get("priority"), mx.get("priority") if isinstance(mx, dict) else None):
        found = _int(value, 65535)
        if found is not None:
            return found
    return None


def parse_value(rtype: str, content: str, record: Mapping[str, Any] | None = None) -> tuple[str, int | None] | None:
    """(value, MX priority) of one listed record's content, or None when the content is not one of its type."""
    if rtype == "TXT":
        return txt_text(content), None
    if rtype == "CNAME":
        host = _host(content)
        return (host, None) if host else None
    if rtype == "MX":
        match = re.fullmatch(r"\s*(\d{1,5})\s+(\S+)\s*", content)
        priority = _int(match.group(1), 65535) if match else _mx_priority(record or {})
        host = _host(match.group(2) if match else content)
        return (host, priority) if host and (priority is not None or not match) else None
    import ipaddress

    try:
        address = ipaddress.ip_address(content.strip())
    except ValueError:
        return None
    return (str(address), None) if address.version == (4 if rtype == "A" else 6) else None


# ---------------------------------------------------------------- content: writing


def _zone_file_strings(text: str) -> str:
    """`text` as quoted character-strings of at most 255 octets each, `"…" "…"`, split between characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        raw = char.encode("utf-8", "surrogateescape")
        if size + len(raw) > TXT_STRING_OCTETS:
            chunks.append("".join(current))
            current, size = [], 0
        if char in '"\\':
            current.append("\\" + char)
        elif 0x20 <= ord(char) < 0x7F:
            current.append(char)
        else:
            current.append("".join(f"\\{byte:03d}" for byte in raw))
        size += len(raw)
    chunks.append("".join(current))
    return " ".join(f'"{chunk}"' for chunk in chunks)


def record_content(provider: str, record: ZoneRecord) -> tuple[str, str | None]:
    """(content, priority option) to send to `provider` for `record` (see the module's docstring)."""
    zone_file = provider in ZONE_FILE_CONTENT
    if record.type == "TXT":
        return (_zone_file_strings(record.value) if zone_file else record.value), None
    if record.type == "CNAME":
        return (record.value.rstrip(".") + "." if zone_file else record.value.rstrip(".")), None
    if record.type == "MX":
        priority = 0 if record.priority is None else record.priority
        host = record.value.rstrip(".")
        if provider in PRIORITY_OPTION:
            return host, str(priority)
        return f"{priority} {host}.", str(priority)
    return record.value, None


# ---------------------------------------------------------------- errors


def _names(credentials: Sequence[Credential]) -> str:
    """The environment variables and config keys of a provider's credentials (names only), for a hint."""
    chosen = [c for c in credentials if c.secret] or list(credentials)
    shown = [f"{c.env} (or {c.key})" for c in chosen[:4]]
    return ", ".join(shown) + (", …" if len(chosen) > 4 else "")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (and its URL-encoded form) replaced by ****."""
    from urllib.parse import quote

    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, "****")
    return text


def http_failure(provider: str, status: int, doing: str, *, zone: str, authenticating: bool = False,
                 credentials: Sequence[Credential] = (), body: str = "") -> StackshiftError:
    """The error for an HTTP status a provider answered with. `body` (already scrubbed of secrets) is quoted only
    for a refused request (4xx other than 401, 403, 404, 429), cut to MAX_BODY_CHARS."""
    if status in (401, 403):
        return ProviderAuthError(
            f"{provider} refused the credentials (HTTP {status}) while {doing}.",
            hint=f"Check {_names(credentials)}." if credentials else None)
    if status == 429:
        return ProviderError(f"{provider} is rate limiting (HTTP 429) while {doing}; try again later.")
    if status == 404 and authenticating:
        return ProviderError(f"{provider} has no zone {quoted(zone)} (HTTP 404).",
                             hint="Check that the zone exists there and that the credentials can manage it.")
    if 500 <= status <= 599:
        return ProviderError(f"{provider} failed (HTTP {status}) while {doing}; try again later.")
    said = " ".join(body.split())
    said = f": {quoted(said, MAX_BODY_CHARS)}" if said and 400 <= status <= 499 and status != 404 else ""
    return ProviderError(f"{provider} refused the request (HTTP {status}) while {doing}{said}.")


def _unreachable(error: BaseException) -> str:
    """Why a connection failed, in our own words (requests' messages carry URLs, which may carry tokens)."""
    import errno

    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        name = type(cause).__name__
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, TimeoutError) or "Timeout" in name:
            return "the connection timed out"
        if "SSL" in name or "Certificate" in name:
            return "TLS failed"
        if "NameResolution" in name or "gaierror" in name:
            return "its name does not resolve"
        if "ProxyError" in name:
            return "the proxy failed"
        cause = cause.__cause__ or cause.__context__ or next(
            (arg for arg in getattr(cause, "args", ()) if isinstance(arg, BaseException)), None)
    return "the connection failed"


# ---------------------------------------------------------------- settings


def _setting(settings: Settings, key: str) -> Any:
    """settings.get(key), or None when there is no such key (the config side may not know it yet)."""
    from stackshift_cli.configfile import unknown_key

    try:
        return settings.get(key)
    except KeyError:
        return None
    except UsageError as exc:
        if exc.message == unknown_key(key).message:
            return None
        raise


def _option(settings: Settings, credential: Credential) -> str | None:
    """A provider option from stackshift's config (publish.<provider>.<option>), as lexicon takes it: a string."""
    value = _setting(settings, credential.key)
    if value is None or value == "" or value is False:
        return None
    return str(value)


def _seconds(value: Any, default: float) -> float:
    from stackshift_cli.config import parse_duration

    if value is None or value == "":
        return default
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else parse_duration(value)


# ---------------------------------------------------------------- the publisher


class _Listed:
    """One record of a listing: as stackshift reads it, and its content as the provider gave it (for removal).
    A value longer than MAX_VALUE_CHARS has no record: an error if the name is one stackshift reads."""

    __slots__ = ("name", "record", "content")

    def __init__(self, name: str, record: ZoneRecord | None, content: str) -> None:
        self.name = name
        self.record = record
        self.content = content


def _extra_requirements(name: str) -> list[str]:
    """The distributions dns-lexicon's extra `name` requires (route53: boto3), from its metadata."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        requires = distribution("dns-lexicon").requires or []
    except PackageNotFoundError:
        return []
    found = []
    for line in requires:
        match = re.match(rf"""\s*([A-Za-z0-9._-]+).*;.*\bextra\s*==\s*["']{re.escape(name)}["']""", line)
        if match:
            found.append(match.group(1))
    return found


def _needs(provider: str, package: str, *, extra: bool) -> UsageError:
    install = f"pip install 'dns-lexicon[{provider}]'" if extra else f"pip install {package}"
    return UsageError(f"Publishing to {provider} needs {package}, which is not installed.",
                      hint=f"Install it with: {install}")


def _check_extras(provider: str) -> None:
    """Some provider modules import their optional package in a try block and fail only once used (route53):
    check what lexicon's extra for the provider requires, as lexicon's own Client does."""
    from importlib.metadata import PackageNotFoundError, distribution

    for package in _extra_requirements(provider):
        try:
            distribution(package)
        except PackageNotFoundError:
            raise _needs(provider, package, extra=True) from None


def _missing_dependency(provider: str, error: ImportError) -> UsageError:
    module = quoted((error.name or "a module").split(".")[0], 60)
    return _needs(provider, module, extra=bool(_extra_requirements(provider)))


class LexiconPublisher(Publisher):
    """One of dns-lexicon's providers opened for one zone."""

    def __init__(self, info: ProviderInfo, zone: str, provider_class: Any, config: Any, lexicon_options: dict,
                 *, timeout: float, secrets: Sequence[str]) -> None:
        self.info = info
        self.name = info.name
        self.where = info.name
        self.zone = zone.lower().rstrip(".")
        self.timeout = timeout
        self._class = provider_class
        self._config = config
        self._lexicon = lexicon_options  # the top config source: `priority` is set here for one MX create
        self._secrets = tuple(secrets)
        self._provider: Any = None
        self._listing: list[_Listed] | None = None
        self._stuck = False  # a call outlived its deadline: its thread may still be using the provider

    @classmethod
    def open(cls, info: ProviderInfo, settings: Settings, zone: str) -> LexiconPublisher:
        """The provider `info` opened for `zone` (signed in on the first read or apply)."""
        import importlib

        try:
            from lexicon.config import ConfigResolver, DictConfigSource
        except ImportError as exc:
            if (exc.name or "").split(".")[0] != "lexicon":
                raise _missing_dependency(info.name, exc) from None
            raise UsageError(f"Publishing to {info.name} needs dns-lexicon, which is not installed.",
                             hint="Install it with: pip install 'stackshift-cli[publish]'") from None
        _check_extras(info.name)
        try:
            module = importlib.import_module(f"lexicon._private.providers.{info.name}")
        except ImportError as exc:
            if (exc.name or "") == f"lexicon._private.providers.{info.name}":
                raise UsageError(f"The installed dns-lexicon has no provider {info.name}.",
                                 hint="Upgrade it with: pip install -U 'stackshift-cli[publish]'") from None
            raise _missing_dependency(info.name, exc) from None
        ttl = _setting(settings, "publish.ttl")
        timeout = _seconds(_setting(settings, "publish.timeout"), DEFAULT_TIMEOUT_S)
        options = {c.option: value for c in info.credentials if (value := _option(settings, c)) is not None}
        if info.name == "powerdns" and "pdns_disable_notify" in options:
            options["pdns-disable-notify"] = options["pdns_disable_notify"]  # the name its provider reads
        zone = zone.lower().rstrip(".")
        lexicon = {"provider_name": info.name, "domain": zone,
                   "ttl": int(_seconds(ttl, DEFAULT_TTL)) if ttl is not None else DEFAULT_TTL}
        config = ConfigResolver()
        config.add_config_source(DictConfigSource(lexicon))
        config.with_env().with_dict({info.name: options})
        secrets = [value for c in info.credentials if c.secret
                   and (value := config.resolve(f"lexicon:{info.name}:{c.option}"))]
        wanted = [c for c in info.credentials if c.secret]
        if wanted and not secrets:  # no API of a provider with credentials works without one: say so before a call
            raise UsageError(f"No credentials for {info.name}: none of its secret settings is set.",
                             hint="Set " + " or ".join(f"{c.env} (or `stackshift config set {c.key} -`)"
                                                       for c in wanted[:3]) + "; `stackshift providers list` "
                                  "shows every setting.")
        return cls(info, zone, getattr(module, "Provider"), config, lexicon, timeout=timeout, secrets=secrets)

    # ------------------------------------------------ calls, with a deadline

    def _call(self, doing: str, function: Callable[[], T], *, authenticating: bool = False) -> T:
        if self._stuck:
            raise ProviderError(f"{self.name} has not answered an earlier request; stopped before {doing}.")
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = function()
            except BaseException as exc:  # noqa: BLE001 (handed to the waiting thread)
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name=f"stackshift-{self.name}", daemon=True).start()
        if not done.wait(self.timeout):
            self._stuck = True
            raise ProviderError(f"{self.name} did not answer within {self.timeout:g}s while {doing}.")
        if "error" in box:
            raise self._failure(box["error"], doing, authenticating=authenticating) from None
        return box["value"]

    def _failure(self, error: BaseException, doing: str, *, authenticating: bool) -> StackshiftError:
        if isinstance(error, StackshiftError):
            return error
        if isinstance(error, KeyboardInterrupt):
            raise error
        from lexicon.exceptions import AuthenticationError

        if isinstance(error, AuthenticationError):
            said = quoted(scrub(" ".join(str(error).split()), self._secrets), MAX_BODY_CHARS)
            return ProviderAuthError(
                f"{self.name} refused the credentials, or they cannot manage the zone {quoted(self.zone)}, while "
                f"{doing}" + (f": {said}." if said else "."),
                hint=f"Check {_names(self.info.credentials)}." if self.info.credentials else None)
        import requests

        if isinstance(error, requests.HTTPError) and error.response is not None:
            body = ""
            try:
                body = scrub(error.response.text[:4 * MAX_BODY_CHARS], self._secrets)
            except Exception:  # noqa: BLE001 (an undecodable body is left out)
                pass
            return http_failure(self.name, error.response.status_code, doing, zone=self.zone,
                                authenticating=authenticating, credentials=self.info.credentials, body=body)
        if isinstance(error, (requests.ConnectionError, requests.Timeout)):
            return ProviderError(f"cannot reach {self.name} while {doing}: {_unreachable(error)}.")
        said = quoted(scrub(" ".join(str(error).split()), self._secrets), MAX_BODY_CHARS)
        return ProviderError(f"{self.name} failed while {doing}: {type(error).__name__}"
                             + (f": {said}" if said else "") + ".")

    def _signed_in(self) -> Any:
        if self._provider is None:
            def sign_in() -> Any:
                provider = self._class(self._config)
                provider.authenticate()
                return provider

            provider = self._call(f"opening the zone {quoted(self.zone)}", sign_in, authenticating=True)
            if self.name == "powerdns":
                _correct_powerdns(provider)
            self._provider = provider
        return self._provider

    # ------------------------------------------------ reading

    def _list(self) -> list[_Listed]:
        """The zone's records of READ_TYPES, from one fresh listing."""
        provider = self._signed_in()
        _forget_cached_zone(provider)
        listed = self._call(f"listing the records of {quoted(self.zone)}", provider.list_records)
        if not isinstance(listed, list):
            raise ProviderError(f"{self.name} sent something other than a list of records for {quoted(self.zone)}.")
        if len(listed) > MAX_RECORDS:
            raise ProviderError(f"{self.name} listed more than {MAX_RECORDS} records for {quoted(self.zone)}; "
                                "stackshift reads at most that many.")
        found = []
        for item in listed:
            entry = self._check(item)
            if entry is not None:
                found.append(entry)
        return found

    def _check(self, item: object) -> _Listed | None:
        """One listed record as a ZoneRecord, or None when it is not one stackshift reads (or not valid)."""
        if not isinstance(item, dict):
            return None
        rtype, name, content = item.get("type"), item.get("name"), item.get("content")
        if not (isinstance(rtype, str) and isinstance(name, str) and isinstance(content, str)):
            return None
        rtype = rtype.upper()
        name = name.strip().rstrip(".").lower()
        if rtype not in READ_TYPES or not (name == self.zone or name.endswith("." + self.zone)) or len(name) > 253:
            return None
        if len(content) > MAX_VALUE_CHARS:
            return _Listed(name, None, rtype)
        parsed = parse_value(rtype, content, item)
        if parsed is None:
            return None
        value, priority = parsed
        return _Listed(name, ZoneRecord(rtype, name, value, _int(item.get("ttl"), 2**31 - 1), priority), content)

    def _at(self, listing: Iterable[_Listed], names: Iterable[str]) -> list[ZoneRecord]:
        """The records at `names`; a value too long to read there is an error."""
        wanted = set(names)
        found = []
        for entry in listing:
            if entry.name not in wanted:
                continue
            if entry.record is None:
                raise ProviderError(f"{self.name} holds a {quoted(entry.content, 10)} record at {quoted(entry.name)} "
                                    f"longer than {MAX_VALUE_CHARS} characters; stackshift reads none that long.")
            found.append(entry.record)
        return found

    def _records(self) -> list[_Listed]:
        if self._listing is None:
            self._listing = self._list()
        return self._listing

    def read(self, names: Sequence[str]) -> dict[str, list[ZoneRecord]]:
        wanted = {name.strip().rstrip(".").lower(): name for name in names}
        found: dict[str, list[ZoneRecord]] = {name: [] for name in wanted}
        for record in self._at(self._records(), found):
            found[record.name].append(record)
        return found

    # ------------------------------------------------ writing

    def apply(self, edit: Edit) -> None:
        name = edit.name.strip().rstrip(".").lower()
        try:
            listing = [entry for entry in self._list() if entry.name == name]
            self._check_expected(edit, name, self._at(listing, [name]))
            provider = self._signed_in()
            removed: list[ZoneRecord] = []
            for record in edit.remove:
                contents = [entry.content for entry in listing if entry.record and entry.record.key() == record.key()]
                for content in dict.fromkeys(contents):
                    self._call(f"removing the {record.type} record '{quoted(record.shown(), 60)}' at {quoted(name)}",
                               partial(provider.delete_record, None, record.type, name, content))
                removed.append(record)
            try:
                for record in edit.add:
                    self._add(provider, name, record)
            except StackshiftError as exc:
                # lexicon's calls are not one transaction: put back what this edit removed, so a failed edit
                # leaves the name as the plan saw it (and the journal, which marks it failed, stays true)
                exc.message = f"{exc.message} {self._put_back(provider, name, removed)}"
                raise
        finally:
            self._listing = None

    def _add(self, provider: Any, name: str, record: ZoneRecord) -> None:
        content, priority = record_content(self.name, record)
        self._call(f"adding the {record.type} record '{quoted(record.shown(), 60)}' at {quoted(name)}",
                   partial(self._create, provider, record.type, name, content, priority))

    def _put_back(self, provider: Any, name: str, removed: Sequence[ZoneRecord]) -> str:
        if not removed:
            return ""
        try:
            for record in removed:
                self._add(provider, name, record)
        except StackshiftError:
            return (f"The {len(removed)} record(s) this change removed first could not be put back: check "
                    f"{quoted(name)} at {self.where}.")
        return "The records this change removed first were put back."

    def _create(self, provider: Any, rtype: str, name: str, content: str, priority: str | None) -> Any:
        if priority is None:
            return provider.create_record(rtype, name, content)
        self._lexicon["priority"] = priority
        try:
            return provider.create_record(rtype, name, content)
        finally:
            self._lexicon.pop("priority", None)

    def _check_expected(self, edit: Edit, name: str, holds: Sequence[ZoneRecord]) -> None:
        changed = []
        for rtype in edit.expect_types:
            now = sorted((r for r in holds if r.type == rtype), key=lambda r: r.key())
            then = sorted((r for r in edit.expect if r.type == rtype), key=lambda r: r.key())
            if [r.key() for r in now] != [r.key() for r in then]:
                shown = ", ".join(f"'{quoted(r.shown(), 60)}'" for r in now[:3]) + (", …" if len(now) > 3 else "")
                changed.append(f"{rtype} now {shown}" if now else f"no {rtype} record now")
        if changed:
            raise PrerequisiteFailed(
                f"{quoted(name)} changed at {self.where} since the plan was made ({'; '.join(changed)}); nothing "
                "was changed there. Run publish again to see the new plan.")

    def close(self) -> None:
        provider, self._provider = self._provider, None
        if provider is None or self._stuck:
            return
        try:
            self._call(f"closing the zone {quoted(self.zone)}", provider.cleanup)
        except StackshiftError:
            pass


# ---------------------------------------------------------------- provider corrections


def _forget_cached_zone(provider: Any) -> None:
    """Providers that keep the zone's records between calls (PowerDNS, rcodezero, devnomads, easyname) re-read
    it: a check against a stale copy would pass, and PowerDNS's writes would put back what someone else removed."""
    if hasattr(provider, "_zone_data"):
        provider._zone_data = None
    invalidate = getattr(provider, "_invalidate_records_cache", None)
    if callable(invalidate):
        invalidate()


def _correct_powerdns(provider: Any) -> None:
    """PowerDNS's lexicon provider: a CNAME target is made absolute by appending the zone unless it already ends
    with it (so `target.example.net` in example.com becomes `target.example.net.example.com.`, on write and on
    read), and TXT strings are read with every quote stripped from both ends (`a" "b`). Content is kept as
    PowerDNS has it instead: CNAME targets only get their trailing dot, TXT stays quoted (txt_text reads it)."""
    if not (hasattr(provider, "_clean_content") and hasattr(provider, "_unclean_content")):
        return

    def clean(rtype: str | None, content: str) -> str:
        if rtype in ("TXT", "LOC") and content:
            return content if content.startswith('"') and content.endswith('"') else f'"{content}"'
        if rtype == "CNAME":
            return content if content.endswith(".") else content + "."
        return content

    def unclean(rtype: str | None, content: str) -> str:
        return content.rstrip(".") if rtype == "CNAME" else content

    provider._clean_content = clean
    provider._unclean_content = unclean
