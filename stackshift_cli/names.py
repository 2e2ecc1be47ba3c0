"""Domain-name validation and normalisation (pure): what the user typed -> the A-label name we store."""

from __future__ import annotations

import re


from stackshift_cli.errors import InvalidDomainName
from stackshift_cli.escape import quoted

TYPE_CHECKING = False  # typing itself is not imported: TAB checks names and ids through this module
if TYPE_CHECKING:
    from typing import TypeGuard

MAX_NAME_OCTETS = 253
MAX_LABEL_OCTETS = 63
_LDH = re.compile(r"^[a-z0-9-]+$")


def normalize_domain(raw: str) -> str:
    """Return the canonical form of a sender domain name, or raise InvalidDomainName.

    Lowercase, one trailing dot stripped, Unicode converted to its A-label form
    (IDNA 2008 with UTS #46 mapping). The result needs no further checks.
    """
    text = raw.strip()
    if not text:
        raise InvalidDomainName("The domain name is empty.", hint="Give a name such as example.com.")
    _reject_shapes(text)
    if text.endswith("."):
        text = text[:-1]
    if not text.isascii():
        text = _to_alabels(text)
    name = text.lower()
    labels = name.split(".")
    if len(labels) < 2:
        raise InvalidDomainName(
            f"'{quoted(raw)}' is a single label; a sender domain needs at least two (example.com).",
        )
    for label in labels:
        _check_label(label, raw)
    if labels[-1].isdigit():
        raise InvalidDomainName(f"'{quoted(raw)}' ends in an all-numeric label, which no top-level domain is.")
    if len(name) > MAX_NAME_OCTETS:
        raise InvalidDomainName(
            f"'{quoted(raw)}' is {len(name)} octets long; a domain name has at most {MAX_NAME_OCTETS}."
        )
    return name


def to_unicode(name: str) -> str:
    """The display (U-label) form of a stored A-label name; the name itself if it cannot be decoded."""
    if "xn--" not in name:
        return name
    import idna

    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name


_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")  # the scripts look-alike (homoglyph) names mix


def mixed_scripts(name: str) -> list[str]:
    """The scripts a label of `name` (an A-label name) mixes among Latin, Cyrillic and Greek letters, if any:
    such a label is a likely look-alike of another name (pаypal.com with a Cyrillic 'а')."""
    import unicodedata

    for label in to_unicode(name).split("."):
        scripts = {unicodedata.name(c, "").split(" ")[0] for c in label if c.isalpha()}
        found = sorted(scripts & set(_CONFUSABLE_SCRIPTS))
        if len(found) > 1:
            return [s.capitalize() for s in found]
    return []


# Domain ids. Any id (an API may choose its own) is a safe token: it goes into URL paths, the completion cache and
# output. The local store makes "dom_" + 16 hex digits, and only those name key files.
ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LOCAL_ID = re.compile(r"dom_[0-9a-f]{16}")


def is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def is_local_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and LOCAL_ID.fullmatch(value) is not None


def looks_like_id(ref: str) -> bool:
    """Whether NAME|ID is an id: ids carry no dots; names always have at least one."""
    return ref.startswith("dom_") and "." not in ref


def _reject_shapes(text: str) -> None:
    """Reject inputs that are something else than a domain name, suggesting the name inside them."""
    if "://" in text or text.lower().startswith(("http:", "https:")):
        from urllib.parse import urlsplit

        host = urlsplit(text if "://" in text else "//" + text.split(":", 1)[1]).hostname
        hint = f"Did you mean '{quoted(host)}'?" if host else "Give only the domain name, such as example.com."
        raise InvalidDomainName(f"'{quoted(text)}' is a URL, not a domain name.", hint=hint)
    if "@" in text:
        host = text.rsplit("@", 1)[1]
        hint = f"Did you mean '{quoted(host)}'?" if host else "Give only the domain name, such as example.com."
        raise InvalidDomainName(f"'{quoted(text)}' is an email address, not a domain name.", hint=hint)
    if "*" in text:
        raise InvalidDomainName(
            f"'{quoted(text)}' is a wildcard; a sender domain is one exact name.",
            hint="Create each sending domain by its own name.",
        )
    if "/" in text:
        raise InvalidDomainName(
            f"'{quoted(text)}' contains '/'; give only the domain name.",
            hint=f"Did you mean '{quoted(text.split('/', 1)[0])}'?" if "." in text.split("/", 1)[0] else None,
        )
    candidate = (text[1:-1] if text.startswith("[") and text.endswith("]") else text).split("%", 1)[0]
    if ":" not in candidate and candidate.strip("0123456789."):
        return  # neither IPv6 (it has a colon) nor IPv4 (digits and dots only): no need to ask ipaddress
    import ipaddress

    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return
    raise InvalidDomainName(f"'{quoted(text)}' is an IP address; a sender domain is a domain name.")


def _to_alabels(text: str) -> str:
    import idna

    try:
        return idna.encode(text, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise InvalidDomainName(
            f"'{quoted(text)}' is not a valid internationalised domain name ({quoted(str(exc))})."
        ) from None


def _check_label(label: str, raw: str) -> None:
    if not label:
        raise InvalidDomainName(f"'{quoted(raw)}' has an empty label (two dots in a row, or a leading dot).")
    if len(label) > MAX_LABEL_OCTETS:
        raise InvalidDomainName(
            f"'{quoted(raw)}' has a label of {len(label)} octets; a label has at most {MAX_LABEL_OCTETS}."
        )
    if not _LDH.match(label):
        bad = sorted({c for c in label if not (c.isascii() and (c.isalnum() or c == "-"))})
        shown = quoted(" ".join(repr(c) for c in bad))
        raise InvalidDomainName(
            f"'{quoted(raw)}' contains {shown}; a domain name has only letters, digits and hyphens."
        )
    if label.startswith("-") or label.endswith("-"):
        raise InvalidDomainName(
            f"'{quoted(raw)}' has a label that starts or ends with a hyphen ('{quoted(label)}')."
        )
    if label.startswith("xn--"):
        import idna

        try:
            idna.decode(label)
        except (idna.IDNAError, UnicodeError):
            raise InvalidDomainName(f"'{quoted(raw)}' has an invalid A-label ('{quoted(label)}').") from None
    elif label[2:4] == "--":
        raise InvalidDomainName(
            f"'{quoted(raw)}' has a label with '--' in the third and fourth positions ('{quoted(label)}'), "
            "which is reserved for encoded labels."
        )
