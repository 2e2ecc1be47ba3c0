"""DKIM key generation and the private-key files (mode 0600 in a 0700 directory)."""

from __future__ import annotations

import base64
from pathlib import Path

from stackshift_cli.errors import StoreError
from stackshift_cli.files import write_private_file

KEY_BITS = 2048


def generate_dkim_keypair() -> tuple[bytes, str]:
    """A new RSA key pair: (private key PEM, base64 DER SubjectPublicKeyInfo for the p= tag)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
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


def write_private_key(directory: Path, stem: str, pem: bytes) -> Path:
    """Write `pem` to directory/stem.pem with mode 0600; never replaces an existing key."""
    path = directory / f"{stem}.pem"
    try:
        write_private_file(path, pem, exclusive=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot write the DKIM private key {path}: {exc.strerror}.",
            hint="Check the permissions of the data directory, or set STACKSHIFT_DATA_DIR.",
        ) from None
    return path
