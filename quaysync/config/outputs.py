"""config.yaml sections for what quaysync hands out: the API, workbooks, rules and notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from quaysync.config.types import Duration, ScheduleSpec, Secret, Section, TimeZoneName
from quaysync.secrets import REDACTOR, SecretReferenceError, SecretsResolver


class ApiOptions(Section):
    """The read-only query layer (HTTP API, DCSA events, status board)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8700, ge=0, le=65535, description="0 picks a free port")
    require_api_key: bool = Field(True, description="API keys from `run.py api-key create NAME`")
    public_base_url: str | None = Field(None, description="base of links in webhooks and the board")


class ExportOptions(Section):
    """A workbook for analysts, written atomically on a schedule or by `run.py export` (sync/export)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="runs are recorded as export:NAME")
    path: str = Field(description="the .xlsx to write; with per_customer, {customer} in the name")
    schedule: ScheduleSpec | None = Field(None, description="rewrite on this schedule; None: by hand")
    per_customer: bool = Field(False, description="one workbook per customer of the order links")
    customer: str | None = Field(None, description="only this customer's containers")
    time_zone: TimeZoneName | None = Field(
        None, description="zone of the workbook's times; default: each container's own (a Zone column)"
    )

    @model_validator(mode="after")
    def _customer_in_path(self) -> ExportOptions:
        if self.per_customer and "{customer}" not in self.path:
            raise ValueError("per_customer needs {customer} in path (one workbook per customer)")
        if self.per_customer and self.customer:
            raise ValueError("give either per_customer or customer, not both")
        return self


Light = Literal["green", "amber", "red"]
Language = Literal["en", "zh"]
Condition = Literal[
    "milestone",
    "eta_slip",
    "lfd_within",
    "hold_longer",
    "stale",
    "not_found",
    "source_blocked",
    "layout_changed",
    "problem",
]
Milestone = Literal["DISC", "AVPU", "CUSR", "PICK", "GTOT", "GTIN"]
HoldFacet = Literal["customs", "freight", "line", "usda", "tmf", "other"]

# Words accepted for `milestone:` besides the event codes.
MILESTONE_WORDS = {
    "discharged": "DISC",
    "available": "AVPU",
    "customs_released": "CUSR",
    "appointment_confirmed": "PICK",
    "gated_out": "GTOT",
    "empty_returned": "GTIN",
}
# The options each condition takes; True: the option is required.
CONDITION_OPTIONS: dict[str, dict[str, bool]] = {
    "milestone": {"milestone": True, "hours": False},
    "eta_slip": {"hours": True},
    "lfd_within": {"hours": True},
    "hold_longer": {"hours": True, "facets": False},
    "stale": {"hours": False},
    "not_found": {},
    "source_blocked": {"hours": False, "kinds": False, "sources": False},
    "layout_changed": {"sources": False},
    "problem": {"hours": False, "kinds": True, "sources": False},
}
RULE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$"


def _webhook_url(value: Any, info: ValidationInfo) -> str:
    """A URL, or a reference to one: chat robots' URLs carry their access key, so they may be secret."""
    text = str(value).strip()
    if text.startswith("${") or text.startswith("secret:"):
        resolver = (info.context or {}).get("secrets")
        if not isinstance(resolver, SecretsResolver):
            resolver = SecretsResolver()
        try:
            text = resolver.resolve(text)
        except SecretReferenceError as error:
            raise ValueError(str(error)) from None
    elif "?" in text:
        REDACTOR.register(text.split("?", 1)[1])  # access tokens ride in the query string
    if not text.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL (or a ${VAR} / secret:NAME reference to one)")
    return text


WebhookUrl = Annotated[str, BeforeValidator(_webhook_url)]


def _milestone(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip()
        return MILESTONE_WORDS.get(word.lower().replace(" ", "_"), word.upper())
    return value


def _option_check(name: str, value: Any, info: ValidationInfo, given: bool) -> None:
    """Refuse an option the rule's condition does not take; demand the ones it needs."""
    when = info.data.get("when")
    if when is None:  # `when` itself was invalid and is reported on its own
        return
    takes = CONDITION_OPTIONS[when]
    if given and name not in takes:
        users = sorted(condition for condition, options in CONDITION_OPTIONS.items() if name in options)
        raise ValueError(f"not an option when `when` is {when} (only for: {', '.join(users)})")
    if not given and takes.get(name):
        raise ValueError(f"is required when `when` is {when}")


class RuleOptions(Section):
    """A rule: a condition on a container or a source, the light it sets, and what to do.

    Conditions (`when`) and their options:
      milestone       milestone (DISC, AVPU, CUSR, PICK, GTOT, GTIN or discharged, available,
                      customs_released, appointment_confirmed, gated_out, empty_returned);
                      hours: only when first known within the last N hours (skips old history)
      eta_slip        hours: the vessel's expected arrival is N hours past its first estimate
                      (a later estimate, or the estimate passing without an arrival)
      lfd_within      hours: the last free day ends within N hours (local time) and not gated out
      hold_longer     hours: a hold present for N hours; facets: which holds (default any)
      stale           hours: no news from any source for N hours (default sync.stale_after)
      not_found       a source says the container is unknown there
      source_blocked  a source's account is blocked (CAPTCHA, locked, ...); kinds: which blocks;
                      sources: fnmatch patterns; hours: blocked for at least N hours
      layout_changed  a source's latest run found its layout changed; sources: patterns
      problem         input set aside (kinds: problem kinds such as low_confidence, quarantined,
                      bad_input); sources: patterns; hours: look back N hours (default 24)
    """

    name: str = Field(pattern=RULE_NAME, description="unique; part of every alert's dedupe key")
    when: Condition = Field(description="the condition type (see above)")
    milestone: Annotated[Milestone | None, BeforeValidator(_milestone)] = Field(
        None, validate_default=True, description="for `milestone`: which one"
    )
    hours: float | None = Field(None, ge=0, validate_default=True, description="the condition's threshold")
    facets: list[HoldFacet] = Field(
        default_factory=list, validate_default=True, description="for `hold_longer`: which holds"
    )
    kinds: list[str] = Field(
        default_factory=list, validate_default=True, description="block kinds or problem kinds to match"
    )
    sources: list[str] = Field(
        default_factory=list, validate_default=True, description="fnmatch patterns of source names"
    )
    light: Light = "amber"
    reason: str | None = Field(
        None, description="shown with the light; may use the condition's facts, e.g. {delay_hours:.0f}"
    )
    notify: list[str] = Field(default_factory=list, description="channel names to tell staff")
    customer_template: str | None = Field(
        None, pattern=r"^[a-z0-9_]+$", description="customer message template (sync/messages/templates)"
    )
    template_vars: dict[str, str | dict[Language, str]] = Field(
        default_factory=dict,
        description="extra values for the customer template, plain or per language ({en: ..., zh: ...})",
    )
    review: bool = Field(False, description="open a manual-review item for a person")
    cooldown: Duration = Field(
        default=timedelta(hours=12), description="after firing for a subject, quiet for this long"
    )
    enabled: bool = True

    @field_validator("milestone")
    @classmethod
    def _milestone_for(cls, value: str | None, info: ValidationInfo) -> str | None:
        _option_check("milestone", value, info, value is not None)
        return value

    @field_validator("hours")
    @classmethod
    def _hours_for(cls, value: float | None, info: ValidationInfo) -> float | None:
        _option_check("hours", value, info, value is not None)
        return value

    @field_validator("facets", "kinds", "sources")
    @classmethod
    def _lists_for(cls, value: list[str], info: ValidationInfo) -> list[str]:
        assert info.field_name is not None
        _option_check(info.field_name, value, info, bool(value))
        return value


class ChannelOptions(Section):
    """Where notifications go: SMTP mail, a generic JSON webhook, or a chat group's incoming webhook.

    A staff channel (named in a rule's `notify`) needs mail_to (smtp) or url (the others); a
    channel used only for customer messages may leave them out: each customer names its own.
    """

    name: str = Field(pattern=RULE_NAME)
    kind: Literal["smtp", "webhook", "wecom", "dingtalk", "slack"]
    language: Language = Field("en", description="language of staff messages on this channel")
    url: WebhookUrl | None = Field(
        None,
        description="webhook URL (webhook, wecom, dingtalk, slack); may be a ${VAR} / secret:NAME reference",
    )
    secret: Secret | None = Field(
        None, description="webhook: HMAC-SHA256 signing key; dingtalk: the robot's 'SEC…' signing secret"
    )
    timeout: Duration = Field(default=timedelta(seconds=10), description="per delivery attempt")
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: Secret | None = None
    mail_from: str | None = None
    mail_to: list[str] = Field(default_factory=list, description="staff addresses")

    @model_validator(mode="after")
    def _complete(self) -> ChannelOptions:
        if self.kind == "smtp":
            if not (self.smtp_host and self.mail_from):
                raise ValueError("an smtp channel needs smtp_host and mail_from")
            if self.url:
                raise ValueError("url is not an option of an smtp channel")
        elif self.smtp_host or self.mail_to or self.mail_from:
            raise ValueError(f"smtp_host, mail_from and mail_to are smtp options, not {self.kind} ones")
        if self.secret is not None and self.kind not in ("webhook", "dingtalk"):
            raise ValueError(f"secret signs webhook and dingtalk messages; a {self.kind} channel has none")
        if self.smtp_password is not None and not self.smtp_username:
            raise ValueError("smtp_password without smtp_username")
        return self


class CustomerOptions(Section):
    """A customer who gets template messages; `name` as order links and B/Ls name the customer."""

    name: str
    language: Language | None = Field(None, description="default: notifications.default_language")
    channel: str = Field(description="a channel name from notifications.channels")
    to: list[str] = Field(default_factory=list, description="addresses, for an smtp channel")
    url: WebhookUrl | None = Field(None, description="this customer's webhook URL (else the channel's)")


class NotificationOptions(Section):
    """Channels, customers, and how delivery retries (see sync/rules/README.md)."""

    channels: list[ChannelOptions] = Field(default_factory=list)
    customers: list[CustomerOptions] = Field(default_factory=list)
    review_channels: list[str] = Field(
        default_factory=list, description="channels told of review items other rooms open (open_review)"
    )
    default_language: Language = Field("en", description="for customers without a language of their own")
    max_attempts: int = Field(12, ge=1, description="delivery attempts before an item is dead")
    retry_base: Duration = Field(default=timedelta(seconds=10), description="first retry delay, doubling")
    retry_max: Duration = Field(default=timedelta(hours=1), description="longest delay between attempts")

    @model_validator(mode="after")
    def _consistent(self) -> NotificationOptions:
        channels: dict[str, ChannelOptions] = {}
        for index, channel in enumerate(self.channels):
            if channel.name in channels:
                raise ValueError(f"channels[{index}].name: channel {channel.name!r} is defined twice")
            channels[channel.name] = channel
        for index, name in enumerate(self.review_channels):
            if name not in channels:
                known = ", ".join(sorted(channels)) or "none defined"
                raise ValueError(f"review_channels[{index}]: unknown channel {name!r} (channels: {known})")
        seen: set[str] = set()
        for index, customer in enumerate(self.customers):
            where = f"customers[{index}]"
            key = customer.name.strip().casefold()
            if key in seen:
                raise ValueError(f"{where}.name: customer {customer.name!r} is defined twice")
            seen.add(key)
            channel = channels.get(customer.channel)
            if channel is None:
                known = ", ".join(sorted(channels)) or "none defined"
                raise ValueError(f"{where}.channel: unknown channel {customer.channel!r} (channels: {known})")
            if channel.kind == "smtp" and not customer.to:
                raise ValueError(f"{where}.to: channel {channel.name!r} sends mail: give the addresses")
            if channel.kind != "smtp" and not (customer.url or channel.url):
                raise ValueError(f"{where}.url: channel {channel.name!r} has no url: give the customer's")
        return self
