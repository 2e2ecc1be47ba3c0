"""Fixtures for the API backend tests: the loopback server and a CLI pointed at it."""

from __future__ import annotations

import pytest

from tests.helpers import Cli


@pytest.fixture
def api_cli(api_server) -> Cli:
    return Cli(api_server.env())
