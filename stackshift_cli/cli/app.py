"""The root command: global options, sub-command groups, and the one place errors become exit codes.

The command groups are built when a command names them (`domains list` imports and builds `domains` alone); `--help`
builds them all to list them. Help is Click's plain text, not Rich's panels: the same on a terminal, piped or in a
narrow window, and printed without importing Rich.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import sys
from collections.abc import MutableMapping
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterator, Optional

import typer
from typer._click.exceptions import NoArgsIsHelpError  # the click Typer bundles (typer < 0.29)
from typer.core import TyperCommand, TyperGroup

from stackshift_cli import __version__
from stackshift_cli.cli.state import BackendName, State
from stackshift_cli.configfile import DEFAULT_PROFILE
from stackshift_cli.cli.context import fallback_ui as _fallback_ui, report_error  # noqa: F401  (report_error: re-exported)
from stackshift_cli.errors import ExitCode
from stackshift_cli.output import Ui, color_disabled_by_env

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext  # the click Typer bundles (typer < 0.29)
    from typer._click.formatting import HelpFormatter

# Every command of the root, in the order `--help` lists them: a group's module (its `app`), or the module whose
# `app` holds the command. Each is imported and built when it is asked for.
GROUPS = {"domains": "stackshift_cli.cli.domains", "providers": "stackshift_cli.cli.providers",
          "config": "stackshift_cli.cli.config_cmd", "auth": "stackshift_cli.cli.auth"}
COMMANDS = {"completion": "stackshift_cli.cli.completion", "__complete": "stackshift_cli.cli.completion"}


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, each built the first time it is looked up: the names are known at once (for
    `--help`, and for Typer's "Did you mean" on a typo), but `domains list` converts the signature of `list`
    alone, not those of the other commands (Typer's conversion is most of a start's cost after its import)."""

    def __init__(self, builders: dict[str, Callable[[], Any]]) -> None:
        self._builders = builders
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._builders.setdefault(name, lambda: command)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


class HelpGroup(TyperGroup):
    """A group whose help lists each command with its whole first sentence (Click cuts it to the width left)."""

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)  # the names alone: Typer's own builds every command to list them

    def format_commands(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        _write_epilog(self.epilog, formatter)


class HelpCommand(TyperCommand):
    """A command whose epilog (its examples) is printed as written, like the sections above it."""

    def format_epilog(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        _write_epilog(self.epilog, formatter)


def _write_epilog(epilog: str | None, formatter: HelpFormatter) -> None:
    if epilog:
        formatter.write_paragraph()
        formatter.write(inspect.cleandoc(epilog) + "\n")


class _Root(HelpGroup):
    """Runs every command inside the error mapping, so CliRunner and the console script agree; builds each command
    group the first time it is asked for."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands({name: partial(_build, name) for name in (*GROUPS, *COMMANDS)})

    def invoke(self, ctx: ClickContext) -> Any:  # typer.Context, as Typer's own invoke declares it
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            raise typer.Exit(report_error(exc, state.ui if state else _fallback_ui(sys.argv[1:]))) from None


def _build(name: str) -> Any:
    """The Click command for `name`, built from its module's Typer app as `app.add_typer` would, but with each
    command of a group built when it is looked up (Typer's own functions; typer < 0.29)."""
    from typer.main import get_command_from_info, get_command_name, get_group_from_info
    from typer.models import TyperInfo

    sub_app = importlib.import_module(GROUPS.get(name) or COMMANDS[name]).app
    infos = {info.name or get_command_name(info.callback.__name__): info for info in sub_app.registered_commands}
    build = partial(get_command_from_info, pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode)
    if name in COMMANDS:
        return build(infos[name])
    shell = copy.copy(sub_app)  # the group without its commands, which LazyCommands builds
    shell.registered_commands = []
    group = get_group_from_info(TyperInfo(shell, name=name, cls=HelpGroup), suggest_commands=True,
                                pretty_exceptions_short=app.pretty_exceptions_short,
                                rich_markup_mode=app.rich_markup_mode)
    group.commands = LazyCommands({command: partial(build, info) for command, info in infos.items()})
    return group


app = typer.Typer(
    cls=_Root,
    name="stackshift",
    help="Take a sender domain from pending to verified: create it, publish its DNS records, verify them.",
    epilog="""
        Examples:
          stackshift domains create example.com             # prints the DNS records to publish
          stackshift domains verify example.com --wait      # checks DNS until the records are there
          stackshift domains list --json | jq -r '.[].name'

        Learn more:
          stackshift COMMAND --help    a command's arguments and options
          man stackshift               every command, exit codes, environment variables and files
        """,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help (see the module's docstring)
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


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
    from stackshift_cli.config import Settings

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
    except NoArgsIsHelpError as exc:  # `stackshift` or `stackshift domains` alone: the help, as a usage error
        sys.stderr.write(exc.format_message() + "\n")
        return int(ExitCode.USAGE)
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f"Run '{ctx.command_path} --help' for usage." if ctx is not None else None
        _fallback_ui(args).error(exc.format_message(), hint)
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    return int(result) if isinstance(result, int) else 0
