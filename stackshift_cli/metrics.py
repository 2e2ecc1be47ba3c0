"""`domains watch --prometheus FILE`: the domains' state for node_exporter's textfile collector.

`textfile()` is pure: it turns domains into the Prometheus text exposition format (version 0.0.4), every family a
gauge with its `# HELP` and `# TYPE` lines, families in a fixed order and samples sorted by domain name, then
record purpose:

    stackshift_domain_status{domain,status}                       1 for the domain's status, 0 for the others
    stackshift_record_status{domain,purpose,status}               1 for the purpose's status, 0 for the others
    stackshift_domain_last_checked_timestamp_seconds{domain}      left out for a domain never checked
    stackshift_domain_verified_since_timestamp_seconds{domain}    left out for a domain that is not verified
    stackshift_watch_round_duration_seconds                       how long the round that wrote the file took

Statuses are "enum as labels": each domain has one series per status of the vocabulary (pending, verified, failed,
disabled), 1 for the status it has and 0 for the others, and each of its record purposes one series per record
status (missing, pending, verified, failed). Series never appear or vanish as a status changes, so
`stackshift_domain_status{status="failed"} == 1` alerts on exactly the failed domains, a recovered domain resolves
the alert with a 0 rather than with a missing series (which PromQL cannot tell from a domain that stopped being
watched), and `sum by (status) (stackshift_domain_status)` counts domains per status. A status outside the
vocabulary (the API may send one stackshift does not know) gets no series of its own: all of that domain's or
purpose's series are 0, which `sum by (domain) (stackshift_domain_status) == 0` finds; an arbitrary label value from
the API would make a new series each time it changed.

A purpose with several records (two DKIM records during a key rotation) has the worst status among its required
records, or among all of them when none is required (the optional inbound MX): failed, then a status outside the
vocabulary, then missing, then pending, then verified. A purpose is listed only for the domains that have a record
of it. A record without a purpose (from the API) counts under the purpose its check claims it for
(checks.kind_of), and is left out when no check claims it.

Times are Unix seconds (UTC; a naive datetime is taken as UTC, as domain.parse_time does). Samples carry no
timestamps (the textfile collector refuses them): the file says when it was written in its first line, a comment.
Label values are escaped as the format requires (backslash, double quote and line feed), and made valid UTF-8 (a
lone surrogate becomes the text `\\udc96`), so no name from the store or the API can break the file. When two
domains have the same name (one named twice on the command line, by name and by id), the one checked last is kept:
a repeated series would make node_exporter fail the whole scrape.

`write_textfile()` replaces the file atomically, as the textfile collector's documentation requires: the text is
written to a temporary file in the same directory whose name does not end in `.prom` (the collector reads only
`*.prom`), flushed and fsynced, made 0644 (node_exporter runs as another user; the file holds no secret) and renamed
onto the file, so node_exporter reads either the previous file or the new one, never a part of one.
"""

from __future__ import annotations

import errno
import math
import os
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from stackshift_cli.errors import StackshiftError, UsageError
from stackshift_cli.statuses import DOMAIN_STATUSES, FAILED, MISSING, PENDING, RECORD_STATUSES, VERIFIED

if TYPE_CHECKING:
    from stackshift_cli.domain import DnsRecord, Domain

DOMAIN_STATUS = "stackshift_domain_status"
RECORD_STATUS = "stackshift_record_status"
LAST_CHECKED = "stackshift_domain_last_checked_timestamp_seconds"
VERIFIED_SINCE = "stackshift_domain_verified_since_timestamp_seconds"
ROUND_DURATION = "stackshift_watch_round_duration_seconds"

# Every family, in the order of the file, with its HELP text (all are gauges).
FAMILIES: dict[str, str] = {
    DOMAIN_STATUS: "Sender domain status: 1 for the status the domain has (pending, verified, failed, disabled), "
                   "0 for the others.",
    RECORD_STATUS: "Status of the domain's records of one purpose, the worst of its required records: 1 for that "
                   "status (missing, pending, verified, failed), 0 for the others.",
    LAST_CHECKED: "When the domain's DNS records were last checked, in Unix seconds.",
    VERIFIED_SINCE: "When the domain last became verified, in Unix seconds (only for a verified domain).",
    ROUND_DURATION: "How long the last round of stackshift domains watch took, in seconds.",
}

SUFFIX = ".prom"  # the textfile collector reads only these files
FILE_MODE = 0o644

# Lower is worse (purpose_statuses); a status outside the vocabulary ranks between failed and missing.
_RANK = {FAILED: 0, MISSING: 2, PENDING: 3, VERIFIED: 4}
_UNKNOWN_RANK = 1


def textfile(domains: Iterable[Domain], *, round_seconds: float, now: datetime | None = None) -> str:
    """The exposition text for `domains` (see the module's docstring); `now` goes into the header comment."""
    kept: dict[str, Domain] = {}
    for domain in domains:
        other = kept.get(domain.name)
        if other is None or _checked_key(domain) >= _checked_key(other):
            kept[domain.name] = domain
    ordered = [kept[name] for name in sorted(kept)]
    when = datetime.fromtimestamp(_timestamp(now) if now is not None else time.time(), timezone.utc)
    samples: dict[str, list[str]] = {name: [] for name in FAMILIES}
    for domain in ordered:
        name = _label(domain.name)
        for status in DOMAIN_STATUSES:
            samples[DOMAIN_STATUS].append(
                f'{DOMAIN_STATUS}{{domain="{name}",status="{status}"}} {int(domain.status == status)}')
        for purpose, status in sorted(purpose_statuses(domain.records).items()):
            label = _label(purpose)
            for known in RECORD_STATUSES:
                samples[RECORD_STATUS].append(
                    f'{RECORD_STATUS}{{domain="{name}",purpose="{label}",status="{known}"}} {int(status == known)}')
        if domain.last_checked_at is not None:
            samples[LAST_CHECKED].append(f'{LAST_CHECKED}{{domain="{name}"}} {_seconds(domain.last_checked_at)}')
        if domain.status == VERIFIED and domain.verified_since is not None:
            samples[VERIFIED_SINCE].append(f'{VERIFIED_SINCE}{{domain="{name}"}} {_seconds(domain.verified_since)}')
    samples[ROUND_DURATION].append(f"{ROUND_DURATION} {_number(round_seconds)}")
    lines = [f"# Written by stackshift domains watch at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}."]
    for family, help_text in FAMILIES.items():
        lines.append(f"# HELP {family} {_help(help_text)}")
        lines.append(f"# TYPE {family} gauge")
        lines.extend(samples[family])
    return "\n".join(lines) + "\n"


def purpose_statuses(records: Iterable[DnsRecord]) -> dict[str, str]:
    """Each record purpose of a domain with its status: the worst of its required records, else of all."""
    from stackshift_cli.checks import kind_of

    by_purpose: dict[str, list[DnsRecord]] = {}
    for record in records:
        kind = kind_of(record)
        purpose = kind.purpose if kind is not None else record.purpose
        if purpose:
            by_purpose.setdefault(purpose, []).append(record)
    result = {}
    for purpose, group in by_purpose.items():
        counted = [r for r in group if r.required] or group
        result[purpose] = min((r.status for r in counted), key=_rank)
    return result


def check_path(path: Path) -> None:
    """Refuse a path the textfile collector would never read (UsageError, exit 2): call it before the first round."""
    from stackshift_cli.escape import visible

    if not path.name.endswith(SUFFIX):
        raise UsageError(f"{visible(str(path))} does not end in {SUFFIX}; node_exporter's textfile collector reads "
                         f"only *{SUFFIX} files: give a file name such as stackshift{SUFFIX}.")
    if path.is_dir():
        raise UsageError(f"{visible(str(path))} is a directory; give the file to write in it, such as "
                         f"{visible(str(path / ('stackshift' + SUFFIX)))}.")


def write_textfile(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically, mode 0644 (see the module's docstring).

    Raises UsageError for a path that is a directory or does not end in .prom, and StackshiftError (one line,
    naming the file and what to do) when it cannot be written; a failed write leaves no temporary file behind.
    """
    check_path(path)
    data = text.encode("utf-8")
    directory = path.parent
    tmp: str | None = None
    try:
        # A name of its own for each writer (mkstemp: O_EXCL, a random part), hidden and not *.prom.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), FILE_MODE)  # mkstemp made it 0600; node_exporter reads it as another user
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise StackshiftError(_write_error(path, exc)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    _sync_directory(directory)


# ---------------------------------------------------------------- helpers


def _rank(status: str) -> int:
    """Lower is worse: failed, a status outside the vocabulary, missing, pending, verified."""
    return _RANK.get(status, _UNKNOWN_RANK)


def _checked_key(domain: Domain) -> float:
    return _timestamp(domain.last_checked_at) if domain.last_checked_at is not None else -math.inf


def _timestamp(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _seconds(value: datetime) -> str:
    return _number(_timestamp(value))


def _number(value: float) -> str:
    """A sample value as the format writes it: an integer without a fraction, NaN and +Inf/-Inf spelt its way."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _label(value: str) -> str:
    """A label value between double quotes: backslash, double quote and line feed escaped, valid UTF-8."""
    if not value.isascii():
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate: the text \udc96
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    """HELP text: backslash and line feed escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _write_error(path: Path, exc: OSError) -> str:
    from stackshift_cli.escape import visible

    shown, directory = visible(str(path)), visible(str(path.parent))
    if exc.errno == errno.ENOENT:
        what = f"the directory {directory} does not exist; create it or give a path in an existing directory"
    elif exc.errno == errno.ENOTDIR:
        what = f"{directory} is not a directory; give a path in an existing directory"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        what = (f"this user may not create files in {directory}; make it writable for this user or give a path in "
                "another directory")
    elif exc.errno == errno.EROFS:
        what = f"{directory} is on a read-only file system; give a path in another directory"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = f"no space is left on the disk of {directory}; free some space"
    elif exc.errno == errno.EISDIR:
        what = "it is a directory; give the file to write, ending in .prom"
    else:
        what = f"{visible(exc.strerror or str(exc))}; check {directory}"
    return f"Cannot write the metrics file {shown}: {what}."


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: some file systems cannot fsync a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
