"""`domains list` answered without Typer (cli/quick.py) says exactly what the full CLI says: same stdout, stderr and
exit code for every form of its arguments and environment, and any form it does not read for certain is left to
the full CLI (which gives the usage error)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stackshift_cli.cli.quick import quick_list
from tests.helpers import run_on_pty, stackshift_command

FULL_CLI = "import sys\nfrom stackshift_cli.cli.app import run\nsys.exit(run(sys.argv[1:]))\n"


def both(args: list[str], env: dict[str, str] | None = None) -> tuple[tuple, tuple]:
    """(exit code, stdout, stderr) of the console script (quick path) and of the full CLI, same arguments."""
    full_env = {**os.environ, **(env or {})}
    quick = subprocess.run([*stackshift_command(), *args], capture_output=True, text=True, env=full_env, timeout=60)
    full = subprocess.run([sys.executable, "-c", FULL_CLI, *args], capture_output=True, text=True, env=full_env,
                          timeout=60)
    return (quick.returncode, quick.stdout, quick.stderr), (full.returncode, full.stdout, full.stderr)


@pytest.fixture
def three_domains(local_cli):
    for name in ("example.com", "example.org", "shop.example.net"):
        assert local_cli("domains", "create", name).exit_code == 0


@pytest.mark.parametrize("args, env", [
    (["domains", "list"], {}),
    (["domains", "list", "--json"], {}),
    (["--json", "domains", "list"], {}),
    (["domains", "list", "--status", "pending"], {}),
    (["domains", "list", "--status=verified", "--json"], {}),
    (["--profile", "default", "--backend", "local", "domains", "list"], {}),
    (["--profile=default", "--backend=local", "-q", "--no-color", "--debug", "domains", "list", "--json"], {}),
    (["domains", "list"], {"STACKSHIFT_QUIET": " Yes ", "STACKSHIFT_NO_COLOR": "0", "STACKSHIFT_DEBUG": ""}),
    (["domains", "list"], {"STACKSHIFT_BACKEND": "local", "STACKSHIFT_PROFILE": "default"}),
    # forms the quick path leaves to the full CLI, which must still answer them the same
    (["domains", "list", "--status", "bogus"], {}),
    (["domains", "list", "--status"], {}),
    (["domains", "list", "--status", "pending", "--status", "failed"], {}),
    (["domains", "list", "--help"], {}),
    (["domains", "list", "extra"], {}),
    (["--backend", "nope", "domains", "list"], {}),
    (["--profile", "--json", "domains", "list"], {}),
    (["--profile", "missing", "domains", "list"], {}),
    (["domains", "list"], {"STACKSHIFT_DEBUG": "2"}),
    (["domains", "list"], {"STACKSHIFT_BACKEND": "nope"}),
    (["--version", "domains", "list"], {}),
])
def test_quick_list_answers_as_the_full_cli_does(three_domains, args, env):
    quick, full = both(args, env)
    assert quick == full


def test_quick_list_reads_only_the_forms_it_knows_for_certain(isolated_env, monkeypatch):
    """A form the parser might read otherwise (help, unknown or repeated options, an option value that looks like
    an option, a choice or environment word the parser refuses) is not run: None, nothing printed."""
    for args in (["domains", "list", "-h"], ["domains", "list", "--status", "Pending"], ["domains", "list", "--jsn"],
                 ["--profile", "-q", "domains", "list"], ["--profile", "a", "--profile", "b", "domains", "list"],
                 ["-qq", "domains", "list"], ["domains", "show", "list"], ["domains", "list", "--", "x"],
                 ["list"], ["domains"], ["--backend", "api2", "domains", "list"]):
        assert quick_list(args) is None, args
    monkeypatch.setenv("STACKSHIFT_QUIET", "maybe")
    assert quick_list(["domains", "list"]) is None


def test_quick_list_on_a_terminal_is_the_table_the_full_cli_shows(three_domains):
    code, screen = run_on_pty("domains", "list")
    assert code == 0
    assert "Using the local backend, profile default." in screen
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[1].split()[:2] == ["NAME", "STATUS"] and any("shop.example.net" in line for line in lines)


def test_quick_list_never_imports_typer(three_domains):
    code = ("import sys\nfrom stackshift_cli.cli.quick import quick_list\n"
            "rc = quick_list(['domains', 'list', '--json'])\n"
            "print(rc, 'typer' in sys.modules, 'click' in sys.modules or 'typer._click' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 False False"
