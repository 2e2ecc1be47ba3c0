"""`domains list`, answered before Typer is imported when its arguments are plain (scripts and cron jobs run it
in loops: building the command tree costs more than listing a small store).

`quick_list(args)` reads the arguments the way the full CLI's parser does for the forms it recognises for certain:
root flags and options (with the environment variables they read), then `domains list` with `--status` and
`--json`. Anything else (help, an unknown or repeated option, a value the parser would refuse, an environment
variable it would refuse) returns None and goes to the full CLI, which gives the same answer or the usage error.
Both run `show_list` on the same State, and errors go through the same report_error.
"""

from __future__ import annotations

import os

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.cli import ROOT_FLAGS, ROOT_OPTIONS
from stackshift_cli.cli.context import State, report_error
from stackshift_cli.statuses import DOMAIN_STATUSES

# Click's words for a boolean environment variable (case and surrounding spaces ignored; empty means unset).
_TRUE = frozenset(("1", "true", "t", "yes", "y", "on"))
_FALSE = frozenset(("", "0", "false", "f", "no", "n", "off"))
# The root's flags (cli/__init__.py's, which main() reads too) but --version, which the full CLI answers first.
_ROOT_FLAGS = ROOT_FLAGS - {"--version"}


def show_list(state: State, status: str | None) -> None:
    """`domains list`: to a script with --json, one compact object per line (Ui.json_lines); else Ui.listing."""
    ui = state.ui
    state.announce()
    if ui.json and not ui.stdout_tty:
        ui.json_lines(state.backend().listing_json(status))
    else:
        ui.listing(state.backend().listing(status, records=ui.json))


def quick_list(args: list[str]) -> int | None:
    """Run `domains list` for these arguments and return its exit code, or None when they are not a form this
    module reads for certain (the full CLI handles them)."""
    parsed = _parse(args)
    if parsed is None:
        return None
    flags, options, status, json_after = parsed
    settings_env = _environment(flags)
    if settings_env is None:
        return None
    no_color, quiet, debug = settings_env
    backend = options.get("--backend") or os.environ.get("STACKSHIFT_BACKEND") or None
    if backend is not None and backend not in BACKENDS:
        return None  # the parser's "is not one of" error
    from stackshift_cli.config import Settings
    from stackshift_cli.output import Ui, color_disabled_by_env

    ui = Ui(json=flags["--json"] or json_after, quiet=quiet, color=not (no_color or color_disabled_by_env()),
            debug=debug)
    state: State | None = None
    try:
        profile = options.get("--profile") or os.environ.get("STACKSHIFT_PROFILE") or "default"
        state = State(ui=ui, settings=Settings(profile), backend_choice=backend)
        state.settings.require_profile()
        show_list(state, status)
        ui.stdout.flush()
        return 0
    except (Exception, KeyboardInterrupt) as exc:
        return report_error(exc, ui)
    finally:
        if state is not None:
            state.close()


def _parse(args: list[str]) -> tuple[dict[str, bool], dict[str, str], str | None, bool] | None:
    flags = dict.fromkeys(("--json", "--no-color", "--quiet", "--debug"), False)
    options: dict[str, str] = {}
    words = list(args)
    while words and words[0] != "domains":
        word = words.pop(0)
        name, equals, value = word.partition("=")
        if word in _ROOT_FLAGS:
            flags["--quiet" if word == "-q" else word] = True
        elif name in ROOT_OPTIONS and name not in options:
            if not equals:
                if not words:
                    return None
                value = words.pop(0)
            if not value or value.startswith("-"):
                return None
            options[name] = value
        else:
            return None
    if words[:2] != ["domains", "list"]:
        return None
    status: str | None = None
    json_after = False
    words = words[2:]
    while words:
        word = words.pop(0)
        name, equals, value = word.partition("=")
        if word == "--json":
            json_after = True
        elif name == "--status" and status is None:
            if not equals:
                if not words:
                    return None
                value = words.pop(0)
            if value not in DOMAIN_STATUSES:
                return None
            status = value
        else:
            return None
    return flags, options, status, json_after


def _environment(flags: dict[str, bool]) -> tuple[bool, bool, bool] | None:
    """(no_color, quiet, debug): each flag, or else its environment variable read as the parser reads it; None when
    a variable holds a word the parser would refuse."""
    values = []
    for flag, variable in (("--no-color", "STACKSHIFT_NO_COLOR"), ("--quiet", "STACKSHIFT_QUIET"),
                           ("--debug", "STACKSHIFT_DEBUG")):
        if flags[flag]:
            values.append(True)
            continue
        word = os.environ.get(variable, "").strip().lower()
        if word not in _TRUE and word not in _FALSE:
            return None
        values.append(word in _TRUE)
    return values[0], values[1], values[2]
