"""Completion scripts for bash, zsh and fish, generated from the command tree.

Commands, options and fixed values (`--format`, `--status`, `--backend`, config keys) are written into
the scripts, so TAB costs no process for them. Domain names and ids (NAME|ID) and profiles come from
`stackshift __complete domains|profiles`, which reads only local files (see namecache.py).

What `__complete` prints is untrusted text (it may come from an API's answer, or from an older stackshift
that checked nothing), so each script handles it as data only: never through `compgen -W`, `eval` or any
other expansion, and it offers only words made of SAFE_WORD characters, which are no shell's syntax, so
accepting one puts nothing on the command line that a shell would expand or run.
"""

from __future__ import annotations

from stackshift_cli.docs.tree import CONFIG_KEYS, PROG, Command, Param, command_tree, config_keys

FILES = {"bash": "stackshift.bash", "zsh": "_stackshift", "fish": "stackshift.fish"}
GLOBALS_PASSED_ON = ("--profile", "--backend")  # root options that change where __complete looks
# The characters of a word a script offers from `__complete` (names, ids, profiles), spelt out rather than as
# ranges, whose meaning in a bracket expression depends on the locale. A description may also be empty.
SAFE_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


def script(shell: str, tree: Command | None = None) -> str:
    tree = tree or command_tree()
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](tree)


def _header(shell: str, install: str) -> str:
    from stackshift_cli import __version__

    return (f"# {shell} completion for {PROG} {__version__}.\n"
            f"# Generated from the command tree by scripts/gen-docs (also: `{PROG} completion {shell}`); "
            f"do not edit.\n{install}")


def _fixed_words(param: Param) -> list[str] | None:
    """The values a parameter completes to without asking stackshift, or None when they are dynamic."""
    if param.choices:
        return list(param.choices)
    if param.complete == CONFIG_KEYS:
        return config_keys()
    if param.complete:
        return None
    return []


def _value_options(tree: Command) -> list[tuple[Command, Param]]:
    return [(c, o) for c in tree.walk() for o in c.options if o.takes_value]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- bash


def _sq(text: str) -> str:
    """A POSIX shell single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def _bash_pattern(pattern: str) -> str:
    """A case pattern: the text quoted, each `*` left as a wildcard."""
    return "*".join(_sq(part) if part else "" for part in pattern.split("*")) or "''"


def _bash_case(patterns: list[str], body: str) -> str:
    return f"        {'|'.join(_bash_pattern(p) for p in patterns)}) {body} ;;\n"


def bash(tree: Command) -> str:
    nodes = list(tree.walk())
    skip = ""
    for node, opt in _value_options(tree):
        pats = [f"{node.name}:{o}" for o in opt.opts]
        remember = '; ((i < COMP_CWORD)) && globals+=("$word" "${COMP_WORDS[i]}")' if not node.path and opt.long in GLOBALS_PASSED_ON else ""
        skip += _bash_case(pats, '[[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++))' + remember)
    subcommands = "".join(_bash_case([f"{n.name}:{c.path[-1]}" for c in n.children], 'path="${path:+$path }$word"')
                          for n in nodes if n.is_group)
    values = ""
    for node, opt in _value_options(tree):
        values += _bash_case([f"{node.name}:{o}" for o in opt.opts], _bash_words(opt) + "; return")
    options = "".join(_bash_case([n.name], _bash_compgen([o for p in n.options for o in p.opts])) for n in nodes)
    positionals = ""
    for node in nodes:
        if node.is_group:
            positionals += _bash_case([f"{node.name}:*"], _bash_compgen([c.path[-1] for c in node.children]))
        for index, arg in enumerate(node.arguments):
            positionals += _bash_case([f"{node.name}:{index}"], _bash_words(arg))
    install = ("# Install: copy to ~/.local/share/bash-completion/completions/stackshift (needs the\n"
               "# bash-completion package), or add `source <(stackshift completion bash)` to ~/.bashrc.\n")
    return f"""{_header("bash", install)}
_stackshift_dynamic() {{  # $1: domains or profiles; reads cur and globals of _stackshift
    # Each line is `word<TAB>description`, untrusted: read literally (IFS= read -r), matched against the
    # quoted "$cur" (a literal prefix), and only words of plain characters kept (bash inserts a word as is).
    local line word
    while IFS= read -r line || [[ -n $line ]]; do
        word=${{line%%$'\\t'*}}
        [[ -n $word && $word != *[!{SAFE_WORD}]* && $word == "$cur"* ]] && COMPREPLY+=("$word")
    done < <(command {PROG} "${{globals[@]}}" __complete "$1" "$cur" 2>/dev/null)
}}

_stackshift() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} opt=${{COMP_WORDS[COMP_CWORD-1]}}
    local path="" nargs=0 i word globals=()
    COMPREPLY=()
    # Walk the words before the cursor: the command path, option values to skip, arguments given.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        case "$path:$word" in
{skip}{subcommands}        *:-*) ;;
        *) ((nargs++)) ;;
        esac
    done
    # `--format=json` is split at the `=` by bash: complete the value after it.
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $opt == = ]]; then
        opt=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    case "$path:$opt" in
{values}    esac
    if [[ $cur == -* ]]; then
        case "$path" in
{options}        esac
        return
    fi
    case "$path:$nargs" in
{positionals}    esac
}}

complete -F _stackshift {PROG}
"""


def _bash_compgen(words: list[str]) -> str:
    return f'COMPREPLY=($(compgen -W {_sq(" ".join(words))} -- "$cur"))'


def _bash_words(param: Param) -> str:
    words = _fixed_words(param)
    if words is None:
        return f"_stackshift_dynamic {param.complete}"
    return _bash_compgen(words) if words else ":"


# ---------------------------------------------------------------- zsh


def _zsh_function(node: Command) -> str:
    return "_" + "_".join([PROG, *node.path]).replace("-", "_")


def _zsh_bracket(text: str) -> str:
    return _one_line(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _zsh_message(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


def _zsh_action(param: Param) -> str:
    words = _fixed_words(param)
    if words is None:
        return f"_stackshift_dynamic {param.complete}"
    return "(" + " ".join(words) + ")" if words else " "


def _zsh_option_specs(node: Command) -> list[str]:
    specs = []
    for opt in node.options:
        exclusive = "(- *)" if opt.long in ("--help", "--version") else (
            "(" + " ".join(opt.opts) + ")" if len(opt.opts) > 1 else "")
        repeat = "*" if opt.multiple else ""
        desc = "[" + _zsh_bracket(opt.help) + "]"
        value = f":{_zsh_message(opt.metavar)}:{_zsh_action(opt)}" if opt.metavar is not None else ""
        if len(opt.opts) == 1:
            name = opt.long + ("=" if opt.takes_value else "")
            specs.append(_sq(f"{exclusive}{repeat}{name}{desc}{value}"))
        else:
            names = ",".join(o + (("=" if o.startswith("--") else "+") if opt.takes_value else "") for o in opt.opts)
            specs.append(f"{_sq(exclusive + repeat)}{{{names}}}{_sq(desc + value)}")
    return specs


def zsh(tree: Command) -> str:
    functions = []
    for node in tree.walk():
        specs = _zsh_option_specs(node)
        fn = _zsh_function(node)
        if node.is_group:
            specs += [_sq(f"1: :{fn}_commands"), _sq("*:: :->command")]
            entries = "\n".join(f"        {_sq(c.path[-1] + ':' + _one_line(c.short_help))}" for c in node.children)
            functions.append(f"{fn}_commands() {{\n    local -a commands=(\n{entries}\n    )\n"
                             f"    _describe -t commands command commands\n}}\n")
            dispatch = "".join(f"            {c.path[-1]}) {_zsh_function(c)} && ret=0 ;;\n" for c in node.children)
            remember = ""
            if not node.path:
                remember = "".join(
                    f"        [[ -n ${{opt_args[{o}]}} ]] && _stackshift_globals+=({o} ${{opt_args[{o}]}})\n"
                    for o in GLOBALS_PASSED_ON)
            body = ("    local curcontext=\"$curcontext\" state state_descr line ret=1\n"
                    "    typeset -A opt_args\n"
                    "    _arguments -C -s \\\n        " + " \\\n        ".join(specs) + " && ret=0\n"
                    f"    if [[ $state == command ]]; then\n{remember}"
                    f"        curcontext=\"${{curcontext%:*:*}}:{PROG}-$words[1]:\"\n"
                    f"        case $words[1] in\n{dispatch}        esac\n    fi\n    return ret\n")
            if not node.path:
                body = "    local -a _stackshift_globals  # --profile/--backend, passed on to __complete\n" + body
        else:
            specs += [_sq(f"{i + 1}:{_zsh_message(a.metavar or a.name)}:{_zsh_action(a)}")
                      for i, a in enumerate(node.arguments)]
            body = "    _arguments -s \\\n        " + " \\\n        ".join(specs) + "\n"
        functions.append(f"{fn}() {{\n{body}}}\n")
    install = ("# Install: copy to a directory in $fpath as `_stackshift` (e.g. ~/.zfunc, with fpath+=(~/.zfunc)\n"
               "# before compinit in ~/.zshrc), or add `source <(stackshift completion zsh)` after compinit.\n")
    dynamic = f"""_stackshift_dynamic() {{  # last argument: domains or profiles (_arguments puts options first)
    # Each line is `word<TAB>description`, untrusted: split at newlines inside double quotes (no globbing or
    # other expansion of the text), only words of plain characters kept, and a description only when plain
    # too; compadd matches the words against what was typed and inserts them quoted.
    local kind=${{@[-1]}} line word description
    local -a words
    for line in "${{(@f)$(command {PROG} "${{_stackshift_globals[@]}}" __complete "$kind" "$PREFIX" 2>/dev/null)}}"; do
        word=${{line%%$'\\t'*}}
        [[ -n $word && $word != *[^{SAFE_WORD}]* ]] || continue
        description=${{line#*$'\\t'}}
        [[ $line == *$'\\t'* && $description != *[^{SAFE_WORD}]* ]] || description=
        words+=("$word${{description:+:$description}}")
    done
    _describe -t "$kind" "${{kind%s}}" words
}}
"""
    return (f"#compdef {PROG}\n{_header('zsh', install)}\n{dynamic}\n" + "\n".join(functions) +
            f"""
if [[ $funcstack[1] == _stackshift ]]; then
    _stackshift "$@"
else
    compdef _stackshift {PROG}
fi
""")


# ---------------------------------------------------------------- fish


def _fq(text: str) -> str:
    """A fish single-quoted word."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(tree: Command) -> str:
    nodes = list(tree.walk())
    skip = " ".join(_fq(f"{n.name}:{o}") for n, opt in _value_options(tree) for o in opt.opts)
    subcommands = " ".join(_fq(f"{n.name}:{c.path[-1]}") for n in nodes for c in n.children)
    lines = [f"complete -c {PROG} -f  # never file names"]
    for node in nodes:
        where = f"-n \"__stackshift_at {_sq(node.name + ':*')}\""
        for child in node.children:
            lines.append(f"complete -c {PROG} {where} -a {_fq(child.path[-1])} -d {_fq(_one_line(child.short_help))}")
        for opt in node.options:
            names = " ".join(f"-l {o[2:]}" if o.startswith("--") else f"-s {o[1:]}" for o in opt.opts)
            value = ""
            if opt.takes_value:
                words = _fixed_words(opt)
                value = " -x" + (f" -a {_fq('(__stackshift_dynamic ' + opt.complete + ')')}" if words is None
                                 else f" -a {_fq(' '.join(words))}" if words else "")
            lines.append(f"complete -c {PROG} {where} {names}{value} -d {_fq(_one_line(opt.help))}")
        for index, arg in enumerate(node.arguments):
            words = _fixed_words(arg)
            if words == []:
                continue
            at = f"-n \"__stackshift_at {_sq(f'{node.name}:{index}')}\""
            candidates = f"(__stackshift_dynamic {arg.complete})" if words is None else " ".join(words)
            lines.append(f"complete -c {PROG} {at} -a {_fq(candidates)}")
    install = ("# Install: copy to ~/.config/fish/completions/stackshift.fish, or run\n"
               "# `stackshift completion fish | source` (e.g. in ~/.config/fish/config.fish).\n")
    passed_on = " ".join(GLOBALS_PASSED_ON)
    return f"""{_header("fish", install)}
# Prints PATH:NARGS for the words before the cursor: the command path and how many arguments it has.
function __stackshift_state
    set -l path ''
    set -l nargs 0
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch "$path:$word"
            case {skip}
                set skip 1
            case {subcommands}
                set path (string trim -- "$path $word")
            case '*:-*'
            case '*'
                set nargs (math $nargs + 1)
        end
    end
    echo "$path:$nargs"
end

function __stackshift_at --argument-names pattern
    string match -q -- $pattern (__stackshift_state)
end

function __stackshift_dynamic --argument-names kind
    set -l words (commandline -opc)
    set -l globals
    for i in (seq 2 (math (count $words) - 1))
        if contains -- $words[$i] {passed_on}
            set -a globals $words[$i] $words[(math $i + 1)]
        end
    end
    # Each line is `word<TAB>description`, untrusted: fish expands neither the text of a command
    # substitution nor a variable's value, and only words of plain characters are passed on, with their
    # description when it is plain too.
    for line in (command {PROG} $globals __complete $kind (commandline -ct) 2>/dev/null)
        set -l parts (string split -m 1 \\t -- $line)
        if test -z "$parts[1]"; or string match -qr -- {_fq('[^' + SAFE_WORD + ']')} $parts[1]
            continue
        end
        if set -q parts[2]; and not string match -qr -- {_fq('[^' + SAFE_WORD + ']')} $parts[2]
            printf '%s\\t%s\\n' $parts[1] $parts[2]
        else
            printf '%s\\n' $parts[1]
        end
    end
end

""" + "\n".join(lines) + "\n"
