"""Shared set-up for the shipping tests: the installed `stackshift` on PATH, and the repository root."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed(monkeypatch) -> str:
    """The console script pip installed for this Python, first on PATH (shell scripts call `stackshift`)."""
    scripts = sysconfig.get_path("scripts")
    script = Path(scripts) / "stackshift"
    assert script.exists(), f"{script} is missing: install stackshift first (`pip install -e .`, as scripts/test does)"
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ['PATH']}")
    return str(script)


def need(program: str) -> str:
    """A program scripts/test installs; its absence is a set-up error, not a reason to skip."""
    path = shutil.which(program)
    assert path, f"{program} is not installed; scripts/test installs it (apt-get)"
    return path
