"""Reading a value that must not go on the command line (an API key, a TSIG secret, a provider's token): from a
hidden prompt when a person is at a terminal, else from standard input. `auth login` and `config set KEY -` share it.
"""

from __future__ import annotations

import typer

from stackshift_cli.errors import UsageError
from stackshift_cli.output import Ui


def read_value(ui: Ui, what: str, command: str, *, prompt: str | None = None, one_line: bool = True,
               strip: bool = False) -> str:
    """The value, typed at a hidden prompt when standard input is a terminal (`prompt`, then ": "; nothing is
    echoed), or else the whole of standard input with its final line break removed.

    `what` names the value in messages ("API key", "value for dns.timeout"); `command` is the command that reads it,
    for the hint (`stackshift auth login`). Refused, as a usage error: nothing (or only blanks) on standard input, a
    value of more than one line when `one_line`. `strip` removes the blanks around the value (an API key has none).
    The value itself never appears in a message."""
    if _is_terminal(ui.stdin):  # (even when stdout is not one) the terminal would echo what is typed: hide it
        text = typer.prompt(prompt or what[:1].upper() + what[1:], hide_input=True, err=True)
    else:
        try:
            text = ui.stdin.read() or ""
        except UnicodeDecodeError:
            raise UsageError(f"Standard input is not text (UTF-8); give only the {what}.",
                             hint=f"Pipe in a text file: `{command} < file`.") from None
        except OSError:
            text = ""
        if not text.strip():
            raise UsageError(f"No {what} on standard input.",
                             hint=f"Pipe it in (`{command} < file`) or run `{command}` in a terminal.")
    value = text.strip() if strip else _without_final_line_break(text)
    if one_line and ("\n" in value or "\r" in value):
        raise UsageError(f"Standard input holds more than one line; give only the {what}.",
                         hint=f"Give it alone on one line: `{command} < file`, or type it at the prompt in a terminal.")
    if not value.strip():
        raise UsageError(f"The {what} is empty.", hint=f"Type it at the prompt, or pipe it in: `{command} < file`.")
    return value


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _without_final_line_break(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-1]
    return text[:-1] if text.endswith("\r") else text
