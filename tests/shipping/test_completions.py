"""Each generated completion script, run in its real shell, completes commands, options and domain names."""

from __future__ import annotations

import json
import os
import sqlite3
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from stackshift_cli.docs.completions import FILES
from tests.helpers import Cli
from tests.shipping.conftest import ROOT, need

COMPLETIONS = ROOT / "completions"
DOMAINS = ["example.com", "zeta.example.org"]


@pytest.fixture
def store(installed, local_cli: Cli) -> dict[str, str]:
    """Two domains in the test's local store; name -> id."""
    ids = {}
    for name in DOMAINS:
        result = local_cli("domains", "create", name, "--json")
        assert result.exit_code == 0, result.stderr
        ids[name] = result.json()["id"]
    return ids


def bash_complete(line: str, cwd: Path | None = None) -> list[str]:
    """bash's words for `line` (completing its last word): the script sourced, _stackshift called."""
    need("bash")
    program = ('source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); '
               'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$2; COMP_POINT=${#2}; _stackshift; '
               'printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program, "bash", str(COMPLETIONS / FILES["bash"]),
                           line], capture_output=True, text=True, timeout=30, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def zsh_complete(line: str, cwd: Path | None = None) -> list[str]:
    """zsh's words for `line`: an interactive zsh on a pty with compinit presses TAB (capture.zsh)."""
    need("zsh")
    capture = ROOT / "tests" / "shipping" / "capture.zsh"
    proc = subprocess.run(["zsh", "-f", str(capture), str(COMPLETIONS), line], capture_output=True, text=True,
                          timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def fish_complete(line: str, cwd: Path | None = None) -> list[str]:
    """fish's words for `line`: `complete -C` after sourcing the script."""
    need("fish")
    proc = subprocess.run(["fish", "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]',
                           str(COMPLETIONS / FILES["fish"]), line], capture_output=True, text=True, timeout=30,
                          cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [w.split("\t")[0] for w in proc.stdout.splitlines() if w]


SHELLS = {"bash": bash_complete, "zsh": zsh_complete, "fish": fish_complete}


@pytest.fixture(params=list(SHELLS))
def complete(request, installed):
    return SHELLS[request.param]


def test_a_command_completes_from_its_prefix(complete):
    assert complete("stackshift do") == ["domains"]


def test_domain_names_complete_from_the_local_store(complete, store):
    assert sorted(complete("stackshift domains verify ")) == DOMAINS


def test_domain_ids_complete_once_dom_is_typed(complete, store):
    assert sorted(complete("stackshift domains show dom_")) == sorted(store.values())


def test_subcommands_and_options_complete(complete):
    assert set(complete("stackshift domains ")) == {"create", "records", "list", "show", "verify", "publish",
                                                                "unpublish", "delete", "rotate-dkim", "dkim-export",
                                                                "history", "watch"}
    assert "--wait" in complete("stackshift domains verify --w")


@pytest.mark.parametrize(("line", "words"), [
    ("stackshift domains records example.com --format ", ["csv", "json", "plain", "table", "zone"]),
    ("stackshift domains list --status ", ["disabled", "failed", "pending", "verified"]),
    ("stackshift --backend ", ["api", "local"]),
    ("stackshift config get dns.", ["dns.authoritative_port", "dns.nameservers", "dns.timeout"]),
    ("stackshift completion ", ["bash", "fish", "zsh"]),
])
def test_fixed_values_complete(complete, line, words):
    assert sorted(complete(line)) == words


def test_profiles_complete_from_the_config_file(complete, local_cli):
    assert local_cli("--profile", "work", "config", "set", "dns.timeout", "5s").exit_code == 0
    assert sorted(complete("stackshift --profile ")) == ["default", "work"]


def test_a_free_value_completes_to_nothing(complete, store):
    assert complete("stackshift domains verify --timeout ") == []


def test_on_the_api_backend_names_come_from_the_cache_of_the_last_list(installed, api_server, monkeypatch):
    """After `domains list` on the API, TAB offers its names with the server gone: no request per TAB."""
    for name, value in api_server.env().items():
        monkeypatch.setenv(name, value)
    api = Cli()
    assert api("domains", "create", "api.example", "--json").exit_code == 0
    assert bash_complete("stackshift domains show ") == []  # nothing listed yet: no cache, and no request
    assert api("domains", "list").exit_code == 0
    api_server.stop()
    assert bash_complete("stackshift domains show ") == ["api.example"]
    assert fish_complete("stackshift --backend local domains show ") == []  # the local store is empty


def test_an_old_api_cache_is_ignored(installed):
    from stackshift_cli import namecache

    old = ("old.example", "dom_0123456789abcdef", "pending")
    namecache.remember_api_domains("default", "https://api.example", [_Domain(*old)])
    path = namecache.api_cache_file("default")
    data = json.loads(path.read_text())
    assert namecache.cached_api_domains("default", "https://api.example") == [old]
    assert namecache.cached_api_domains("default", "https://other.example") == []
    assert namecache.cached_api_domains("default", "https://api.example",
                                        now=data["savedAt"] + namecache.CACHE_TTL_S + 1) == []


class _Domain:
    def __init__(self, name: str, id_: str, status: str) -> None:
        self.name, self.id, self.status = name, id_, status


def test_the_completion_command_imports_nothing_heavy(installed, store):
    """TAB runs `stackshift __complete`: no crypto, DNS, HTTP, Rich tables or pydantic on that path."""
    program = ("import sys\nfrom stackshift_cli.cli.app import run\n"
               "code = run(['__complete', 'domains', ''])\n"
               "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\nsys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(line.split("\t")[0] for line in proc.stdout.splitlines()) == DOMAINS
    heavy = [m for m in proc.stderr.splitlines()
             if m.split(".")[0] in {"cryptography", "dns", "httpx", "pydantic", "idna", "publicsuffixlist"}
             or m == "rich.table" or m.startswith("stackshift_cli.verify") or m == "stackshift_cli.keys"]
    assert heavy == []


def test_the_console_script_answers_tab_before_loading_typer(installed, store):
    """The console script's entry answers `__complete` itself: no Typer, no command tree, on every TAB."""
    program = ("import sys\nsys.argv = ['stackshift', '--profile', 'default', '--backend', 'local', '__complete',"
               " 'domains', '']\nfrom stackshift_cli.cli import main\nmain()\n"
               "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(line.split("\t")[0] for line in proc.stdout.splitlines()) == DOMAINS
    loaded = proc.stderr.splitlines()
    assert "typer" not in loaded and "rich" not in loaded and "stackshift_cli.cli.app" not in loaded


def test_tab_on_a_domain_argument_is_fast(installed, store):
    """One TAB costs one start of stackshift; a loose bound that catches a slow network call or import."""
    env = {**os.environ}
    started = time.perf_counter()
    for _ in range(3):
        proc = subprocess.run([installed, "__complete", "domains", ""], capture_output=True, text=True, env=env,
                              timeout=30)
        assert proc.returncode == 0 and proc.stdout
    assert (time.perf_counter() - started) / 3 < 1.5


@pytest.mark.parametrize("shell", list(FILES))
def test_the_completion_command_prints_the_checked_in_script(installed, shell):
    proc = subprocess.run([installed, "completion", shell], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (COMPLETIONS / FILES[shell]).read_text()


# ---------------------------------------------------------------- hostile names: TAB never executes anything
#
# A hostile API (or a tampered store) can hand completion any text. Each name below would, if a shell
# expanded it, run `touch MARKER…` in the working directory, glob or brace-expand there, or split into
# other words; the others are not what stackshift stores (not canonical, not an A-label). None is offered.

HOSTILE_NAMES = [
    "$(touch MARKER1)", "`touch MARKER2`", ";touch MARKER3;", "*", "?", "{a,b}", "[ab]", "~", "$HOME", "-rf",
    "e$(touch MARKER4).example", "ex`touch MARKER5`.example", "example.com;touch MARKER6",
    "example.com|touch MARKER7", "example.com&&touch MARKER8", "ex>MARKER9.example", "\\$(touch MARKER10)",
    "e*", "e?", "ex{a,b}.example", "ex[ab].example", "ex ample.example", "ex\nample.example", "ex\tample.example",
    "ex'ample.example", 'ex"ample.example', "ex\\ample.example", "ex\x1b[31m.example", "example.com\x00",
    "Example.net", "example.net.", " example.net", "bücher.example", "xn--zz.example", "ex_ample.example", "",
]
# Ids stackshift never makes (it makes dom_ and 16 lowercase hex digits), each beside a valid name: the
# whole row goes, so neither the id nor the name is offered.
HOSTILE_IDS = [
    "dom_$(touch MARKER11)", "dom_`touch MARKER12`", "dom_;touch MARKER13;", "dom_*", "dom_?", "dom_{a,b}",
    "dom_0123456789abcdef\n$(touch MARKER14)", "dom_0123456789abcdef\tx", "dom_0123456789ABCDEF",
    "dom_0123456789abcde", "dom_0123456789abcdef0", "dom_01234567 9abcdef", "DOM_0123456789abcdef",
    "dom_0123456789abcdef.example", "dom_", "0123456789abcdef",
]
HOSTILE_ROWS = ([(name, f"dom_{i:016x}", "pending") for i, name in enumerate(HOSTILE_NAMES, 1)] +
                [(f"id{i}.example", id_, "pending") for i, id_ in enumerate(HOSTILE_IDS, 1)])
# A valid name and id whose status would inject a line (a word of its own) into `__complete`'s output.
STATUS_ROW = ("status.example", "dom_5555555555555555", "pending\n$(touch MARKER15)\tx")
LEGIT_NAMES = ["example.com", "status.example", "xn--bcher-kva.example", "zeta.example.org"]
API_IDS = {"example.com": "dom_0123456789abcdef", "xn--bcher-kva.example": "dom_fedcba9876543210",
           "zeta.example.org": "dom_00000000000000ff", "status.example": STATUS_ROW[1]}
CWD_FILES = ["a", "aaa.txt", "b", "ex-file", "example.zzz"]  # what `*`, `?`, `{a,b}` or `e*` would turn into


@pytest.fixture
def hostile_cwd(tmp_path) -> Path:
    """The shell's working directory: files that globbing would show, and where `touch MARKER` would land."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in CWD_FILES:
        (cwd / name).write_text("")
    return cwd


class Source(NamedTuple):
    options: list[str]  # the global options that select the source
    line: str  # the command line up to the domain argument
    ids: dict[str, str]  # the legitimate names -> their ids
    status: str  # the status of each legitimate name (but status.example's)


@pytest.fixture(params=["local", "api"])
def hostile_source(request, installed, local_cli) -> Source:
    """The legitimate names among hostile ones, in the local store or in a fresh API cache."""
    from stackshift_cli import namecache
    from stackshift_cli.backends.local import DB_NAME
    from stackshift_cli.config import DEFAULT_API_URL, data_dir

    rows = [*HOSTILE_ROWS, STATUS_ROW]
    if request.param == "api":
        path = namecache.api_cache_file("default")
        path.parent.mkdir(parents=True)
        entries = [[n, API_IDS[n], "verified"] for n in LEGIT_NAMES if n != "status.example"] + [list(r) for r in rows]
        path.write_text(json.dumps({"apiUrl": DEFAULT_API_URL, "savedAt": time.time(), "domains": entries}))
        return Source(["--backend", "api"], "stackshift --backend api domains show ", API_IDS, "verified")
    ids = {}
    for name in ("example.com", "bücher.example", "zeta.example.org"):
        result = local_cli("domains", "create", name, "--json")
        assert result.exit_code == 0, result.stderr
        ids[result.json()["name"]] = result.json()["id"]
    conn = sqlite3.connect(data_dir() / DB_NAME)
    with conn:
        conn.executemany("INSERT INTO domains (id, name, status, dkim_selector, inbound, key_file, created_at)"
                         " VALUES (?, ?, ?, 'stackshift', 0, 'none.pem', '2026-01-01T00:00:00Z')",
                         [(id_, name, status) for name, id_, status in rows])
    conn.close()
    return Source([], "stackshift domains show ", {**ids, STATUS_ROW[0]: STATUS_ROW[1]}, "pending")


@pytest.mark.parametrize(("typed", "expect"), [
    ("", LEGIT_NAMES),
    ("e", ["example.com"]),
    ("ex", ["example.com"]),
    ("x", ["xn--bcher-kva.example"]),
    ("dom_", "the ids"),
], ids=["all", "e", "ex", "idn", "ids"])
def test_tab_offers_only_valid_names_and_ids_and_runs_nothing(complete, hostile_source, hostile_cwd, typed, expect):
    assert sorted(hostile_source.ids) == LEGIT_NAMES  # the fixture holds every legitimate name
    words = complete(hostile_source.line + typed, cwd=hostile_cwd)
    assert sorted(os.listdir(hostile_cwd)) == CWD_FILES  # nothing touched, nothing created
    assert sorted(words) == (sorted(hostile_source.ids.values()) if expect == "the ids" else expect)


def test_complete_prints_only_valid_words_and_plain_descriptions(installed, hostile_source, hostile_cwd):
    """`__complete` itself: one `word<TAB>description` line per valid domain; a hostile status is dropped."""
    names, ids = (subprocess.run([installed, *hostile_source.options, "__complete", "domains", typed],
                                 capture_output=True, text=True, timeout=30, cwd=hostile_cwd) for typed in ("", "dom_"))
    assert names.returncode == ids.returncode == 0, names.stderr + ids.stderr
    assert sorted(names.stdout.splitlines()) == sorted(
        f"{name}\t{'' if name == 'status.example' else hostile_source.status}" for name in LEGIT_NAMES)
    assert sorted(ids.stdout.splitlines()) == sorted(f"{id_}\t{name}" for name, id_ in hostile_source.ids.items())
    assert sorted(os.listdir(hostile_cwd)) == CWD_FILES


def test_hostile_profiles_in_the_config_file_are_not_offered(complete, hostile_cwd, config_dir):
    """Profile names come from the config file; only those a profile may be called are offered."""
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[profiles.work]\ndns.timeout = "5s"\n'
        '[profiles."$(touch MARKER1)"]\n[profiles."`touch MARKER2`"]\n[profiles."*"]\n[profiles."{a,b}"]\n'
        '[profiles."w;touch MARKER3"]\n[profiles."wo rk"]\n[profiles."w\\nork"]\n[profiles."w\\tork"]\n')
    assert sorted(complete("stackshift --profile ", cwd=hostile_cwd)) == ["default", "work"]
    assert sorted(os.listdir(hostile_cwd)) == CWD_FILES


def test_the_api_cache_keeps_only_valid_names_and_ids(installed):
    """What a hostile listing returned never reaches the cache file: rows with an invalid name or id are left out."""
    from stackshift_cli import namecache

    legit = [_Domain(name, API_IDS[name], "verified") for name in LEGIT_NAMES if name != "status.example"]
    hostile = [_Domain(*row) for row in HOSTILE_ROWS]
    namecache.remember_api_domains("default", "https://api.example", [*hostile, *legit, _Domain(*STATUS_ROW)])
    saved = json.loads(namecache.api_cache_file("default").read_text())["domains"]
    assert saved == [[d.name, d.id, d.status] for d in legit] + [[*STATUS_ROW[:2], ""]]


@pytest.fixture
def unchecked_stackshift(installed, tmp_path, monkeypatch) -> None:
    """A `stackshift` first on PATH that answers `__complete` with hostile lines, as one that checks nothing
    (an older or a broken stackshift beside a newer script) would: the scripts must not trust their input."""
    plain = set(string.ascii_letters + string.digits + "._-")  # no shell gives these a meaning mid-word
    unsafe = [n for n in HOSTILE_NAMES if set(n) - plain and not set(n) & set("\n\t\x00")]
    assert len(unsafe) >= 25
    lines = [f"{name}\tpending" for name in unsafe]
    lines += [f"{name}\t$(touch MARKER20)" for name in LEGIT_NAMES] + ["\t$(touch MARKER21)", ""]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "words").write_text("\n".join(lines) + "\n")
    stand_in = bin_dir / "stackshift"
    stand_in.write_text('#!/bin/sh\nexec cat "$(dirname "$0")/words"\n')
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize(("typed", "expect"), [
    ("", LEGIT_NAMES),
    ("e", ["example.com"]),
    ("x", ["xn--bcher-kva.example"]),
], ids=["all", "e", "idn"])
def test_the_scripts_offer_only_plain_words_whatever_complete_prints(complete, unchecked_stackshift, hostile_cwd,
                                                                     typed, expect):
    assert sorted(complete("stackshift domains show " + typed, cwd=hostile_cwd)) == expect
    assert sorted(os.listdir(hostile_cwd)) == CWD_FILES
