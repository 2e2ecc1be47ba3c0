"""The man page, stackshift(1), as roff generated from the command tree, config.KEYS and errors.ExitCode."""

from __future__ import annotations

import re

from stackshift_cli.docs.tree import PROG, Command, Param, command_tree

# What each exit code means; generation fails when errors.ExitCode gains a code without a line here.
EXIT_MEANINGS = {
    "OK": "Success (for \\fBverify\\fR: the domain is verified).",
    "ERROR": "Error: I/O, the local store, the config file, the API, or an internal error.",
    "USAGE": "Usage or invalid input: a bad option, an invalid domain name, an existing domain without "
             "\\fB\\-\\-exist\\-ok\\fR, \\fB\\-\\-yes\\fR required, or cancelled at the prompt.",
    "VERIFICATION_FAILED": "Verification failed: a required record is wrong, or stayed missing past the "
                           "verify window.",
    "VERIFICATION_PENDING": "Verification not complete: records are still missing or propagating, or "
                            "\\fB\\-\\-wait\\fR timed out.",
    "NOT_FOUND": "No domain with that name or id.",
    "AUTH": "Authentication error: the API key is missing, invalid or refused, or a DNS provider refused the "
            "credentials (a TSIG key, a token) or the update.",
    "PUBLISH_CONFLICT": "\\fBpublish\\fR: the plan has conflicts; nothing was written.",
    "INTERRUPTED": "Interrupted (Ctrl-C).",
    "TERMINATED": "Terminated (SIGTERM) during verify or watch: what was already checked is stored and printed.",
}

# Variables read outside config.KEYS and the global options.
OTHER_ENVIRONMENT = {
    "STACKSHIFT_CONFIG_DIR": "Directory of the config file (default: \\fI$XDG_CONFIG_HOME/stackshift\\fR).",
    "STACKSHIFT_DATA_DIR": "Directory of the local store, the DKIM keys and the completion cache "
                           "(default: \\fI$XDG_DATA_HOME/stackshift\\fR).",
    "NO_COLOR": "When set to any value, no colour (see https://no\\-color.org).",
}

FILES = [
    ("$XDG_CONFIG_HOME/stackshift/config.toml",
     "The config file (TOML, one table per profile under \\fBprofiles\\fR), mode 0600. "
     "\\fBstackshift config path\\fR prints where it is."),
    ("$XDG_DATA_HOME/stackshift/stackshift.db",
     "The local store: SQLite in WAL mode, safe with several stackshift processes at once."),
    ("$XDG_DATA_HOME/stackshift/keys/\\fIID\\fP.pem",
     "The DKIM private key of each domain, mode 0600 in a 0700 directory; removed by "
     "\\fBdomains delete\\fR and never printed."),
    ("$XDG_DATA_HOME/stackshift/cache/api\\-domains\\-\\fIPROFILE\\fP.json",
     "Domain names last listed on the API backend, used only for shell completion (for one hour)."),
]

EXAMPLE = """\
# Create the domain and save the records to publish, as tab-separated lines:
stackshift domains create example.com
stackshift domains records example.com --format plain > records.txt

# Publish them at your DNS provider, then wait in a script until DNS has them:
if stackshift domains verify example.com --wait --timeout 30m; then
    echo "example.com is verified"
else
    case $? in
        3) echo "a record is wrong; see the explanation above" >&2 ;;
        4) echo "not propagated yet; try again later" >&2 ;;
        *) echo "stackshift failed" >&2 ;;
    esac
    exit 1
fi

# Every pending domain, by name:
stackshift domains list --status pending --json | jq -r '.[].name'
"""


def manpage(tree: Command | None = None) -> str:
    from stackshift_cli import __version__

    tree = tree or command_tree()
    out = [
        f'.TH {PROG.upper()} 1 "" "{PROG} {__version__}" "User Commands"',
        ".nh",
        ".SH NAME",
        f"{PROG} \\- {_text(_lower_first(tree.help.rstrip('.')))}",
        ".SH SYNOPSIS",
        f"\\fB{PROG}\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]",
    ]
    for node in tree.walk():
        if not node.is_group:
            out += [".PP", _synopsis(node)]
    out += [
        ".SH DESCRIPTION",
        f"\\fB{PROG}\\fR creates sender domains, prints the DNS records to publish (SPF, DKIM, DMARC, "
        "return\\-path and an optional inbound MX) in a form to paste into any DNS provider, checks them "
        "with real DNS lookups, explains precisely what is wrong when a check fails, and can wait until "
        "propagation completes. Domains live in a local store (the default, no account needed) or in "
        "a StackShift account through its API.",
        ".PP",
        "Every command that prints data takes \\fB\\-\\-json\\fR. Data goes to standard output; "
        "messages and hints go to standard error. Tables and colour appear only on a terminal; piped, "
        "output is tab\\-separated lines. \\fINAME|ID\\fR is a domain name in any form (any case, "
        "with or without a trailing dot, in Unicode) or its id (\\fBdom_\\fR...).",
        ".SH GLOBAL OPTIONS",
        "Given before the command.",
    ]
    out += [line for opt in tree.options for line in _option(opt)]
    out.append(".SH COMMANDS")
    for node in tree.walk():
        if node.is_group or not node.path:
            continue
        out += [f'.SS "{_text(PROG + " " + node.name)}"', _synopsis(node), ".PP"]
        out += _paragraphs(node.help)
        for arg in node.arguments:
            out += _argument(arg)
        out += [line for opt in node.options if opt.long != "--help" for line in _option(opt)]
    out += [".SH EXIT STATUS", "Every command uses the same codes:"]
    out += _exit_codes()
    out += [".SH ENVIRONMENT",
            "Command\\-line options take precedence over environment variables, which take precedence over "
            "the profile in the config file, which takes precedence over defaults."]
    for name, meaning in _environment(tree):
        out += [".TP", f"\\fB{_text(name)}\\fR", meaning]
    out += [".SH FILES", "On macOS the directories are under \\fI~/Library/Application Support/stackshift\\fR."]
    for path, meaning in FILES:
        out += [".TP", f"\\fI{_text(path, keep_escapes=True)}\\fR", meaning]
    out += [".SH EXAMPLES", "Create a domain, publish its records, and verify in a script:", ".PP",
            ".RS 4", ".nf"]
    out += [_text(line) if line else "" for line in EXAMPLE.splitlines()]
    out += [".fi", ".RE",
            ".SH SEE ALSO",
            ".BR dig (1),",
            ".BR host (1),",
            "and README.md in the source distribution for the walkthrough, the output formats and "
            "troubleshooting."]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- pieces


def _synopsis(node: Command) -> str:
    parts = [f"\\fB{_text(PROG + ' ' + node.name if node.path else PROG)}\\fR"]
    for opt in node.options:
        if opt.long == "--help":
            continue
        value = f" \\fI{_text(opt.metavar)}\\fR" if opt.metavar is not None else ""
        parts.append(f"[\\fB{_text(opt.long)}\\fR{value}]" + ("..." if opt.multiple else ""))
    for arg in node.arguments:
        name = f"\\fI{_text(arg.metavar or arg.name.upper())}\\fR"
        parts.append(name if arg.required else f"[{name}]")
    return " ".join(parts)


def _option(opt: Param) -> list[str]:
    names = ", ".join(f"\\fB{_text(o)}\\fR" for o in opt.opts)
    value = f" \\fI{_text(opt.metavar)}\\fR" if opt.metavar is not None else ""
    body = _text(opt.help)
    if opt.choices:
        body += f" One of: {_text(', '.join(opt.choices))}."
    if opt.default:
        body += f" Default: {_text(opt.default)}."
    if opt.multiple:
        body += " May be given more than once."
    if opt.envvar:
        body += f" Environment: \\fB{_text(opt.envvar)}\\fR."
    return [".TP", names + value, body]


def _argument(arg: Param) -> list[str]:
    body = _text(arg.help or "")
    if arg.choices:
        body += f" One of: {_text(', '.join(arg.choices))}."
    return [".TP", f"\\fI{_text(arg.metavar or arg.name.upper())}\\fR", body or "The value to set."]


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for i, paragraph in enumerate(text.split("\n\n")):
        if i:
            out.append(".PP")
        out.append(_text(paragraph))
    return out


def _exit_codes() -> list[str]:
    from stackshift_cli.errors import ExitCode

    out = []
    for code in ExitCode:
        out += [".TP", f"\\fB{int(code)}\\fR", EXIT_MEANINGS[code.name]]
    return out


def _environment(tree: Command) -> list[tuple[str, str]]:
    """(variable, meaning): the global options', config.KEYS', the paths' and NO_COLOR, each once."""
    from stackshift_cli.config import KEYS

    found: dict[str, str] = {}
    for opt in tree.options:
        if opt.envvar:
            found[opt.envvar] = f"As {_bold_option(opt)}: {_text(opt.help)}"
    for key in KEYS.values():
        if key.env and key.env not in found:
            found[key.env] = f"The config key \\fB{_text(key.name)}\\fR: {_text(key.help)}"
    for name, meaning in OTHER_ENVIRONMENT.items():
        found.setdefault(name, meaning)
    return sorted(found.items(), key=lambda item: (item[0] == "NO_COLOR", item[0]))


def _bold_option(opt: Param) -> str:
    return f"\\fB{_text(opt.long)}\\fR"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _text(text: str, keep_escapes: bool = False) -> str:
    """Plain text as roff: backslashes, hyphens, `code`, leading dots and non-ASCII characters escaped."""
    if not keep_escapes:
        text = text.replace("\\", "\\e")
        text = re.sub(r"`([^`]+)`", lambda m: f"\x00B{m.group(1)}\x00R", text)
        text = text.replace("-", "\\-")
        text = text.replace("\x00B", "\\fB").replace("\x00R", "\\fR")
    text = "".join(ch if ord(ch) < 128 else f"\\[u{ord(ch):04X}]" for ch in text)
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text
