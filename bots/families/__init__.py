"""Portal-family bots and their registry: `family` (config) → the bot class that navigates it.

Each public module here drives one portal family and registers itself with two names:

    FAMILY = "sandbox"
    BOT = SandboxBot          # a bots.families.base.PortalBot subclass

Adding a portal is dropping a module here (and its parser in parsers/portals). Modules whose name
starts with "_" are helpers, `base` is the shared base class. A family may be named with a
terminal suffix in config ("tideworks_a295" uses "tideworks"), as for parsers.
"""

from __future__ import annotations

import importlib
import pkgutil

from bots.families.base import Capture, PortalBot
from quaysync.errors import ConfigError

_SKIP = {"base"}
_REGISTRY: dict[str, type[PortalBot]] | None = None


def _registry() -> dict[str, type[PortalBot]]:
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, type[PortalBot]] = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name in _SKIP:
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            family, bot = getattr(module, "FAMILY", None), getattr(module, "BOT", None)
            if not isinstance(family, str) or not (isinstance(bot, type) and issubclass(bot, PortalBot)):
                continue
            if family in found:
                raise RuntimeError(f"two bot modules register family {family!r}")
            found[family] = bot
        _REGISTRY = found
    return _REGISTRY


def families() -> list[str]:
    """Every family a bot exists for, sorted."""
    return sorted(_registry())


def bot_class(family: str) -> type[PortalBot]:
    """The bot for `family` ('sandbox', or 'sandbox_<terminal>'); ConfigError when there is none."""
    registry = _registry()
    name = family.strip().lower()
    if name in registry:
        return registry[name]
    base, _, terminal = name.rpartition("_")
    if base in registry and terminal:
        return registry[base]
    known = ", ".join(sorted(registry)) or "none"
    raise ConfigError([f"family {family!r}: no bot for this portal family (bots exist for: {known})"])


__all__ = ["Capture", "PortalBot", "bot_class", "families"]
