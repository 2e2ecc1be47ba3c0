"""The interface every backend implements; the CLI talks to nothing else."""

from __future__ import annotations

from typing import Callable, Protocol

from stackshift_cli.domain import Domain
from stackshift_cli.errors import NotFound
from stackshift_cli.names import looks_like_id, normalize_domain


class Backend(Protocol):
    """A registry of sender domains. Every method raises StackshiftError subclasses, never raw I/O errors."""

    kind: str  # "local" or "api"

    def create(self, name: str, *, selector: str | None, inbound: bool, exist_ok: bool) -> tuple[Domain, bool]:
        """Create `name` (already normalised); return the domain and whether it was created now.

        An existing name raises AlreadyExists unless exist_ok, which returns it with created=False.
        """

    def list(self, status: str | None = None) -> list[Domain]:
        """Every domain, oldest first, optionally only those with `status`."""

    def get(self, ref: str) -> Domain:
        """The domain with this id, or this name in any form the user types; NotFound otherwise."""

    def delete(self, ref: str) -> Domain:
        """Remove the domain (never its DNS records); return it as it was."""

    def verify(self, domain: Domain) -> Domain:
        """Check the domain's records now and return it with the new verdicts stored: save_check(check(d))."""

    def check(self, domain: Domain) -> Domain:
        """Check the domain's records now; safe to call from worker threads (`verify --all`)."""

    def save_check(self, checked: Domain) -> Domain:
        """Store what check() returned and return the stored domain; called from the main thread only."""

    def close(self) -> None:
        """Release connections."""



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
