"""The one error taxonomy of quaysync, used by every room.

    QuaysyncError
    ├── ConfigError            config.yaml or a secret is wrong; fails at start-up
    ├── BusinessError          the world says no (unknown container, invalid number): record, never retry
    │   ├── ContainerNotFound
    │   └── InvalidContainerNumber
    ├── PortalError            transport trouble (timeout, 5xx, disconnect, expired session): retry, re-login
    │   └── SessionExpired
    ├── BlockedError           a person must act (CAPTCHA, locked account, maintenance): stop, alert
    │   ├── CaptchaRequired
    │   ├── AccountLocked
    │   ├── LoginRejected
    │   └── MaintenanceWindow
    ├── LayoutChangedError     expected headers/selectors missing: store no guesses, alert with evidence
    └── BadInputError          a malformed page, mail or file: record the reason, set it aside, go on

Each class carries `kind`, the word stored on runs, problems and alerts. Messages must be safe to
log: they never contain secrets (callers pass redacted text; `quaysync.secrets` masks the rest).
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorKind = Literal["config", "business", "portal", "blocked", "layout_changed", "bad_input"]


class QuaysyncError(Exception):
    """Base of every error quaysync raises on purpose."""

    kind: ClassVar[ErrorKind]
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, evidence: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Paths of screenshots, HTML snapshots and traces captured when this happened.
        self.evidence: dict[str, str] = dict(evidence or {})

    def __str__(self) -> str:
        return self.message


class ConfigError(QuaysyncError):
    """Configuration is invalid; `problems` lists `path: what was expected` lines."""

    kind = "config"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


class BusinessError(QuaysyncError):
    """The source answered clearly and the answer is 'no'. Recorded on the container; no retry."""

    kind = "business"


class ContainerNotFound(BusinessError):
    def __init__(self, container_number: str, message: str = "not known at this terminal") -> None:
        self.container_number = container_number
        super().__init__(f"{container_number}: {message}")


class InvalidContainerNumber(BusinessError):
    def __init__(self, raw_number: str, reason: str) -> None:
        self.raw_number = raw_number
        self.reason = reason
        super().__init__(f"{raw_number!r} is not a valid ISO 6346 container number: {reason}")


class PortalError(QuaysyncError):
    """Transient trouble talking to a source. Retried with backoff (and a re-login where relevant)."""

    kind = "portal"
    retryable = True


class SessionExpired(PortalError):
    """The portal says the session is gone: log in again, then retry."""


class BlockedError(QuaysyncError):
    """A person has to act before this account can be used again. Never retried automatically."""

    kind = "blocked"


class CaptchaRequired(BlockedError):
    pass


class AccountLocked(BlockedError):
    pass


class LoginRejected(BlockedError):
    """Wrong user name or password: retrying would only lock the account."""


class MaintenanceWindow(BlockedError):
    pass


class LayoutChangedError(QuaysyncError):
    """The page or file no longer looks as the parser expects. Nothing is guessed or stored."""

    kind = "layout_changed"


class BadInputError(QuaysyncError):
    """Malformed or unsafe input (a page, a mail, an attachment, a spreadsheet row)."""

    kind = "bad_input"


def error_kind(error: BaseException) -> ErrorKind:
    """The taxonomy word for any exception; unexpected ones count as portal trouble (retryable)."""
    if isinstance(error, QuaysyncError):
        return error.kind
    return "portal"


# What a legacy portal's pages usually are, beyond the one a step expects. Parsers classify a page
# into one of these words (their own `classify_page`); bots and parsers share this reading of them.
_PAGE_ERRORS: dict[str, tuple[type[QuaysyncError], str]] = {
    "session_expired": (SessionExpired, "the portal answered with the session expired page"),
    "login": (SessionExpired, "the portal answered with the login page"),
    "captcha": (CaptchaRequired, "the portal asks for a CAPTCHA"),
    "maintenance": (MaintenanceWindow, "the portal is down for maintenance"),
    "account_locked": (AccountLocked, "the portal says the account is locked"),
    "login_failed": (LoginRejected, "the portal rejected the user name or password"),
    "error": (PortalError, "the portal answered with a server error page"),
}


def error_for_page(kind: str, what: str) -> QuaysyncError | None:
    """The taxonomy's error for a portal page of a well-known `kind` (login, CAPTCHA, maintenance,
    locked account, server error, ...), or None when the kind is not one of those."""
    known = _PAGE_ERRORS.get(kind)
    return None if known is None else known[0](f"{what}: {known[1]}")
