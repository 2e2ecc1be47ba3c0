"""`stackshift config …`: path, list, get, set, unset for the active profile."""

from __future__ import annotations

from typing import Annotated

import typer

from stackshift_cli.cli.state import JsonOption, get_state
from stackshift_cli.cli.stdin_value import read_value
from stackshift_cli.config import KEYS, config_dir, data_dir, known_key, redact
from stackshift_cli.errors import UsageError
from stackshift_cli.escape import visible

app = typer.Typer(help="Read and change settings (per profile: --profile or STACKSHIFT_PROFILE).",
                  no_args_is_help=True)

KeyArgument = Annotated[str, typer.Argument(metavar="KEY", help="A config key, e.g. dns.nameservers.")]
STDIN = "-"  # `config set KEY -`: the value from standard input, or a hidden prompt


def _shown(key: str, value: object, reveal: bool = False) -> object:
    if value is None:
        return None
    if known_key(key).secret and not reveal:
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
    """List the profile's settings (secrets show only their last 4 characters).

    The DNS providers' keys (publish.PROVIDER.OPTION) are listed when they have a value, even with --all.
    """
    state = get_state(ctx, json_output)
    settings = state.settings
    names = [k for k in KEYS if all_keys or settings.source(k) != "default"] + settings.provider_keys_set()
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
    value: Annotated[str, typer.Argument(
        metavar="VALUE", help="The value, or - to read it from standard input (a hidden prompt on a terminal).")],
) -> None:
    """Set KEY to VALUE in the profile (checked before it is written); the profile is created if it is new.

    A secret (api.key, publish.rfc2136.key_secret, a provider's token) is never taken from the command line,
    where it would stay in the shell history: give - and type it at the hidden prompt, or pipe it in
    (`stackshift config set publish.rfc2136.key_secret - < secret.txt`).
    """
    state = get_state(ctx, creates_profile=True)
    spec = known_key(key)
    if value == STDIN:
        value = read_value(state.ui, f"value for {key}", f"stackshift config set {key} -", prompt=f"Value for {key}",
                           one_line=spec.secret)
    elif spec.secret:
        hint = f"Run `stackshift config set {key} -` and type or pipe the value."
        if key == "api.key":
            hint = ("Run `stackshift auth login`, which checks the key with the API, or "
                    "`stackshift config set api.key -`; both read it from a prompt or stdin.")
        raise UsageError(f"{key} is not set on the command line, where it would stay in your shell history.",
                         hint=hint)
    if key == "api.key":
        from stackshift_cli.backends.api import check_key_text

        value = check_key_text(value.strip())
    parsed = spec.parse(value)
    state.settings.file.set(state.settings.profile, key, parsed)
    shown = redact(parsed) if spec.secret else _text(parsed)
    state.ui.info(f"Set {key} = {shown} in profile {state.settings.profile}.")


@app.command()
def unset(ctx: typer.Context, key: KeyArgument) -> None:
    """Remove KEY from the profile, so the default (or environment) applies again."""
    state = get_state(ctx)
    known_key(key)
    if state.settings.file.unset(state.settings.profile, key):
        state.ui.info(f"Removed {key} from profile {state.settings.profile}.")
    else:
        state.ui.info(f"{key} was not set in profile {state.settings.profile}.")
