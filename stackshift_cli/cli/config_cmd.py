"""`stackshift config …`: path, list, get, set, unset for the active profile."""

from __future__ import annotations

from typing import Annotated

import typer

from stackshift_cli.cli.state import JsonOption, get_state
from stackshift_cli.config import KEYS, config_dir, data_dir, known_key, redact
from stackshift_cli.errors import UsageError
from stackshift_cli.escape import visible

app = typer.Typer(help="Read and change settings (per profile: --profile or STACKSHIFT_PROFILE).",
                  no_args_is_help=True)

KeyArgument = Annotated[str, typer.Argument(metavar="KEY", help="A config key, e.g. dns.nameservers.")]


def _shown(key: str, value: object, reveal: bool = False) -> object:
    if value is None:
        return None
    if KEYS[key].secret and not reveal:
        return redact(value)
    return value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@app.command()
def path(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Print the config file's path (and, with --json, the data directory too)."""
    state = get_state(ctx, json_output)
    file_path = state.settings.file.path
    if state.ui.json:
        state.ui.emit_json({"configFile": str(file_path), "configDir": str(config_dir()), "dataDir": str(data_dir())})
    else:
        state.ui.line(visible(str(file_path)))


@app.command("list")
def list_keys(
    ctx: typer.Context,
    all_keys: Annotated[bool, typer.Option("--all", help="Include defaults, with where each value comes from.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List the profile's settings (secrets show only their last 4 characters)."""
    state = get_state(ctx, json_output)
    settings = state.settings
    names = [k for k in KEYS if all_keys or settings.source(k) != "default"]
    values = {k: _shown(k, settings.get(k)) for k in names}
    if state.ui.json:
        state.ui.emit_json({"profile": settings.profile, "values": values,
                            "sources": {k: settings.source(k) for k in names}})
        return
    for key in names:
        suffix = f"\t({settings.source(key)})" if all_keys else ""
        state.ui.line(visible(f"{key}={_text(values[key])}") + suffix)
    if not names:
        state.ui.info(f"Profile {settings.profile} sets nothing; `stackshift config list --all` shows the defaults.")


@app.command()
def get(
    ctx: typer.Context,
    key: KeyArgument,
    reveal: Annotated[bool, typer.Option("--reveal", help="Print a secret value in full.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Print the effective value of KEY (exit 1 when it has none)."""
    state = get_state(ctx, json_output)
    known_key(key)
    value = _shown(key, state.settings.get(key), reveal)
    if state.ui.json:
        state.ui.emit_json({"key": key, "value": value, "source": state.settings.source(key)})
        return
    if value is None:
        state.ui.info(f"{key} is not set.")
        raise typer.Exit(1)
    state.ui.line(visible(_text(value)))


@app.command("set")
def set_key(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(metavar="VALUE")],
) -> None:
    """Set KEY to VALUE in the profile (checked before it is written); the profile is created if it is new."""
    state = get_state(ctx, creates_profile=True)
    spec = known_key(key)
    if spec.secret:
        raise UsageError(f"{key} is not set on the command line, where it would stay in your shell history.",
                         hint="Run `stackshift auth login`, which reads it from a prompt or stdin.")
    parsed = spec.parse(value)
    state.settings.file.set(state.settings.profile, key, parsed)
    state.ui.info(f"Set {key} = {_text(parsed)} in profile {state.settings.profile}.")


@app.command()
def unset(ctx: typer.Context, key: KeyArgument) -> None:
    """Remove KEY from the profile, so the default (or environment) applies again."""
    state = get_state(ctx)
    known_key(key)
    if state.settings.file.unset(state.settings.profile, key):
        state.ui.info(f"Removed {key} from profile {state.settings.profile}.")
    else:
        state.ui.info(f"{key} was not set in profile {state.settings.profile}.")
