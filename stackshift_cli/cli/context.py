"""What a command runs with, and what becomes of its errors, without Typer: the State every command receives, and
the one mapping from an exception to a message and an exit code. The full CLI (cli/app.py) and the commands
answered before Typer is imported (cli/quick.py) share both."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.errors import ExitCode, StackshiftError, Terminated
from stackshift_cli.output import Ui, color_disabled_by_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from stackshift_cli.backends.base import Backend
    from stackshift_cli.config import Settings


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

    def announce(self) -> None:
        """On a terminal, say which backend and profile the command uses (stderr)."""
        if self.ui.stderr_tty and not self.ui.json:
            self.ui.info(f"Using the {self.backend_name} backend, profile {self.settings.profile}.")

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def report_error(exc: BaseException, ui: Ui) -> int:
    """The one mapping from an exception raised by a command to a message and an exit code."""
    import traceback

    if isinstance(exc, StackshiftError):
        if ui.debug:
            traceback.print_exception(exc, file=ui.stderr)
        ui.error(exc.message, exc.hint)
        return int(exc.exit_code)
    if isinstance(exc, Terminated):  # SIGTERM during verify, which stored and printed what it checked
        ui.error("Terminated.")
        return int(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        ui.error("Interrupted.")
        return int(ExitCode.INTERRUPTED)
    if isinstance(exc, BrokenPipeError):  # the reader of stdout went away (`| head -1`): it has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
    if ui.debug:
        traceback.print_exception(exc, file=ui.stderr)
    ui.error(
        f"Internal error: {type(exc).__name__}: {exc}",
        "This is a bug in stackshift; run again with --debug for the traceback and report it.",
    )
    return int(ExitCode.ERROR)


def fallback_ui(args: list[str]) -> Ui:
    """A Ui for errors raised before the root callback built the run's own."""
    no_color = color_disabled_by_env() or "--no-color" in args or env_true("STACKSHIFT_NO_COLOR")
    return Ui(color=not no_color, debug="--debug" in args or env_true("STACKSHIFT_DEBUG"))


def env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
