"""The lint rule that keeps start-up light (ruff TID253, configured in pyproject.toml) bans what the README says.

Each case is a snippet checked as if it were a file of the package (ruff --stdin-filename), so the per-file
exceptions apply as they do to the real files: Typer is allowed in the CLI glue, dnspython in verify/lookup.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.shipping.conftest import ROOT

HEAVY = ["typer", "rich", "rich.table", "dns.resolver", "httpx", "cryptography.hazmat.primitives", "lexicon"]


def findings(source: str, filename: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "--stdin-filename", filename, "-"], input=source, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


@pytest.mark.parametrize("module", HEAVY)
def test_a_heavy_module_imported_at_the_top_of_a_module_is_a_finding(module):
    for statement in (f"import {module}\n", f"from {module} import thing\n"):
        out = findings(statement + "print(thing if 0 else 1)\n" if "from" in statement else statement,
                       "stackshift_cli/some_module.py")
        assert "TID253" in out, (statement, out)


@pytest.mark.parametrize("module", HEAVY)
def test_a_heavy_module_imported_where_it_is_used_is_allowed(module):
    source = f"def use():\n    import {module}\n\n    return {module}\n"
    assert "TID253" not in findings(source, "stackshift_cli/some_module.py")


@pytest.mark.parametrize("module", HEAVY)
def test_a_heavy_module_imported_for_type_checking_only_is_allowed(module):
    source = f"from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import {module}\n\n\ndef f(x: '{module}'):\n    return x\n"
    assert "TID253" not in findings(source, "stackshift_cli/some_module.py")


def test_typer_is_allowed_at_the_top_of_the_cli_glue_and_nowhere_else():
    assert "TID253" not in findings("import typer\n\napp = typer.Typer()\n", "stackshift_cli/cli/new_group.py")
    assert "TID253" in findings("import typer\n\napp = typer.Typer()\n", "stackshift_cli/services.py")
    assert "TID253" in findings("import httpx\n\nx = httpx\n", "stackshift_cli/cli/new_group.py")


def test_the_package_as_it_is_has_no_findings():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "stackshift_cli"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
