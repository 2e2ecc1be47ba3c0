"""Each generated completion script, run in its real shell, completes commands, options and domain names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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


def bash_complete(line: str) -> list[str]:
    """bash's words for `line` (completing its last word): the script sourced, _stackshift called."""
    need("bash")
    program = ('source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); '
               'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$2; COMP_POINT=${#2}; _stackshift; '
               'printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program, "bash", str(COMPLETIONS / FILES["bash"]),
                           line], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def zsh_complete(line: str) -> list[str]:
    """zsh's words for `line`: an interactive zsh on a pty with compinit presses TAB (capture.zsh)."""
    need("zsh")
    capture = ROOT / "tests" / "shipping" / "capture.zsh"
    proc = subprocess.run(["zsh", "-f", str(capture), str(COMPLETIONS), line], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def fish_complete(line: str) -> list[str]:
    """fish's words for `line`: `complete -C` after sourcing the script."""
    need("fish")
    proc = subprocess.run(["fish", "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]',
                           str(COMPLETIONS / FILES["fish"]), line], capture_output=True, text=True, timeout=30)
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
    assert set(complete("stackshift domains ")) == {"create", "records", "list", "show", "verify", "delete"}
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

    namecache.remember_api_domains("default", "https://api.example", [_Domain("old.example", "dom_1", "pending")])
    path = namecache.api_cache_file("default")
    data = json.loads(path.read_text())
    assert namecache.cached_api_domains("default", "https://api.example") == [("old.example", "dom_1", "pending")]
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
