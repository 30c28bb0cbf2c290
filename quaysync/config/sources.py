"""config.yaml `sources:` — the portals, mailboxes and import files quaysync reads."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from quaysync.config.types import ActiveHours, Duration, ScheduleSpec, Secret, Section, TimeZoneName
from quaysync.model import FIELDS

_NAME = r"^[a-z0-9][a-z0-9_\-]*$"


class PortalAccount(Section):
    """One login at a terminal portal. Each account gets its own browser context."""

    username: str
    password: Secret = Field(description="${ENV_VAR} or secret:NAME, never inline")
    concurrency: int = Field(1, ge=1, le=8, description="pages this account may use at once")


class PortalSource(Section):
    """A terminal portal a bot logs in to on a schedule."""

    name: str = Field(pattern=_NAME, description="the source's name; runs are recorded as portal:NAME")
    family: str = Field(description="portal software, selects the bot and parser (e.g. sandbox)")
    base_url: str = Field(description="the portal's start URL")
    accounts: list[PortalAccount] = Field(min_length=1)
    schedule: ScheduleSpec = Field(default="15m", description="cron expression or interval")
    jitter: Duration = Field(default=timedelta(0), description="random delay added to each run")
    active_hours: ActiveHours | None = Field(None, description="local hours the portal may be scraped")
    time_zone: TimeZoneName = Field("UTC", description="zone of the portal's local times")
    concurrency: int = Field(2, ge=1, le=32, description="browser contexts for this portal at once")
    batch_size: int | None = Field(None, ge=1, description="containers per search; default: family's")
    rate_limit_per_minute: float | None = Field(None, gt=0, description="page loads per minute cap")
    timeout: Duration = Field(default=timedelta(seconds=30), description="per page action")
    retries: int = Field(3, ge=0, le=10, description="attempts after a portal error, with backoff")
    language: Literal["en", "zh"] = "en"
    enabled: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class MailRoute(Section):
    """Which parser template reads a mail: every given condition must match."""

    template: str = Field(description="parser template name, see `run.py mail templates`")
    sender: str | None = Field(None, description="regular expression on the From address")
    subject: str | None = Field(None, description="regular expression on the decoded subject")
    attachment: str | None = Field(None, description="glob on attachment file names (e.g. *.xlsx)")

    @field_validator("sender", "subject")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"{value!r} is not a regular expression: {error}") from None
        return value


class MailboxSource(Section):
    """An IMAP mailbox carriers and terminals write to."""

    name: str = Field(pattern=_NAME)
    host: str
    port: int = Field(993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    password: Secret | None = None
    oauth2_token: Secret | None = Field(None, description="XOAUTH2 access token instead of a password")
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    schedule: ScheduleSpec = Field(default="2m", description="poll interval or cron")
    idle: bool = Field(True, description="use IMAP IDLE as a wake-up hint where the server has it")
    time_zone: TimeZoneName = Field("UTC", description="zone of local times written in the mail")
    max_message_bytes: int = Field(25_000_000, ge=1024)
    max_attachment_bytes: int = Field(20_000_000, ge=1024)
    routes: list[MailRoute] = Field(default_factory=list)
    enabled: bool = True

    @model_validator(mode="after")
    def _one_credential(self) -> MailboxSource:
        if (self.password is None) == (self.oauth2_token is None):
            raise ValueError("give exactly one of password or oauth2_token")
        return self


class ImportSource(Section):
    """A file (or a folder watched for files) of order / B/L / container links or a watchlist.

    Imported as `import:NAME` (see sync/imports): each new or changed file (by SHA-256) is read
    once; rows become order ↔ B/L ↔ container links and tracked containers.
    """

    name: str = Field(pattern=_NAME, description="the source's name; runs are recorded as import:NAME")
    path: str = Field(description="a file, a glob, or a folder watched for new files")
    schedule: ScheduleSpec | None = Field(None, description="re-read on this schedule; None: by hand")
    columns: dict[str, list[str]] = Field(
        default_factory=dict, description="extra header aliases per field, e.g. order_ref: [PO No.]"
    )
    customer: str | None = Field(None, description="customer for rows that do not name one")
    sheet: str | None = Field(None, description="worksheet name; default: every sheet with a header row")
    links_only: bool = Field(
        False,
        description="read only order, B/L, container and customer columns (`import-links`); "
        "default also reads ETA, line, vessel/voyage, ports and size/type",
    )
    time_zone: TimeZoneName = Field("UTC", description="zone of the sheet's local dates (ETA)")
    enabled: bool = True

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(unknown)}; fields are e.g. container_no, mbl_no, "
                "order_ref, customer, eta"
            )
        return value


class Sources(Section):
    portals: list[PortalSource] = Field(default_factory=list)
    mailboxes: list[MailboxSource] = Field(default_factory=list)
    imports: list[ImportSource] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Sources:
        for kind, items in (
            ("portals", self.portals),
            ("mailboxes", self.mailboxes),
            ("imports", self.imports),
        ):
            names = [item.name for item in items]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValueError(f"{kind}: names must be unique, repeated: {', '.join(duplicates)}")
        return self
