"""Shared fixtures: every test runs with its own data and config directories and a clean environment."""

from __future__ import annotations

import os

import pytest

from tests.api.fixtures import api_server  # noqa: F401  (the `api` backend's loopback server)
from tests.api.server import refused_port
from tests.helpers import Cli

# The backends the `domains` CLI tests run against. Each name must be handled in the `cli` fixture.
BACKENDS = ["local", "api"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Temporary data and config dirs, no colour, a fixed width, DNS on loopback, and no STACKSHIFT_* leaking in."""
    for name in list(os.environ):
        if name.startswith("STACKSHIFT_") or name == "NO_COLOR":
            monkeypatch.delenv(name)
    # DNS stays on this machine: a test that means the DNS lab points this at it, and one that does not gets
    # refused lookups on loopback, never the system's resolver (whatever /etc/resolv.conf names).
    monkeypatch.setenv("STACKSHIFT_NAMESERVERS", f"127.0.0.1:{refused_port()}")
    monkeypatch.setenv("STACKSHIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STACKSHIFT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    return tmp_path


@pytest.fixture(params=BACKENDS)
def backend_name(request) -> str:
    return request.param


@pytest.fixture
def cli(backend_name, request) -> Cli:
    """The CLI on the backend under test; `domains` tests use this so they run on every backend."""
    env = {"STACKSHIFT_BACKEND": backend_name}
    if backend_name == "api":
        env.update(request.getfixturevalue("api_server").env())
    return Cli(env)


@pytest.fixture
def local_cli() -> Cli:
    """The CLI on the local store, for behaviour that only the local store has (key files, SQLite)."""
    return Cli({"STACKSHIFT_BACKEND": "local"})


@pytest.fixture
def data_dir(isolated_env):
    return isolated_env / "data"


@pytest.fixture
def config_dir(isolated_env):
    return isolated_env / "config"
