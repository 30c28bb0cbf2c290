"""What a portal family's bot is: navigation only. The page bytes go to the family's parser.

A bot knows how to sign in, how to bring a page to the portal's start (frames and all), how to
search a batch of containers and page through or export the results, and where the detail and
vessel schedule pages are. It returns `Capture`s — the page bytes and which parser page reads
them — and raises the taxonomy's errors for what the portal answers instead (session expired,
CAPTCHA, maintenance, a page it does not know). It never parses facts and never touches the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from bots.tab import Loaded, Tab
from quaysync.config import PortalSource
from quaysync.errors import BadInputError


class BatchTooLarge(BadInputError):
    """The portal refused a search as too many numbers: the runner splits the batch and goes on."""


@dataclass(frozen=True)
class Capture:
    """Page bytes for the family parser: `page` names the parser page (see parsers.portals)."""

    page: str
    content: bytes
    url: str
    filename: str | None = None

    @classmethod
    def of(cls, page: str, loaded: Loaded) -> Capture:
        return cls(page, loaded.content, loaded.url, loaded.filename)


class PortalBot(ABC):
    """Base of every family bot. One instance per run; methods are called per browser page (Tab)."""

    family: ClassVar[str]
    # Containers one search takes (the portal's limit); config `batch_size` may lower it.
    max_batch: ClassVar[int]
    # How results are read: the first is the default. E.g. ("export", "pages").
    modes: ClassVar[tuple[str, ...]] = ("pages",)
    # Whether `vessels()` / `detail()` / `export()` exist for this family.
    has_vessels: ClassVar[bool] = False
    has_details: ClassVar[bool] = False
    has_export: ClassVar[bool] = False

    def __init__(self, portal: PortalSource, mode: str | None = None) -> None:
        self.portal = portal
        chosen = mode or self.modes[0]
        if chosen not in self.modes:
            raise ValueError(f"{self.family} bot: unknown mode {chosen!r}; modes: {', '.join(self.modes)}")
        self.mode = chosen

    @abstractmethod
    async def open(self, tab: Tab) -> None:
        """Bring the tab to the signed-in start page; SessionExpired when the portal wants a login."""

    @abstractmethod
    async def login(self, tab: Tab, username: str, password: str) -> None:
        """Sign in and land on the start page; BlockedError when the portal refuses (and why)."""

    @abstractmethod
    async def search(self, tab: Tab, container_numbers: list[str]) -> list[Capture]:
        """Search one batch from the start page; every page (or the export) of its results."""

    async def detail(self, tab: Tab, container_number: str) -> Capture | None:
        """The container-detail page, where the family has one."""
        return None

    async def export(self, tab: Tab) -> Capture | None:
        """The results of the search on screen as the portal's download, where the family has one."""
        return None

    async def vessels(self, tab: Tab) -> Capture | None:
        """The vessel schedule / berth status page, where the family has one."""
        return None

    def loads_per_batch(self, batch_size: int) -> int:
        """The fewest page loads one batch of `batch_size` needs (for throughput bounds)."""
        return 1
