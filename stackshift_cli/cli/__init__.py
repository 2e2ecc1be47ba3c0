"""Typer glue: parse arguments, call a service or the backend, hand results to output. No logic lives here.

`main` is the console script: TAB completion's `__complete` is answered before Typer is even imported.
"""

import sys


def main() -> None:
    from stackshift_cli.namecache import fast_complete

    if len(sys.argv) > 1 and "__complete" in sys.argv[1:6] and fast_complete(sys.argv[1:]):
        return
    from stackshift_cli.cli.app import main as run_app

    run_app()
