"""Private directories and atomic private files: the only places that create them and set their permissions.

Directories stackshift creates (and any missing parents) get mode 0700 whatever the umask; directories that
already exist are never chmod-ed (a shared or system directory keeps its mode). When a directory that holds
secrets can be read or written by group or others, the run prints one warning line on stderr.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

OPEN_BITS = 0o066  # group/other read or write: others could read the secrets, or replace them
_warned = False  # one warning line per run (process), however many directories are open


def ensure_private_dir(directory: Path) -> bool:
    """Create `directory` and any missing parents with mode 0700; leave existing ones as they are.

    Returns whether `directory` existed already.
    """
    missing: list[Path] = []
    level = directory
    while not os.path.lexists(level):
        missing.append(level)
        if level.parent == level:
            break
        level = level.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # another process made it meanwhile
            continue
        if stat.S_IMODE(os.lstat(path).st_mode) != 0o700:  # a umask such as 0277 took bits from the owner
            os.chmod(path, 0o700)
    if not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    return not missing


def open_to_others(directory: Path) -> bool:
    """Whether group or others may read or write `directory` (an absent one is not open)."""
    try:
        return bool(os.stat(directory).st_mode & OPEN_BITS)
    except OSError:
        return False


def warn_if_open(directories: list[Path], holds: str) -> None:
    """Print one warning line (the first in this run only) when any of `directories` is open to others."""
    global _warned
    if _warned:
        return
    open_dirs = [d for d in dict.fromkeys(directories) if open_to_others(d)]
    if not open_dirs:
        return
    _warned = True
    from stackshift_cli.escape import visible

    described = " and ".join(f"{d} (mode {stat.S_IMODE(os.stat(d).st_mode):04o})" for d in open_dirs)
    print(f"Warning: {visible(described)} can be read or written by other users, and holds {holds}; "
          f"make it private (chmod go-rwx) or use another directory.", file=sys.stderr)


def os_error_hint(exc: OSError, env_var: str) -> str:
    """What to do about an OSError that stopped a write, by its cause."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Free some space on that disk, or set {env_var} to a directory on another disk."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Check the permissions of that directory, or set {env_var} to a writable directory."
    return f"Check that directory, or set {env_var} to another one."


def write_private_file(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to `path` with mode 0600, creating its directory (0700) if it is missing.

    exclusive: fail if the file exists (a new key never replaces an old one).
    Otherwise the write is atomic: a temporary file in the same directory, fsynced, then renamed,
    so a crash never leaves a half-written file behind.
    Either way a failed write (a full disk) leaves no file behind.
    """
    if ensure_private_dir(path.parent):
        warn_if_open([path.parent], "stackshift's secrets")
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file with mode 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
