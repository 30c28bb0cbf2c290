"""bots/ — Playwright bots that log in to terminal portals and hand what they read to sync/.

Public API (for the worker and the CLI):

    scrape_portal(config, portal, container_numbers=None, *, store, trigger="manual",
                  progress=None, stop_event=None, options=None, engine=None) -> ScrapeResult   (async)
    scrape_portal_sync(...same..., engine: EngineThread | None = None) -> ScrapeResult
    BotEngine(config)        one Chromium kept across runs (async); .scrape(portal, ...), .close()
    EngineThread(config)     the same on its own loop thread, for threaded callers
    ScrapeOptions, ScrapeProgress, ScrapeResult, FailedContainer

Layout: browser (pool, orphan-free close), sessions (storage_state files), limits (concurrency,
rate), retry (tenacity policy), tab (a page and its loads), account (context, login, recycling),
evidence + masking (failure evidence, secrets masked), families/ (one bot per portal family,
navigation only), runner (one run), engine (entry points), recorder (recordings/), cli.
"""

from bots.engine import BotEngine, EngineThread, scrape_portal, scrape_portal_sync
from bots.result import FailedContainer, ScrapeOptions, ScrapeProgress, ScrapeResult

__all__ = [
    "BotEngine",
    "EngineThread",
    "FailedContainer",
    "ScrapeOptions",
    "ScrapeProgress",
    "ScrapeResult",
    "scrape_portal",
    "scrape_portal_sync",
]
