"""The `api_server` fixture: a StackShift API on loopback for one test (imported by tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

from tests.api.server import ApiServer, refused_port


@pytest.fixture
def api_server(tmp_path, monkeypatch):
    """A fresh server with its own store; the client's DNS goes to loopback unless a test points it elsewhere."""
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    if not os.environ.get("STACKSHIFT_NAMESERVERS"):
        monkeypatch.setenv("STACKSHIFT_NAMESERVERS", f"127.0.0.1:{refused_port()}")
    server = ApiServer(tmp_path / "api-server").start()
    yield server
    server.stop()
