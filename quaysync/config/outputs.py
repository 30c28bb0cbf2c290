"""config.yaml sections for what quaysync hands out: the API, workbooks, rules and notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from quaysync.config.types import Duration, ScheduleSpec, Secret, Section


class ApiOptions(Section):
    """The read-only query layer (HTTP API, DCSA events, status board)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8700, ge=0, le=65535, description="0 picks a free port")
    require_api_key: bool = Field(True, description="API keys from `run.py api-key create NAME`")
    public_base_url: str | None = Field(None, description="base of links in webhooks and the board")


class ExportOptions(Section):
    """A workbook for analysts, written atomically on a schedule or by `run.py export`."""

    name: str
    path: str = Field(description="the .xlsx to write; with per_customer, {customer} in the name")
    schedule: ScheduleSpec | None = None
    per_customer: bool = False


Light = Literal["green", "amber", "red"]


class RuleOptions(Section):
    """A rule: a condition on a container or a source, the light it sets, and what to do."""

    name: str
    when: str = Field(description="condition type, e.g. milestone, eta_slip, lfd_within, stale")
    milestone: str | None = Field(None, description="for `milestone`: DISC, AVPU, CUSR, ...")
    hours: float | None = Field(None, ge=0, description="threshold for time-based conditions")
    light: Light = "amber"
    reason: str | None = Field(None, description="shown with the light; default from the condition")
    notify: list[str] = Field(default_factory=list, description="channel names to tell staff")
    customer_template: str | None = Field(None, description="template of a customer message")
    review: bool = Field(False, description="open a manual-review item for a person")
    cooldown: Duration = Field(default=timedelta(hours=12), description="quiet time before repeating")


class ChannelOptions(Section):
    """Where notifications go."""

    name: str
    kind: Literal["smtp", "webhook", "wecom", "dingtalk", "slack"]
    url: str | None = Field(None, description="webhook URL (webhook, wecom, dingtalk, slack)")
    secret: Secret | None = Field(None, description="HMAC signing secret for webhooks")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: Secret | None = None
    mail_from: str | None = None
    mail_to: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> ChannelOptions:
        if self.kind == "smtp" and not (self.smtp_host and self.mail_from and self.mail_to):
            raise ValueError("an smtp channel needs smtp_host, mail_from and mail_to")
        if self.kind != "smtp" and not self.url:
            raise ValueError(f"a {self.kind} channel needs url")
        return self


class NotificationOptions(Section):
    channels: list[ChannelOptions] = Field(default_factory=list)
    max_attempts: int = Field(12, ge=1, description="delivery attempts before an item is dead")
    retry_base: Duration = Field(default=timedelta(seconds=10), description="first retry delay, doubling")
    retry_max: Duration = Field(default=timedelta(hours=1), description="longest delay between attempts")
