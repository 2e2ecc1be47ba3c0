"""DKIM key generation and the private-key files (mode 0600 in a 0700 directory).

A key file is only ever addressed as `<keys dir>/<domain id>.pem`, from an id that the local store makes (names.LOCAL_ID): never
from a path stored anywhere. A new key is written under a temporary name (`.<id>.pem.tmp`) and renamed into
place only once its domain is in the store, so an interrupted create leaves no key that looks like a real one;
`sweep_orphans` removes what a killed process left behind.
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path
from typing import Callable, Iterable

from stackshift_cli.errors import StoreError
from stackshift_cli.names import LOCAL_ID, is_local_id
from stackshift_cli.files import ensure_private_dir, os_error_hint

KEY_BITS = 2048
# The RSA key sizes `domains create --key-size` offers. RFC 8301 3.2: verifiers must accept keys of 1024 to 4096
# bits, and signers should use at least 2048 (1024 is the floor: Gmail and others treat such keys as weak).
KEY_SIZES = (1024, 2048, 3072, 4096)
WEAK_KEY_BITS = 1024
_KEY_FILE = re.compile(rf"({LOCAL_ID.pattern})(?:\.g[0-9]{{1,6}})?\.pem")
_TEMP_FILE = re.compile(rf"\.({LOCAL_ID.pattern})(?:\.g[0-9]{{1,6}})?\.pem\.tmp")
MAX_GENERATION = 999_999  # rotations of one domain's key
ORPHAN_AGE_S = 60.0  # younger files may belong to a create still running in another process


def generate_dkim_keypair(bits: int = KEY_BITS) -> tuple[bytes, str]:
    """A new RSA key pair of `bits` (one of KEY_SIZES): (private key PEM, base64 DER SubjectPublicKeyInfo for the
    p= tag)."""
    if bits not in KEY_SIZES:
        raise ValueError(f"not a DKIM key size stackshift makes: {bits!r} (one of {KEY_SIZES})")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return pem, base64.b64encode(der).decode("ascii")


def key_path(directory: Path, domain_id: str, generation: int = 1) -> Path:
    """`directory/<domain_id>.pem` for a domain's first key, `<domain_id>.g<N>.pem` for the key its N-th rotation
    made; the id must be a domain id and N a whole number from 2 (checked, so no path can come through them)."""
    if not is_local_id(domain_id):
        raise ValueError(f"not a domain id: {domain_id!r}")
    if type(generation) is not int or not 1 <= generation <= MAX_GENERATION:
        raise ValueError(f"not a key generation: {generation!r}")
    return directory / (f"{domain_id}.pem" if generation == 1 else f"{domain_id}.g{generation}.pem")


def temp_key_path(directory: Path, domain_id: str, generation: int = 1) -> Path:
    final = key_path(directory, domain_id, generation)
    return final.with_name(f".{final.name}.tmp")


def destroy_key(path: Path) -> None:
    """Overwrite a private key file with zeros (synced), then remove it; a file already gone is fine. On a copy-on-write
    or journalling file system the old blocks may survive: this is a best effort against casual recovery."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    try:
        size = os.fstat(fd).st_size
        os.write(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)


def write_pending_key(directory: Path, domain_id: str, pem: bytes, generation: int = 1) -> Path:
    """Write `pem` under the temporary name of `domain_id`'s key (mode 0600, fsynced) and return that path.

    Creates the keys directory (0700) if it is missing. On any failure nothing is left behind.
    """
    path = temp_key_path(directory, domain_id, generation)
    try:
        ensure_private_dir(directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise _write_error(directory, domain_id, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_error(directory, domain_id, exc) from None
        raise
    return path


def install_key(directory: Path, domain_id: str, generation: int = 1) -> Path:
    """Give the key written by write_pending_key its real name (once its domain is stored)."""
    final = key_path(directory, domain_id, generation)
    os.rename(temp_key_path(directory, domain_id, generation), final)
    return final


def sweep_orphans(directory: Path, stored: Callable[[list[str]], Iterable[str]], count: Callable[[], int], *,
                  now: float | None = None) -> None:
    """Remove temporary key files, and key files, older than ORPHAN_AGE_S whose domain is not stored.

    `stored` gives which of the ids it is asked about have a row, `count` how many rows there are: key files are
    only looked up when there are more of them than rows (a large store has many keys, all of them old). A
    temporary key whose domain is stored (its create was killed between the commit and the rename) is renamed
    into place instead. Only names of the two shapes above are touched, never followed as links. Best effort:
    what cannot be removed stays for a later sweep.
    """
    now = time.time() if now is None else now
    # The names first, without a stat each (a store of 100,000 domains has as many key files): key files are looked
    # at only when there are more of them than rows, temporary files always (there are none or a few).
    temporary: list[tuple[str, str]] = []  # (file name, domain id)
    key_names: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    match = _TEMP_FILE.fullmatch(name)
                    if match is not None and _old_enough(directory / name, now):
                        temporary.append((name, match.group(1)))
                elif name.endswith(".pem"):
                    key_names.append(name)
    except OSError:
        return
    keys: list[tuple[str, str]] = []
    if len(key_names) > count():  # more key files than domains: some are orphans (as many: none is)
        for name in key_names:
            match = _KEY_FILE.fullmatch(name)
            if match is not None and _old_enough(directory / name, now):
                keys.append((name, match.group(1)))
    if not temporary and not keys:
        return
    kept = set(stored([domain_id for _, domain_id in temporary + keys]))
    for name, domain_id in temporary + keys:
        try:
            if domain_id not in kept:
                os.unlink(directory / name)
            elif name.startswith(".") and ".g" not in name:  # a rotation's key: its domain's rotate-dkim decides
                final = key_path(directory, domain_id)
                if os.path.lexists(final):
                    os.unlink(directory / name)
                else:
                    os.rename(directory / name, final)
        except OSError:
            continue


def _old_enough(path: Path, now: float) -> bool:
    """Whether the file (not followed if a link) was last changed ORPHAN_AGE_S or more ago."""
    try:
        return now - os.stat(path, follow_symlinks=False).st_mtime >= ORPHAN_AGE_S
    except OSError:
        return False


def _write_error(directory: Path, domain_id: str, exc: OSError) -> StoreError:
    return StoreError(
        f"Cannot write the DKIM private key {key_path(directory, domain_id)}: {exc.strerror or exc}.",
        hint=os_error_hint(exc, "STACKSHIFT_DATA_DIR"),
    )
