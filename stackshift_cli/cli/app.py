"""The root command: global options, sub-command groups, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from stackshift_cli import __version__
from stackshift_cli.cli import auth, completion, config_cmd, domains
from stackshift_cli.cli.state import BackendName, State
from stackshift_cli.config import DEFAULT_PROFILE, Settings
from stackshift_cli.errors import ExitCode, StackshiftError, Terminated
from stackshift_cli.output import Ui, color_disabled_by_env

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext  # the click Typer bundles (typer < 0.29)


class _Root(TyperGroup):
    """Runs every command inside the error mapping, so CliRunner and the console script agree."""

    def invoke(self, ctx: ClickContext) -> Any:  # typer.Context, as Typer's own invoke declares it
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            raise typer.Exit(report_error(exc, state.ui if state else _fallback_ui(sys.argv[1:]))) from None


app = typer.Typer(
    cls=_Root,
    name="stackshift",
    help="Take a sender domain from pending to verified: create it, publish its DNS records, verify them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(domains.app, name="domains")
app.add_typer(config_cmd.app, name="config")
app.add_typer(auth.app, name="auth")
app.add_typer(completion.app)  # `completion`, and the hidden `__complete` behind TAB


def _version(value: bool) -> None:
    if value:
        print(f"stackshift {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[str, typer.Option(envvar="STACKSHIFT_PROFILE", help="Config profile to use.")] = DEFAULT_PROFILE,
    backend: Annotated[Optional[BackendName], typer.Option(
        "--backend", envvar="STACKSHIFT_BACKEND",
        help="Where domains live: local store or StackShift API (default: api when an API key is set).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON and nothing else on stdout.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", envvar="STACKSHIFT_NO_COLOR",
                                           help="No colour (also NO_COLOR).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", envvar="STACKSHIFT_QUIET",
                                        help="Only data and errors; no progress or hints.")] = False,
    debug: Annotated[bool, typer.Option("--debug", envvar="STACKSHIFT_DEBUG",
                                        help="Log requests and show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ui = Ui(json=json_output, quiet=quiet, color=not (no_color or color_disabled_by_env()), debug=debug)
    state = ctx.obj if isinstance(ctx.obj, State) else None
    if state is None:
        state = State(ui=ui, settings=Settings(profile), backend_choice=backend.value if backend else None)
        ctx.obj = state
    ctx.call_on_close(state.close)


def main(argv: list[str] | None = None) -> None:
    """The console script: run the CLI and exit with the documented code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Parse and run; parser errors (unknown option, missing argument) become one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=args, prog_name="stackshift", standalone_mode=False)
    except typer.Abort:  # Ctrl-C or end of input at a prompt
        _fallback_ui(args).error("Interrupted.")
        return int(ExitCode.INTERRUPTED)
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f"Run '{ctx.command_path} --help' for usage." if ctx is not None else None
        _fallback_ui(args).error(exc.format_message(), hint)
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    return int(result) if isinstance(result, int) else 0


def report_error(exc: BaseException, ui: Ui) -> int:
    """The one mapping from an exception raised by a command to a message and an exit code."""
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


def _fallback_ui(args: list[str]) -> Ui:
    """A Ui for errors raised before the root callback built the run's own."""
    no_color = color_disabled_by_env() or "--no-color" in args or _env_true("STACKSHIFT_NO_COLOR")
    return Ui(color=not no_color, debug="--debug" in args or _env_true("STACKSHIFT_DEBUG"))


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
