"""Domain names and ids for shell completion, read without a network call or a heavy import.

Each backend's registry line says where its names come from (backends.base.BACKENDS): the local store's SQLite
file, opened read-only (TAB never creates a store); for the API backend, a small cache file kept here, which it
rewrites each time it lists the account's domains. TAB never asks the API, and a cache older than CACHE_TTL_S
is ignored.

Both sources are untrusted text (a hostile API, a tampered file): a row reaches the shell only when its name
is what `normalize_domain` makes of it and its id has the form stackshift makes, so a word never holds a
shell metacharacter, a space, a tab or a newline. Any other row is dropped without a word.

TAB reads its settings through configfile (the profile, the backend choice, the API URL, the data directory: the
same precedence as every command) and imports json or sqlite3 only for the source it reads.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path


from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.configfile import DB_NAME, DEFAULT_PROFILE, PROFILE_NAME, ProfileSettings, data_dir
from stackshift_cli.errors import InvalidDomainName
from stackshift_cli.names import is_local_id, normalize_domain

TYPE_CHECKING = False  # typing itself is not imported: TAB runs this module on every key press
if TYPE_CHECKING:
    from typing import Iterable

CACHE_DIR = "cache"
CACHE_TTL_S = 3600.0
_STATUS = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # a status shown beside a name; anything else is shown as ""


def valid_name(name: object) -> bool:
    """True when `name` is a stored (canonical, A-label) domain name: normalize_domain leaves it unchanged."""
    if not isinstance(name, str):
        return False
    try:
        return normalize_domain(name) == name
    except (InvalidDomainName, ValueError):
        return False


def valid_id(id_: object) -> bool:
    """An id TAB offers: the form stackshift makes and the API contract shows (names.LOCAL_ID); an API id of
    another form still works by its name."""
    return is_local_id(id_)


def _checked(rows: Iterable[tuple[object, object, object]]) -> list[tuple[str, str, str]]:
    """The rows with a valid name and id, their status blanked unless it is one plain word."""
    return [(str(name), str(id_), status if isinstance(status, str) and _STATUS.fullmatch(status) else "")
            for name, id_, status in rows if valid_name(name) and valid_id(id_)]


def local_store_rows(directory: Path) -> list[tuple[object, object, object]]:
    """(name, id, status) of every domain in the local store in `directory`, oldest first, as the store holds them
    (unchecked); [] when there is no store or it cannot be read. Opens it read-only: never creates, locks or
    changes anything, and never waits more than a second."""
    path = directory / DB_NAME
    if not path.is_file():
        return []
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            return [tuple(row) for row in
                    conn.execute("SELECT name, id, status FROM domains ORDER BY created_at, rowid").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def api_cache_file(profile: str, directory: Path | None = None) -> Path:
    return (directory or data_dir()) / CACHE_DIR / f"api-domains-{profile}.json"


def remember_api_domains(profile: str, api_url: str, domains: Iterable[object]) -> None:
    """Record the names an API listing returned, for completion. Best effort: failures are ignored."""
    import json

    from stackshift_cli.files import write_private_file

    entries = [list(row) for row in _checked((d.name, d.id, d.status) for d in domains)]  # type: ignore[attr-defined]

    data = {"apiUrl": api_url, "savedAt": time.time(), "domains": entries}
    try:
        write_private_file(api_cache_file(profile), json.dumps(data).encode("utf-8"))
    except OSError:
        pass


def cached_api_domains(profile: str, api_url: str, now: float | None = None) -> list[tuple[str, str, str]]:
    """(name, id, status) from the API cache of this profile and URL; [] when absent, stale or unreadable."""
    import json

    try:
        data = json.loads(api_cache_file(profile).read_text())
        fresh = (now if now is not None else time.time()) - float(data["savedAt"]) < CACHE_TTL_S
        if not fresh or data.get("apiUrl") != api_url:
            return []
        return _checked(tuple(entry) for entry in data["domains"] if isinstance(entry, list) and len(entry) == 3)
    except (OSError, ValueError, KeyError, TypeError):
        return []


def offered(domains: Iterable[tuple[str, str, str]], typed: str) -> list[tuple[str, str]]:
    """(word, description) to offer: names, or ids once the word being typed starts with `dom_`.

    The shell itself matches the words against what was typed (fish fuzzily), so nothing is filtered here.
    The rows are already checked (see _checked): every word and description is one plain word.
    """
    if typed.startswith("dom_"):
        return [(id_, name) for name, id_, _ in domains]
    return [(name, status) for name, _, status in domains]


def completion_words(settings: ProfileSettings, backend: str, kind: str, typed: str) -> list[tuple[str, str]]:
    """(word, description) pairs for TAB: profiles, or the domains of the backend in use."""
    if kind == "profiles":
        profiles = [p for p in settings.file.profiles() if PROFILE_NAME.fullmatch(p)]
        return [(name, "profile") for name in dict.fromkeys([DEFAULT_PROFILE, *profiles])]
    return offered(_checked(BACKENDS.completion_rows(backend, settings)), typed)


def print_completion_words(settings: ProfileSettings, backend: str | None, kind: str, typed: str) -> None:
    """Print `word<TAB>description` lines; print nothing on any error (a broken config or store must not
    spill over the user's command line)."""
    try:
        words = completion_words(settings, BACKENDS.choose(settings, backend), kind, typed)
    except Exception:
        return
    sys.stdout.write("".join(f"{word}\t{description}\n" for word, description in words))


def fast_complete(argv: list[str]) -> bool:
    """Answer `stackshift [--profile P] [--backend B] __complete KIND [TYPED]` without loading Typer.

    Returns False when argv is not that call, so the full CLI handles it. TAB runs this on every press:
    it must stay far below the cost of building the command tree, so it reads the settings it needs through
    configfile.ProfileSettings (the keys that choose the backend, with the precedence of every command), never
    through config.Settings and the registries behind it.
    """
    args, options = list(argv), dict.fromkeys(("--profile", "--backend"), "")
    while len(args) >= 2 and args[0] in options:
        option, value, args = args[0], args[1], args[2:]
        options[option] = value
    if not args or args[0] != "__complete" or len(args) not in (2, 3) or args[1] not in ("domains", "profiles"):
        return False
    profile = options["--profile"] or os.environ.get("STACKSHIFT_PROFILE") or DEFAULT_PROFILE
    try:
        settings = ProfileSettings(profile)
    except Exception:
        return True
    print_completion_words(settings, options["--backend"] or None, args[1], args[2] if len(args) == 3 else "")
    return True
