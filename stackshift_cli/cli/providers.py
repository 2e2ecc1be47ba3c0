"""`stackshift providers list`: the DNS providers `domains publish` writes through, with the settings each reads."""

from __future__ import annotations

import typer

from stackshift_cli.cli.state import JsonOption, get_state

app = typer.Typer(help="DNS providers that `domains publish` writes records through.", no_args_is_help=True)


@app.command("list")
def list_providers(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the providers, with the credentials each needs (names only, never values)."""
    from importlib.util import find_spec

    from stackshift_cli.output import tsv
    from stackshift_cli.providers import all_providers

    state = get_state(ctx, json_output)
    ui = state.ui
    lexicon = find_spec("lexicon") is not None
    providers = list(all_providers().values())
    if ui.json:
        ui.emit_json([{"name": p.name, "kind": p.kind, "installed": p.kind == "rfc2136" or lexicon,
                       "credentials": [{"option": c.option, "key": c.key, "env": c.env, "secret": c.secret}
                                       for c in p.credentials],
                       "nameservers": list(p.nameservers)} for p in providers])
        return
    if not lexicon:
        ui.info("dns-lexicon is not installed, so only rfc2136 works now; the others need "
                "`pip install 'stackshift-cli[publish]'`.")
    rows = [(p.name, p.kind, ", ".join(c.env for c in p.credentials)) for p in providers]
    if not ui.stdout_tty:
        for row in rows:
            ui.line(tsv(*row))
        return
    width = max(len(r[0]) for r in rows)
    ui.line(f"{'PROVIDER':<{width}}  {'KIND':<7}  SETTINGS (environment variables; config keys publish.<provider>.<option>)")
    for name, kind, env in rows:
        ui.line(f"{name:<{width}}  {kind:<7}  {env}")
