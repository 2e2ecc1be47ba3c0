"""Exception types and the exit code each one ends the program with."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes; scripts depend on these numbers."""

    OK = 0
    ERROR = 1
    USAGE = 2
    VERIFICATION_FAILED = 3
    VERIFICATION_PENDING = 4
    NOT_FOUND = 5
    AUTH = 6
    PUBLISH_CONFLICT = 7  # publish: the plan has conflicts; nothing was written
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM, as shells report a process ended by it


class StackshiftError(Exception):
    """An expected error: printed as one line (plus an optional hint), never a traceback."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(StackshiftError):
    """Invalid argument or input: exit 2."""

    exit_code = ExitCode.USAGE


class InvalidDomainName(UsageError):
    """A domain name that cannot be a sender domain."""


class AlreadyExists(UsageError):
    """Creating a domain that already exists."""


class NotFound(StackshiftError):
    """No domain with that name or id: exit 5."""

    exit_code = ExitCode.NOT_FOUND


class AuthError(StackshiftError):
    """Missing, invalid or refused API key: exit 6."""

    exit_code = ExitCode.AUTH


class StoreError(StackshiftError):
    """The local store cannot be read or written: exit 1."""


class ConfigError(StackshiftError):
    """The config file cannot be read or written, or holds an invalid value: exit 1."""


class ApiError(StackshiftError):
    """The API answered with an error or could not be reached: exit 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, stopping a run the way Ctrl-C does (what `verify` checked is stored and printed): exit 143."""

    exit_code = ExitCode.TERMINATED


class InvalidApiData(ApiError):
    """The API sent a domain or record stackshift cannot use (an invalid name, id, time ...): exit 1.

    A listing leaves such a domain out with a warning; the answer about one domain is an error."""


class PublishConflict(StackshiftError):
    """`domains publish`: the plan has conflicts (or --dry-run found them); nothing was written: exit 7."""

    exit_code = ExitCode.PUBLISH_CONFLICT


class ProviderError(StackshiftError):
    """A DNS provider refused or failed a change, or could not be reached: exit 1.

    `applied` is how many changes of the run the provider had made before the error (the journal has them)."""


class ProviderAuthError(AuthError):
    """A DNS provider refused the credentials (a wrong TSIG secret, a revoked token): exit 6."""


class PrerequisiteFailed(ProviderError):
    """The zone changed between the plan and its apply: the change was refused instead of overwriting: exit 1."""
