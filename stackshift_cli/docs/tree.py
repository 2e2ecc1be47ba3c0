"""The command tree as plain data: every visible command, its options and arguments, and how each completes.

Everything generated (completions, man page) is built from `command_tree()`, which walks the Click
objects Typer builds from the app, so a new command or option shows up without touching the generators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROG = "stackshift"

# How a value completes, by the metavar the commands give it (NAME|ID is the documented convention for a
# domain reference) or by the option's name. Anything else completes to nothing, never to file names.
DOMAINS = "domains"
PROFILES = "profiles"
CONFIG_KEYS = "keys"
_BY_METAVAR = {"NAME|ID": DOMAINS, "KEY": CONFIG_KEYS}
_BY_OPTION = {"--profile": PROFILES}


@dataclass(frozen=True)
class Param:
    """An option or an argument of one command."""

    name: str
    opts: tuple[str, ...]  # option strings, long first ("--format", "-f"); empty for an argument
    help: str
    metavar: str | None  # what the value is called (FORMAT, NAME|ID); None for a flag
    choices: tuple[str, ...] = ()
    complete: str | None = None  # DOMAINS, PROFILES or CONFIG_KEYS: a dynamic or config-derived value
    envvar: str | None = None
    multiple: bool = False
    required: bool = False
    default: str | None = None

    @property
    def is_option(self) -> bool:
        return bool(self.opts)

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None

    @property
    def long(self) -> str:
        return self.opts[0]

    @property
    def short(self) -> str | None:
        return next((o for o in self.opts if not o.startswith("--")), None)


@dataclass
class Command:
    """A command or a group; `path` is the words after `stackshift` (() for the root)."""

    path: tuple[str, ...]
    help: str
    options: list[Param]
    arguments: list[Param]
    children: list[Command] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return bool(self.children)

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def short_help(self) -> str:
        """The first sentence of the help, for completion menus."""
        first = self.help.strip().split("\n\n")[0].replace("\n", " ")
        end = first.find(". ")
        return first[: end + 1] if end >= 0 else first

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def command_tree() -> Command:
    """The visible command tree of the stackshift app."""
    import typer

    from stackshift_cli.cli.app import app

    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name=PROG, **root.context_settings)
    return _convert(root, ctx, ())


def _convert(cmd, ctx, path: tuple[str, ...]) -> Command:
    import typer

    options: list[Param] = []
    arguments: list[Param] = []
    for param in cmd.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        converted = _param(param)
        (options if converted.is_option else arguments).append(converted)
    node = Command(path=path, help=_clean(cmd.help or ""), options=options, arguments=arguments)
    names = cmd.list_commands(ctx) if hasattr(cmd, "list_commands") else []  # in the order `--help` shows them
    for name in names:
        sub = cmd.get_command(ctx, name)  # the root builds each group when asked (cli/app.py)
        if sub is not None and not sub.hidden:
            node.children.append(_convert(sub, typer.Context(sub, parent=ctx, info_name=name), (*path, name)))
    return node


def _param(param) -> Param:
    is_option = param.param_type_name == "option"
    opts = tuple(sorted((*param.opts, *param.secondary_opts), key=lambda o: (not o.startswith("--"), o)))
    choices = tuple(getattr(param.type, "choices", ()) or ())
    is_flag = is_option and getattr(param, "is_flag", False)
    metavar = None if is_flag else (param.metavar or (param.name.upper() if not choices else _choice_metavar(param)))
    complete = _BY_OPTION.get(opts[0]) if is_option else None
    complete = complete or _BY_METAVAR.get(param.metavar or "")
    default = getattr(param.default, "value", param.default)  # a Choice's default is an Enum member
    default = default if isinstance(default, str) and not is_flag else None
    return Param(
        name=param.name,
        opts=opts if is_option else (),
        help=_clean(getattr(param, "help", None) or ""),
        metavar=metavar,
        choices=tuple(str(c) for c in choices),
        complete=complete,
        envvar=param.envvar if isinstance(param.envvar, str) else None,
        multiple=bool(param.multiple),
        required=bool(param.required),
        default=default,
    )


def _choice_metavar(param) -> str:
    return {"fmt": "FORMAT"}.get(param.name, param.name.upper())


def _clean(text: str) -> str:
    """Help text without Click's markers (\\b, \\f) and with paragraphs kept."""
    text = text.split("\f")[0].replace("\b\n", "")
    paragraphs = [" ".join(line.strip() for line in p.splitlines()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def config_keys() -> list[str]:
    from stackshift_cli.config import KEYS

    return list(KEYS)
