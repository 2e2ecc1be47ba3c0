"""The interface every backend implements, and BACKENDS, the registry that names them.

A new backend is one module with a Backend subclass, plus one line in BACKENDS. What must be known before a
backend is imported (its name, where its class is, the credential that makes it the default, where TAB finds its
domain names) is its registry line; everything else (where its domains live, what it can do) is on its class.
A class is imported only when it is asked for, so the light commands, and TAB, stay light.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping

from stackshift_cli.errors import NotFound
from stackshift_cli.names import looks_like_id, normalize_domain

TYPE_CHECKING = False  # typing itself is not imported: this module is on TAB's path (see namecache)
if TYPE_CHECKING:
    from typing import Any, Callable, ClassVar, Iterator, Sequence

    from stackshift_cli.config import Settings
    from stackshift_cli.configfile import ProfileSettings
    from stackshift_cli.domain import Domain
    from stackshift_cli.history import History
    from stackshift_cli.publish.journal import Journal
    from stackshift_cli.output import Ui
    from stackshift_cli.verify import Session

    CompletionRows = Sequence[tuple[object, object, object]]  # (name, id, status), unchecked


class Backend(ABC):
    """A registry of sender domains. Every method raises StackshiftError subclasses, never raw I/O errors.

    A subclass that leaves a method out cannot be instantiated, and one without `name` or `where` cannot be
    defined."""

    name: ClassVar[str]  # its name in BACKENDS, --backend and the `backend` config key
    where: ClassVar[str]  # where its domains live, as messages say it: "the local store"
    keeps_private_keys: ClassVar[bool] = False  # DKIM private keys are kept by stackshift (files beside the store)
    judges_remotely: ClassVar[bool] = False  # its verdicts come from elsewhere (the API), not from stackshift's DNS

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        missing = [attr for attr in ("name", "where") if not isinstance(getattr(cls, attr, None), str)]
        if missing:
            raise TypeError(f"Backend {cls.__name__} does not say its {' or '.join(missing)}.")

    @classmethod
    @abstractmethod
    def open(cls, settings: Settings, ui: Ui) -> Backend:
        """The backend a command uses, for these settings."""

    @abstractmethod
    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool,
               key_size: int | None = None) -> tuple[Domain, bool]:
        """Create `name` (already normalised); return the domain and whether it was created now.

        An existing name raises AlreadyExists unless exist_ok, which returns it with created=False. `key_size`: the
        bits of the new DKIM key (one of keys.KEY_SIZES; None: keys.KEY_BITS); a backend that cannot choose it
        refuses any other size before creating anything.
        """

    @abstractmethod
    def list(self, status: str | None = None) -> list[Domain]:
        """Every domain, oldest first, optionally only those with `status`."""

    def listing(self, status: str | None = None, *, records: bool = True) -> Iterator[dict[str, Any]]:
        """Every domain as `list` returns them, each as its JSON object (Domain.to_json), handed on one at a time
        (`domains list` writes each as it comes). Without `records`, the objects leave out "records", which a table
        row does not show (their check statuses stay). A backend that can read its domains as they stream
        overrides this; by default it is `list`, read whole first."""
        for domain in self.list(status):
            data = domain.to_json()
            if not records:
                del data["records"]
            yield data

    def listing_json(self, status: str | None = None) -> Iterator[str]:
        """What `listing` yields, each object as one line of JSON: `json.dumps(obj, ensure_ascii=False)` (a backend
        may write that text its own faster way: it must be the same text)."""
        from stackshift_cli.output import compact_json

        for data in self.listing(status):
            yield compact_json(data)

    def each(self, select: Callable[[str, str], bool]) -> tuple[int, Iterator[Domain]]:
        """The domains `select(id, status)` keeps, in `list` order: how many, and an iterator over them (what
        `verify --all` checks). A backend that can read its domains a page at a time overrides this so that a bulk
        run holds a few hundred in memory, not all of them; by default it is `list`, read whole first."""
        chosen = [domain for domain in self.list() if select(domain.id, domain.status)]
        return len(chosen), iter(chosen)

    @abstractmethod
    def get(self, ref: str) -> Domain:
        """The domain with this id, or this name in any form the user types; NotFound otherwise."""

    @abstractmethod
    def delete(self, ref: str) -> Domain:
        """Remove the domain (never its DNS records); return it as it was."""

    @abstractmethod
    def check(self, domain: Domain, *, nameservers: Sequence[str] | None = None) -> Domain:
        """Check the domain's records now, without storing; safe to call from worker threads (`verify --all`).

        `nameservers` are the resolvers for the lookups stackshift makes itself (None: dns.nameservers); a backend
        whose verdicts come from elsewhere (judges_remotely) returns those verdicts alone and ignores them."""

    async def check_async(self, domain: Domain, session: Session) -> Domain:
        """`check` within a bulk run's DNS session (verify.Session: one event loop, shared answers), for a backend
        whose verdicts are stackshift's own (not judges_remotely). By default `check` in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self.check, domain, nameservers=session.nameservers)

    @abstractmethod
    def save_check(self, checked: Domain) -> Domain:
        """Store what check() returned and return the stored domain; called from the main thread only."""

    @abstractmethod
    def history(self) -> History:
        """The history of this backend's domains (history.py): every status change verify saw."""

    @abstractmethod
    def journal(self, *, create: bool = True) -> Journal:
        """The publish journal of this backend's domains (publish/journal.py): what `publish` wrote at DNS
        providers, for `unpublish`. With `create` false, nothing is created to read it (an empty journal)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class Registration:
    """One line of the registry: what is known of a backend without importing it (a plain class: cheap to define,
    and this module is imported by every start and every TAB).

    `target`: "package.module:Class", imported the first time the class is asked for. `completion_rows`: (name, id,
    status) of its domains for TAB, from local files only: no network, and not the backend's module (TAB runs this
    on every press); untrusted: namecache checks every row before it reaches the shell. `credential`: the config key
    of the credential it needs; when that is set, it is the default."""

    __slots__ = ("target", "completion_rows", "credential")

    def __init__(self, target: str, completion_rows: Callable[[ProfileSettings], CompletionRows],
                 credential: str | None = None) -> None:
        self.target = target
        self.completion_rows = completion_rows
        self.credential = credential


class BackendRegistry(Mapping[str, "type[Backend]"]):
    """Backend name -> Backend class, in the order --backend lists them; a class is imported on first use."""

    def __init__(self, registrations: dict[str, Registration]) -> None:
        self._registrations = registrations

    def __getitem__(self, name: str) -> type[Backend]:
        module, _, attr = self._registrations[name].target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        if not (isinstance(cls, type) and issubclass(cls, Backend) and cls.name == name):
            raise TypeError(f"{self._registrations[name].target} is not the Backend named {name!r}.")
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(self._registrations)

    def __len__(self) -> int:
        return len(self._registrations)

    def completion_rows(self, name: str, settings: ProfileSettings) -> CompletionRows:
        """The rows TAB offers for backend `name` (see Registration)."""
        return self._registrations[name].completion_rows(settings)

    def credential(self, name: str) -> str | None:
        """The config key of the credential backend `name` needs (None when it needs none)."""
        return self._registrations[name].credential

    def choose(self, settings: ProfileSettings, choice: str | None = None) -> str:
        """The backend a run uses: --backend (choice) > STACKSHIFT_BACKEND > config `backend` > the first backend
        whose credential is configured > the first that needs none."""
        chosen = choice or settings.get("backend")
        if chosen:
            return chosen
        credentialed = (n for n, r in self._registrations.items() if r.credential and settings.get(r.credential))
        return next(credentialed, None) or next(n for n, r in self._registrations.items() if not r.credential)


def _stored_names(settings: ProfileSettings) -> CompletionRows:
    """The local store's names, read from its file as it is (namecache.local_store_rows)."""
    from stackshift_cli.configfile import data_dir
    from stackshift_cli.namecache import local_store_rows

    return local_store_rows(data_dir())


def _listed_names(settings: ProfileSettings) -> CompletionRows:
    """The names the API backend's last listing returned, kept for an hour (namecache): TAB never waits for it."""
    from stackshift_cli.namecache import cached_api_domains

    return cached_api_domains(settings.profile, settings.get("api.url"))


BACKENDS = BackendRegistry({
    "local": Registration("stackshift_cli.backends.local:LocalBackend", _stored_names),
    "api": Registration("stackshift_cli.backends.api:ApiBackend", _listed_names, credential="api.key"),
})


def resolve_ref(
    ref: str, *, by_id: Callable[[str], Domain], by_name: Callable[[str], Domain | None], where: str
) -> Domain:
    """The domain a NAME|ID argument names: an id as is, a name in any form the user types it."""
    if looks_like_id(ref):
        return by_id(ref)
    name = normalize_domain(ref)
    domain = by_name(name)
    if domain is None:
        raise NotFound(f"No domain {name} in {where}.", hint=f"Create it with `stackshift domains create {name}`.")
    return domain
