"""What every command receives: output settings, effective config, and the backend (built on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any

import typer

from stackshift_cli.config import Settings
from stackshift_cli.output import Ui

class BackendKind(str, Enum):
    local = "local"
    api = "api"


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else on stdout.")]
RefArgument = Annotated[str, typer.Argument(metavar="NAME|ID", help="Domain name (any case, Unicode or not) or id.")]


@dataclass
class State:
    ui: Ui
    settings: Settings
    backend_choice: str | None = None
    _backend: Any = field(default=None, repr=False)

    @property
    def backend_kind(self) -> str:
        return self.settings.backend_kind(self.backend_choice)

    def backend(self):
        if self._backend is None:
            if self.backend_kind == "api":
                from stackshift_cli.backends.api import ApiBackend

                self._backend = ApiBackend(self.settings, self.ui)
            else:
                from stackshift_cli.backends.local import LocalBackend

                self._backend = LocalBackend(self.settings)
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
