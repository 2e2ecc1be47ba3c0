"""The lab fixtures for the lab's own tests (the same objects as everywhere: one lab per process)."""

from tests.conftest_dnslab import dnslab, fresh_prop_zone, fresh_zone  # noqa: F401
