"""The checked-in completions and man page are what scripts/gen-docs writes, and the page renders cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from stackshift_cli.config import KEYS
from stackshift_cli.docs.tree import command_tree
from stackshift_cli.errors import ExitCode
from tests.shipping.conftest import ROOT, need

MANPAGE = ROOT / "man" / "stackshift.1"


def plain(roff: str) -> str:
    return re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-")


def man_section(name: str) -> str:
    text = MANPAGE.read_text()
    match = re.search(rf'^\.SH "?{name}"?\n(.*?)(?=^\.SH |\Z)', text, re.M | re.S)
    assert match, f"man/stackshift.1 has no {name} section"
    return plain(match.group(1))


def test_checked_in_completions_and_man_page_match_the_command_tree():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-docs"), "--check"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, (f"generated files are out of date; run `scripts/gen-docs` and commit them.\n"
                                  f"{proc.stdout}{proc.stderr}")


def test_man_page_renders_without_warnings_in_groff():
    need("groff")
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MANPAGE)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_man_page_renders_without_warnings_in_man():
    need("man")
    proc = subprocess.run(["man", "--warnings", "-l", str(MANPAGE)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES",
                    "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^{heading}$", proc.stdout, re.M), heading


def test_man_page_documents_every_command_and_option():
    commands = man_section("COMMANDS") + man_section("GLOBAL OPTIONS")
    for node in command_tree().walk():
        if node.path and not node.is_group:
            assert f"stackshift {node.name}" in commands
        for param in node.options:
            assert all(opt in commands for opt in param.opts), (node.name, param.opts)


def test_man_page_lists_every_exit_code():
    section = man_section("EXIT STATUS")
    for code in ExitCode:
        assert re.search(rf"^\.TP\n{int(code)}\n", section, re.M), code


def test_man_page_lists_every_environment_variable_the_code_reads():
    section = man_section("ENVIRONMENT")
    read = set(re.findall(r"\bSTACKSHIFT_[A-Z_]+\b", "".join(
        p.read_text() for p in (ROOT / "stackshift_cli").rglob("*.py"))))
    read |= {k.env for k in KEYS.values() if k.env} | {"NO_COLOR"}
    missing = sorted(v for v in read if not re.search(rf"^\.TP\n{v}\n", section, re.M))
    assert not missing, f"not in the man page's ENVIRONMENT: {missing}"


def test_man_page_names_the_files_and_shows_verify_wait_in_a_script():
    files = man_section("FILES")
    assert all(p in files for p in ("config.toml", "stackshift.db", "keys/"))
    examples = man_section("EXAMPLES")
    assert "domains create" in examples and "verify example.com --wait" in examples and "case $? in" in examples
