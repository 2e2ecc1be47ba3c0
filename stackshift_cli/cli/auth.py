"""`stackshift auth …`: log in to the StackShift API with a key, show what is in use, log out."""

from __future__ import annotations

import typer

from stackshift_cli.backends.base import BACKENDS
from stackshift_cli.cli.state import JsonOption, get_state
from stackshift_cli.cli.stdin_value import read_value
from stackshift_cli.config import redact
from stackshift_cli.errors import AuthError, ExitCode
from stackshift_cli.escape import visible
from stackshift_cli.output import tsv

app = typer.Typer(help="Store, show or remove the StackShift API key of a profile.", no_args_is_help=True)

KEY_NAME = "api.key"
KEY_ENV = "STACKSHIFT_API_KEY"


@app.command()
def login(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Store an API key in the profile after checking it against the API.

    The key is read from standard input when it is piped (`stackshift auth login < key.txt`), or asked
    for with hidden input on a terminal. It is never taken from a flag, where it would end up in the
    shell history and the process list.
    """
    from stackshift_cli.backends.api import ApiBackend, check_key_text

    state = get_state(ctx, json_output, creates_profile=True)
    ui, settings = state.ui, state.settings
    key = read_value(ui, "API key", "stackshift auth login", strip=True)
    check_key_text(key)
    backend = ApiBackend(settings, ui, key=key)
    try:
        backend.check_key()
    except AuthError:
        raise AuthError(f"The StackShift API at {backend.base_url} refused this key; nothing was stored.",
                        hint="Copy the key again from your StackShift account settings.") from None
    finally:
        backend.close()
    settings.file.set(settings.profile, KEY_NAME, key)
    if ui.json:
        ui.emit_json(_status_data(state))
        return
    ui.success(f"Logged in to {backend.base_url} with key {redact(key)}; stored in profile "
               f"{settings.profile} ({settings.file.path}).")
    _warn_about_overrides(state)


@app.command()
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the profile, the backend in use, the API URL and the key's last four characters.

    Exits 6 when the profile has no API key (after printing the status), so scripts can test it.
    """
    state = get_state(ctx, json_output)
    ui = state.ui
    data = _status_data(state)
    if ui.json:
        ui.emit_json(data)
    else:
        rows = [
            ("profile", data["profile"]),
            ("backend", f"{data['backend']} ({data['backendSource']})"),
            ("apiUrl", f"{data['apiUrl']} ({data['apiUrlSource']})"),
            ("apiKey", f"{data['apiKey']} ({data['apiKeySource']})" if data["apiKey"] else "not set"),
        ]
        for label, value in rows:
            ui.line(tsv(label, value) if not ui.stdout_tty else f"{label.ljust(8)}  {visible(str(value))}")
    if not data["apiKey"]:
        ui.info(f"Not logged in; run `stackshift auth login` (profile {state.settings.profile}).")
        raise typer.Exit(int(ExitCode.AUTH))


@app.command()
def logout(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Remove the API key from the profile. Domains in your account are not touched."""
    state = get_state(ctx, json_output)
    ui, settings = state.ui, state.settings
    removed = settings.file.unset(settings.profile, KEY_NAME)
    if ui.json:
        ui.emit_json({"profile": settings.profile, "removed": removed})
    elif removed:
        ui.success(f"Removed the API key from profile {settings.profile}.")
    else:
        ui.info(f"Profile {settings.profile} has no stored API key; nothing to remove.")
    _warn_about_overrides(state)


def _status_data(state) -> dict[str, object]:
    settings = state.settings
    key = settings.get(KEY_NAME)
    return {
        "profile": settings.profile,
        "backend": state.backend_name,
        "backendSource": _backend_source(state),
        "apiUrl": settings.get("api.url"),
        "apiUrlSource": settings.source("api.url"),
        "apiKey": redact(key) if key else None,
        "apiKeySource": settings.source(KEY_NAME) if key else None,
        "configFile": str(settings.file.path),
    }


def _backend_source(state) -> str:
    if state.backend_choice:
        return "--backend or STACKSHIFT_BACKEND"
    if state.settings.get("backend"):
        return state.settings.source("backend")
    name = state.backend_name
    return f"default: {name} when a key is set" if BACKENDS.credential(name) else f"default: {name} without a key"


def _warn_about_overrides(state) -> None:
    """Say when what was just stored is not what the next command will use."""
    import os

    settings = state.settings
    if os.environ.get(KEY_ENV):
        state.ui.warn(f"{KEY_ENV} is set and overrides the key stored in the profile.")
    pinned = settings.get("backend")
    if pinned and BACKENDS.credential(pinned) != KEY_NAME and settings.source("backend") == "file":
        state.ui.warn(f"Profile {settings.profile} is set to the {pinned} backend; "
                      "run `stackshift config unset backend` to use the API.")
