"""What a self-hosted mail server needs to sign with a domain's DKIM key (`domains dkim-export`): OpenDKIM's KeyTable
and SigningTable lines, an Rspamd dkim_signing entry, or the key itself (pure: no I/O; the command reads the file).

Every value comes from the store, so each is checked for what would break the line it goes in before anything is
printed: a domain name or selector that is not a DNS name, a key path with a character the format cannot carry.
A config that does not parse, or that parses into something else, is worse than an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackshift_cli.errors import StackshiftError
from stackshift_cli.escape import quoted

FORMATS = ("opendkim", "rspamd", "pem")
MAX_PEM_BYTES = 64 * 1024  # a 4096-bit PKCS#8 key is about 3.3 KB

_DNS_NAME = re.compile(r"[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*")
# OpenDKIM's data set files (opendkim(8), "file:" and "refile:" data sets): a line is a key and a value split at the
# first whitespace, `#` starts a comment, and a KeyTable value is `domain:selector:keypath`, split at ':'. A key path
# with whitespace, '#' or ':' would be cut there; quotes are not quoting (they would be part of the path).
_OPENDKIM_UNSAFE = re.compile(r"[\s#:\"'\\]")
# Rspamd reads UCL: the path goes in a double-quoted string, where '"' and '\' are syntax, and `$domain` or
# `$selector` in a dkim_signing path are replaced (https://rspamd.com/doc/modules/dkim_signing.html), so '$' too.
_RSPAMD_UNSAFE = re.compile(r"[\"\\$]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PEM = re.compile(rb"-----BEGIN ([A-Z ]+)-----\n[A-Za-z0-9+/=\n]+-----END \1-----\n?")


class UnsafeForConfig(StackshiftError):
    """A name or path from the store that the chosen format cannot carry as it is: exit 1, nothing printed."""


@dataclass(frozen=True)
class OpenDkimLines:
    key_table: str  # `<selector>._domainkey.<domain> <domain>:<selector>:<key path>`
    signing_table: str  # `*@<domain> <selector>._domainkey.<domain>` (a refile: data set: the wildcard)


def opendkim_lines(domain: str, selector: str, key_path: str) -> OpenDkimLines:
    """The KeyTable and SigningTable lines that make OpenDKIM sign mail from any address at `domain` with the key
    at `key_path`, as `selector` (opendkim.conf(5): KeyTable "keyname domain:selector:keypath", SigningTable
    "pattern keyname", whose `*@domain` pattern needs SigningTable to be a refile: data set)."""
    _check_names(domain, selector)
    _check_path(key_path, _OPENDKIM_UNSAFE, "OpenDKIM's KeyTable",
                "whitespace, ':', '#', quotes or backslashes")
    key_name = f"{selector}._domainkey.{domain}"
    return OpenDkimLines(key_table=f"{key_name} {domain}:{selector}:{key_path}",
                         signing_table=f"*@{domain} {key_name}")


def rspamd_config(domain: str, selector: str, key_path: str) -> str:
    """The entry for `domain` in Rspamd's local.d/dkim_signing.conf, in the "Domain specific settings" form its
    documentation shows (https://rspamd.com/doc/modules/dkim_signing.html#configuration):
    `domain { example.com { path = "…"; selector = "…"; } }`. It is the body of local.d/dkim_signing.conf (that
    file is read inside the module's section: it names no `dkim_signing {}` around it)."""
    _check_names(domain, selector)
    _check_path(key_path, _RSPAMD_UNSAFE, "an Rspamd (UCL) string", "quotes, backslashes or '$'")
    return "\n".join([
        "domain {",
        f"  {domain} {{",
        f'    path = "{key_path}";',
        f'    selector = "{selector}";',
        "  }",
        "}",
    ])


def pem_text(data: bytes, key_path: str) -> str:
    """The key file's content as text, once it is one PEM block of base64 (what stackshift writes): anything else
    is not printed (it would reach a terminal as it is)."""
    if len(data) > MAX_PEM_BYTES or not _PEM.fullmatch(data.replace(b"\r\n", b"\n")):
        raise StackshiftError(f"The DKIM key file {quoted(key_path)} does not hold a PEM private key; stackshift "
                              "will not print it.", hint="It was changed outside stackshift: restore it from a "
                                                         "backup, or rotate the key.")
    return data.decode("ascii").replace("\r\n", "\n").rstrip("\n")


def _check_names(domain: str, selector: str) -> None:
    for what, value in (("domain name", domain), ("DKIM selector", selector)):
        if not _DNS_NAME.fullmatch(value):
            raise UnsafeForConfig(f"The stored {what} {quoted(value)} is not a DNS name; stackshift will not write "
                                  "it into a mail server's config.",
                                  hint="The store was changed outside stackshift: fix that row, or restore a backup.")


def _check_path(path: str, unsafe: re.Pattern[str], where: str, described: str) -> None:
    if _CONTROL.search(path) or unsafe.search(path) or not path.startswith("/"):
        raise UnsafeForConfig(
            f"The key file's path {quoted(path)} cannot go in {where} as it is: it must be an absolute path without "
            f"{described} or control characters.",
            hint="Set STACKSHIFT_DATA_DIR to a directory whose path has none of them (and move the data directory "
                 "there), or copy the key file to such a path and write the line yourself.")
