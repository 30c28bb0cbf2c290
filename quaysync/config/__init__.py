"""config.yaml, validated: `load_config(path)` returns a `Config` or raises `ConfigError`.

A wrong key or value fails at start-up with the key's path and what was expected, e.g.

    sources.portals[1].schedule: 'every 5 minutes' is not a cron expression or interval

Relative paths in the file are relative to the directory holding it.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import AwareDatetime, Field, ValidationError, ValidationInfo, field_validator

from quaysync.config.outputs import (
    ApiOptions,
    ChannelOptions,
    CustomerOptions,
    ExportOptions,
    Language,
    NotificationOptions,
    RuleOptions,
)
from quaysync.config.sources import (
    ImportSource,
    MailboxSource,
    MailRoute,
    PortalAccount,
    PortalSource,
    Sources,
)
from quaysync.config.types import Duration, Schedule, Section, parse_duration
from quaysync.errors import ConfigError
from quaysync.secrets import REDACTOR, SecretReferenceError, SecretsResolver

__all__ = [
    "ApiOptions",
    "BrowserOptions",
    "ChannelOptions",
    "Config",
    "CustomerOptions",
    "ExportOptions",
    "ImportSource",
    "Language",
    "MailRoute",
    "MailboxSource",
    "NotificationOptions",
    "PortalAccount",
    "PortalSource",
    "RuleOptions",
    "SandboxOptions",
    "Schedule",
    "Sources",
    "StoreOptions",
    "SyncOptions",
    "load_config",
    "parse_duration",
]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


class StoreOptions(Section):
    """The SQL store. SQLite (WAL) by default; a postgresql:// URL for PostgreSQL."""

    url: str = Field(
        "sqlite:///var/quaysync.db",
        description="SQLAlchemy URL; may be a reference (${QUAYSYNC_STORE_URL}) when it holds a password",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> str:
        text = str(value)
        if text.startswith("${") or text.startswith("secret:"):
            resolver = (info.context or {}).get("secrets") or SecretsResolver()
            try:
                text = resolver.resolve(text)
            except SecretReferenceError as error:
                raise ValueError(str(error)) from None
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", text):
            raise ValueError("expected a sqlite:/// or postgresql:// URL")
        password = urlsplit(text).password
        if password:
            REDACTOR.register(password)
        return text


class SyncOptions(Section):
    """How observations become the current container status."""

    source_precedence: list[str] = Field(
        default_factory=lambda: ["portal:*", "mail:*", "import:*"],
        description="when sources disagree, the first matching pattern wins (fnmatch on source names)",
    )
    stale_after: Duration = Field(default=timedelta(hours=24), description="no news for this long: stale")
    stop_tracking_after: Duration = Field(
        default=timedelta(days=30), description="stop searching a container with no news for this long"
    )


class BrowserOptions(Section):
    executable_path: str = Field("auto", description="'auto': Playwright's Chromium, else the system's")
    headless: bool = True
    recycle_after_pages: int = Field(200, ge=10, description="new context after this many pages")


class SandboxOptions(Section):
    """The embedded default: a legacy terminal portal and a carrier mailbox on loopback."""

    enabled: bool = False
    host: str = "127.0.0.1"
    portal_port: int = Field(8765, ge=0, le=65535)
    imap_port: int = Field(8143, ge=0, le=65535)
    seed: int = 7
    containers: int = Field(120, ge=1)
    latency: Duration = Field(default=timedelta(0), description="added to every portal page")
    epoch: AwareDatetime | None = Field(
        None,
        description="when the world's timelines begin (with a zone); default: three days before the "
        "start of today (UTC), so the demo's news is always recent",
    )


class LoggingOptions(Section):
    level: str = "INFO"
    json_logs: bool = Field(True, alias="json", description="structured JSON lines on stderr")


class Config(Section):
    """The whole of config.yaml."""

    data_dir: Path = Field(Path("var"), description="evidence, browser state, exports, the SQLite file")
    secrets_file: Path | None = Field(None, description="YAML mapping of secret names, mode 0600")
    store: StoreOptions = Field(default_factory=StoreOptions)
    browser: BrowserOptions = Field(default_factory=BrowserOptions)
    sandbox: SandboxOptions = Field(default_factory=SandboxOptions)
    sources: Sources = Field(default_factory=Sources)
    sync: SyncOptions = Field(default_factory=SyncOptions)
    api: ApiOptions = Field(default_factory=ApiOptions)
    exports: list[ExportOptions] = Field(default_factory=list)
    rules: list[RuleOptions] = Field(default_factory=list)
    notifications: NotificationOptions = Field(default_factory=NotificationOptions)
    logging: LoggingOptions = Field(default_factory=LoggingOptions)

    # Where the file was read from; relative paths are resolved against its folder.
    base_dir: Path = Field(Path("."), exclude=True)

    def path(self, relative: str | Path) -> Path:
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path made absolute against the config's folder."""
        url = self.store.url
        match = re.match(r"^(sqlite(\+\w+)?:///)(.*)$", url)
        if match and match.group(3) and not match.group(3).startswith("/") and match.group(3) != ":memory:":
            return f"{match.group(1)}{self.path(match.group(3))}"
        return url


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith("function-") and not part.startswith("tagged-union"):
            text += f".{part}" if text else part
    return text or "(top level)"


def _expected_keys(model: type[Section], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where an unknown key was found, to say what was expected."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, Section):
                current = candidate
                break
            for inner in getattr(candidate, "__args__", ()):
                if isinstance(inner, type) and issubclass(inner, Section):
                    current = inner
                    break
    return sorted(getattr(current, "model_fields", {}))


def describe_errors(error: ValidationError, model: type[Section] = Config) -> list[str]:
    """`path: what was expected` lines. Input values are left out: they may be secrets."""
    problems = []
    for item in error.errors():
        where = _location(item["loc"])
        if item["type"] == "extra_forbidden":
            allowed = [key for key in _expected_keys(model, item["loc"]) if key != "base_dir"]
            hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
            problems.append(f"{where}: unknown key{hint}")
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        problems.append(f"{where}: {message}")
    return problems


def parse_config(document: dict[str, Any], base_dir: Path, environ: dict[str, str] | None = None) -> Config:
    """Validate an already-read config mapping."""
    secrets_file = document.get("secrets_file")
    resolver = SecretsResolver(
        (base_dir / str(secrets_file)) if secrets_file else None,
        environ=environ,
    )
    try:
        config = Config.model_validate({**document, "base_dir": base_dir}, context={"secrets": resolver})
    except ValidationError as error:
        raise ConfigError(describe_errors(error)) from None
    return config


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read and validate config.yaml (default: $QUAYSYNC_CONFIG, else the checkout's config.yaml)."""
    config_path = Path(path or os.environ.get("QUAYSYNC_CONFIG") or DEFAULT_CONFIG)
    if not config_path.exists():
        raise ConfigError([f"{config_path}: no such file"])
    try:
        document = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError([f"{config_path}: not valid YAML: {error}"]) from None
    if not isinstance(document, dict):
        raise ConfigError([f"{config_path}: expected a mapping at the top level"])
    return parse_config(document, config_path.resolve().parent, environ)
