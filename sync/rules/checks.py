"""Checks across config sections that one section's validation cannot see: rule names, the
channels rules notify, the templates they use. Same `path: what was expected` lines as load_config."""

from __future__ import annotations

from quaysync.config import Config
from quaysync.errors import ConfigError
from sync.messages import template_names


def config_problems(config: Config) -> list[str]:
    problems = []
    channels = {channel.name: channel for channel in config.notifications.channels}
    known_channels = ", ".join(sorted(channels)) or "none defined"
    customer_templates = template_names("customer")
    seen: set[str] = set()
    for index, rule in enumerate(config.rules):
        where = f"rules[{index}]"
        if rule.name in seen:
            problems.append(f"{where}.name: rule {rule.name!r} is defined twice")
        seen.add(rule.name)
        for position, name in enumerate(rule.notify):
            channel = channels.get(name)
            if channel is None:
                problems.append(
                    f"{where}.notify[{position}]: unknown channel {name!r} (channels: {known_channels})"
                )
            elif channel.kind == "smtp" and not channel.mail_to:
                problems.append(f"{where}.notify[{position}]: channel {name!r} has no mail_to for staff")
            elif channel.kind != "smtp" and not channel.url:
                problems.append(f"{where}.notify[{position}]: channel {name!r} has no url for staff")
        if rule.customer_template is not None:
            if rule.customer_template not in customer_templates:
                problems.append(
                    f"{where}.customer_template: no template {rule.customer_template!r} "
                    f"(known: {', '.join(customer_templates)})"
                )
            if rule.when in ("source_blocked", "layout_changed"):
                problems.append(
                    f"{where}.customer_template: a {rule.when} rule is about a source, not a customer"
                )
    return problems


def check_config(config: Config) -> None:
    """Raise ConfigError listing every problem of the rules and notifications sections."""
    problems = config_problems(config)
    if problems:
        raise ConfigError(problems)
