"""What every command receives: output settings, effective config, and the backend (built on first use)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.cli.context import State  # noqa: F401  (re-exported: every command module takes it from here)
from stackshift_cli.errors import UsageError

# --backend's choices (mypy cannot list the members of an Enum built at run time)
BackendName = Enum("BackendName", {name: name for name in BACKENDS}, type=str)  # type: ignore[misc]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON and nothing else on stdout.")]
RefArgument = Annotated[str, typer.Argument(metavar="NAME|ID", help="Domain name (any case, Unicode or not) or id.")]


def get_state(ctx: typer.Context, json_output: bool = False, *, creates_profile: bool = False) -> State:
    """The run's State, with --json given after the command folded in. The profile must exist in the config file
    (a typo in --profile or STACKSHIFT_PROFILE must not quietly use defaults), unless the command creates it."""
    state: State = ctx.find_root().obj
    if json_output:
        state.ui.json = True
    if not creates_profile:
        state.settings.require_profile()
    return state


def confirm_or_yes(state: State, yes: bool, question: str, command: str,
                   cancelled: str = "Cancelled; nothing was written.") -> None:
    """The one rule for commands that change things (delete, publish, unpublish): ask on a terminal; without one,
    --yes is required."""
    ui = state.ui
    if yes:
        return
    if not ui.interactive:
        raise UsageError("--yes required when not running interactively.", hint=f"Run `{command} --yes`.")
    if not ui.confirm(question):
        raise UsageError(cancelled)
