"""`stackshift completion bash|zsh|fish`, and the hidden `__complete` the completion scripts call on TAB."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from stackshift_cli.cli.state import get_state

app = typer.Typer()


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


class Kind(str, Enum):
    domains = "domains"
    profiles = "profiles"


@app.command("completion")
def completion(shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")]) -> None:
    """Print the completion script for a shell.

    Load it for the current shell with `source <(stackshift completion bash)` (zsh: the same with zsh;
    fish: `stackshift completion fish | source`), or install it as README.md's "Shell completion" says.
    """
    from stackshift_cli.docs.completions import script

    typer.echo(script(shell.value), nl=False)


@app.command("__complete", hidden=True)
def complete(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument()],
    typed: Annotated[str, typer.Argument()] = "",
) -> None:
    """Words for TAB: `word<TAB>description` lines, from local files only; prints nothing on any error."""
    from stackshift_cli.namecache import print_completion_words

    state = get_state(ctx, creates_profile=True)  # TAB never errors: an unknown profile just offers nothing
    print_completion_words(state.settings, state.backend_choice, kind.value, typed)
