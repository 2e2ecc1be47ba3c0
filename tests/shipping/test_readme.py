"""The README documents every command and option, and its scripting recipes run as written."""

from __future__ import annotations

import os
import re
import subprocess

from stackshift_cli.docs.tree import command_tree
from tests.shipping.conftest import ROOT, need
from tests.shipping.nxdomain import NxdomainServer

README = (ROOT / "README.md").read_text()
MANPAGE = (ROOT / "man" / "stackshift.1").read_text().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")


def section(markdown: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README.md has no '## {heading}' section"
    return match.group(1)


def scripting_examples() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", section(README, "Scripting"), re.M | re.S)


def test_every_command_appears_in_the_readme():
    missing = [node.name for node in command_tree().walk() if node.path and f"stackshift {node.name}" not in README
               and not _in_table(node.path)]
    assert not missing, f"commands missing from README.md: {missing}"


def _in_table(path: tuple[str, ...]) -> bool:
    """`config unset KEY` is written after `config set …` in the commands table; a group needs no row."""
    return f"`{' '.join(path)} " in README or any(f"stackshift {' '.join(path)}" in line for line in README.splitlines())


def test_every_option_appears_in_the_readme_or_the_man_page():
    missing = [f"{node.name or 'stackshift'} {opt}" for node in command_tree().walk()
               for param in node.options for opt in param.opts
               if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", README + MANPAGE)]
    assert not missing, f"options missing from README.md and man/stackshift.1: {missing}"


def test_every_config_key_and_its_environment_variable_is_in_the_readme():
    from stackshift_cli.config import KEYS

    missing = [k.name for k in KEYS.values() if f"`{k.name}`" not in README]
    missing += [k.env for k in KEYS.values() if k.env and f"`{k.env}`" not in README]
    assert missing == []


def test_the_scripting_section_has_recipes():
    assert len(scripting_examples()) >= 4


def test_scripting_recipes_run_as_written_against_the_local_store(installed, isolated_env):
    """Each ```sh block, in order, in one temp dir and store; `verify` asks a loopback NXDOMAIN server."""
    need("jq")
    workdir = isolated_env / "work"
    workdir.mkdir()
    with NxdomainServer() as dns:
        env = {**os.environ, "STACKSHIFT_BACKEND": "local", "STACKSHIFT_NAMESERVERS": dns.address,
               "STACKSHIFT_DNS_AUTHORITATIVE_PORT": str(dns.port), "VERIFY_TIMEOUT": "2s"}
        for example in scripting_examples():
            proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", example], cwd=workdir, env=env,
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, f"exit {proc.returncode} from:\n{example}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            assert proc.stdout.strip(), f"no output from:\n{example}\nstderr:\n{proc.stderr}"
    report = (workdir / "report.json").read_text()
    assert "example.org" in report
