"""Which template reads a mail: the first route whose every given condition matches.

A route (config.yaml `sources.mailboxes[].routes`, `quaysync.config.sources.MailRoute`) has a
template name and up to three conditions: a regular expression on the sender address (matched
case-insensitively: addresses are), a regular expression on the decoded subject (as written; add
(?i) for case-insensitive), and a glob on attachment file names (any attachment may match;
case-insensitive). No route matches → None: the caller quarantines the mail as "needs template",
never guesses.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from parsers.email.message import MailMessage


class Route(Protocol):
    """What routing reads of a route (MailRoute has these fields)."""

    @property
    def template(self) -> str: ...
    @property
    def sender(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def attachment(self) -> str | None: ...


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def route_matches(message: MailMessage, route: Route) -> bool:
    if route.sender is not None and not _compiled(route.sender, re.IGNORECASE).search(message.sender):
        return False
    if route.subject is not None and not _compiled(route.subject, 0).search(message.subject):
        return False
    if route.attachment is not None:
        glob = route.attachment.lower()
        if not any(fnmatch.fnmatchcase(item.filename.lower(), glob) for item in message.attachments):
            return False
    return True


def choose_template(message: MailMessage, routes: Sequence[Route]) -> str | None:
    """The template of the first matching route, or None (quarantine as "needs template")."""
    for route in routes:
        if route_matches(message, route):
            return route.template
    return None
