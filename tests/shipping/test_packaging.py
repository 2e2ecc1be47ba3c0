"""`python -m build` makes an sdist and a wheel that install offline into a fresh venv and work there."""

from __future__ import annotations

import os
import shutil
import subprocess
import site
import sys
import tarfile
from pathlib import Path

import pytest

from stackshift_cli import __version__
from tests.shipping.conftest import ROOT

DATA_FILES = [
    "share/man/man1/stackshift.1",
    "share/bash-completion/completions/stackshift",
    "share/zsh/site-functions/_stackshift",
    "share/fish/vendor_completions.d/stackshift.fish",
]
_SKIP_TOP = {".git", ".venv", "build", "dist", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "tests"}


def run(*cmd: str | Path, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=180, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """An sdist and a wheel built offline from a copy of the source tree (the checkout stays clean)."""
    base = tmp_path_factory.mktemp("build")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=lambda d, names: [
        n for n in names if (Path(d) == ROOT and n in _SKIP_TOP) or n == "__pycache__" or n.endswith(".egg-info")])
    out = base / "dist"
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", out, source)
    return out


def test_the_sdist_carries_the_generated_files(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"man/stackshift.1", "completions/_stackshift", "completions/stackshift.fish",
            "completions/bash-completion/stackshift", "README.md"} <= names


def _see_the_running_dependencies(python) -> None:
    """When the suite runs in a virtualenv (scripts/test's .venv, or the user's), --system-site-packages gives the
    new venv the base interpreter's packages, not this one's, and Typer & co. would be missing: point it at this
    interpreter's site-packages too. They are plain path entries, so the .pth files there (an editable install of
    this checkout) do not run, and the wheel in the new venv comes first."""
    if sys.prefix == sys.base_prefix:
        return
    target = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(target, "_running_suite_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")


def test_the_wheel_installs_offline_and_works_in_a_fresh_venv(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"stackshift_cli-{__version__}-py3-none-any.whl"
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    python = venv / "bin" / "python"
    _see_the_running_dependencies(python)
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", "--quiet",
        "--disable-pip-version-check", wheel)
    stackshift = venv / "bin" / "stackshift"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STACKSHIFT_")},
           "STACKSHIFT_DATA_DIR": str(tmp_path / "data"), "STACKSHIFT_CONFIG_DIR": str(tmp_path / "config"),
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    where = run(python, "-c", "import stackshift_cli; print(stackshift_cli.__file__)", env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), "the venv imports stackshift from outside itself"
    assert run(stackshift, "--version", env=env).stdout == f"stackshift {__version__}\n"
    created = run(stackshift, "domains", "create", "example.com", env=env, cwd=tmp_path)
    assert "v=spf1 include:spf.stackshift.email ~all" in created.stdout
    assert (tmp_path / "data" / "stackshift.db").exists()
    assert run(stackshift, "__complete", "domains", env=env).stdout.startswith("example.com\t")
    bash = run(stackshift, "completion", "bash", env=env).stdout
    assert bash == (venv / DATA_FILES[1]).read_text() == (ROOT / "completions" / "stackshift.bash").read_text()
    for rel in DATA_FILES:
        assert (venv / rel).is_file(), rel
    assert (venv / DATA_FILES[0]).read_text() == (ROOT / "man" / "stackshift.1").read_text()
