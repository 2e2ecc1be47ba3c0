"""The status vocabulary of domains and records (product documentation vocabulary; do not rename).

Its own module, without the domain model, so that a command's options (`domains list --status`) are declared without
importing domain.py; domain.py re-exports every name.
"""

# Domain status.
PENDING = "pending"
VERIFIED = "verified"
FAILED = "failed"
DISABLED = "disabled"
# Record and check status.
MISSING = "missing"

DOMAIN_STATUSES = (PENDING, VERIFIED, FAILED, DISABLED)
RECORD_STATUSES = (MISSING, PENDING, VERIFIED, FAILED)
