"""Typer glue: parse arguments, call a service or the backend, hand results to output. No logic lives here.

`main` is the console script. Three calls are answered before Typer is even imported, because they must be
instant: `--version`, TAB completion's `__complete` (namecache.fast_complete), and `domains list` with plain
arguments (cli/quick.py), which scripts run in loops. Anything else, and any form of them not recognised for
certain, goes to the full CLI, which gives the same answer.
"""

import sys

# The root options (cli/app.py's `root`) as the parser reads them: flags, and options that take the next word.
ROOT_FLAGS = frozenset(("--json", "--no-color", "--quiet", "-q", "--debug", "--version"))
ROOT_OPTIONS = frozenset(("--profile", "--backend"))


def main() -> None:
    args = sys.argv[1:]
    if asks_only_version(args):
        _print_version()
        return
    if "__complete" in args[:6]:
        from stackshift_cli.namecache import fast_complete

        if fast_complete(args):
            return
    if "list" in args:
        from stackshift_cli.cli.quick import quick_list

        code = quick_list(args)
        if code is not None:
            sys.exit(code)
    from stackshift_cli.cli.app import main as run_app

    run_app()


def asks_only_version(args: list[str]) -> bool:
    """Whether the full CLI would print the version and nothing else for these arguments.

    That is: `--version` among root options that the parser accepts whatever their values (flags, and --profile or
    --backend with a value), with nothing else. `--version` is eager: the parser reads every root option first, then
    runs it before any other option's check (a --backend value, an environment variable), so their values do not
    matter. Anything else (-h, a command, an unknown or malformed option, `--`) is left to the full CLI.
    """
    seen = False
    words = iter(args)
    for word in words:
        if word in ROOT_FLAGS:
            seen = seen or word == "--version"
        elif word in ROOT_OPTIONS:
            if next(words, None) is None:  # a missing value is a usage error
                return False
        elif word.partition("=")[0] not in ROOT_OPTIONS:
            return False
    return seen


def _print_version() -> None:
    from stackshift_cli import __version__

    try:
        sys.stdout.write(f"stackshift {__version__}\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| true`): as for every command, quietly and with 0
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
