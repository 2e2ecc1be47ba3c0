"""Private directories and atomic private files: the only places that set permissions."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` (and parents) with mode 0700; tighten it if it exists with wider bits."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)


def write_private_file(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to `path` with mode 0600.

    exclusive: fail if the file exists (a new key never replaces an old one).
    Otherwise the write is atomic: a temporary file in the same directory, fsynced, then renamed,
    so a crash never leaves a half-written file behind.
    """
    ensure_private_dir(path.parent)
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
