"""What every command receives: output settings, effective config, and the backend (built on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.config import Settings
from stackshift_cli.output import Ui

if TYPE_CHECKING:
    from stackshift_cli.backends.base import Backend

# --backend's choices (mypy cannot list the members of an Enum built at run time)
BackendName = Enum("BackendName", {name: name for name in BACKENDS}, type=str)  # type: ignore[misc]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else on stdout.")]
RefArgument = Annotated[str, typer.Argument(metavar="NAME|ID", help="Domain name (any case, Unicode or not) or id.")]


@dataclass
class State:
    ui: Ui
    settings: Settings
    backend_choice: str | None = None
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def backend_name(self) -> str:
        """The backend this run uses (BACKENDS.choose: --backend, environment, config, credential, default)."""
        return BACKENDS.choose(self.settings, self.backend_choice)

    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = BACKENDS[self.backend_name].open(self.settings, self.ui)
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def get_state(ctx: typer.Context, json_output: bool = False, *, creates_profile: bool = False) -> State:
    """The run's State, with --json given after the command folded in. The profile must exist in the config file
    (a typo in --profile or STACKSHIFT_PROFILE must not quietly use defaults), unless the command creates it."""
    state: State = ctx.find_root().obj
    if json_output:
        state.ui.json = True
    if not creates_profile:
        state.settings.require_profile()
    return state
