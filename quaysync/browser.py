"""Which Chromium the bots drive, found automatically.

Playwright's own Chromium is preferred; where it could not be downloaded (closed networks), a
system Chromium is used with the flags a headless, sandbox-less, offline machine needs.
`QUAYSYNC_CHROMIUM` or config (`browser.executable_path`) overrides the search.

`python -m quaysync.browser --check` prints the choice and exits non-zero when there is none.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Without the background-networking flags a system Chromium on a closed network keeps opening
# refused connections; --no-sandbox is needed when running as root in containers.
SYSTEM_CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

# Playwright launches Chromium with its own `--disable-features=` list; Chromium reads only the
# last such switch, so ours repeats Playwright's (tests/bots/test_pieces.py checks it still holds
# every feature Playwright disables) and adds the ones that cost CPU for nothing here:
# SpareRendererForSitePerProcess keeps a spare renderer warm, and each cross-document navigation
# of a frame consumed it and started another (a zygote fork and a V8 start-up per search).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
    "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin",
    "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
    "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
)  # fmt: skip
LEAN_DISABLED_FEATURES = ("SpareRendererForSitePerProcess",)
LEAN_ARGS = ("--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + LEAN_DISABLED_FEATURES),)


@dataclass(frozen=True)
class BrowserChoice:
    """What to pass to `playwright.chromium.launch`."""

    executable_path: str | None  # None: Playwright's own build
    args: tuple[str, ...] = field(default=())
    origin: str = "playwright"

    def launch_options(self, headless: bool = True) -> dict[str, object]:
        options: dict[str, object] = {"headless": headless, "args": [*self.args, *LEAN_ARGS]}
        if self.executable_path:
            options["executable_path"] = self.executable_path
        return options


def _playwright_chromium() -> str | None:
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no driver or no browser registry: not usable
        return None
    return path if path and Path(path).exists() else None


def _system_chromium() -> str | None:
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromium(configured: str | None = None) -> BrowserChoice | None:
    """The browser to launch: configured path, then Playwright's own build, then the system's."""
    explicit = configured or os.environ.get("QUAYSYNC_CHROMIUM")
    if explicit and explicit != "auto":
        if not Path(explicit).exists():
            return None
        return BrowserChoice(explicit, SYSTEM_CHROMIUM_ARGS, origin="configured")
    bundled = _playwright_chromium()
    if bundled:
        return BrowserChoice(None, ("--disable-gpu",), origin="playwright")
    system = _system_chromium()
    if system:
        return BrowserChoice(system, SYSTEM_CHROMIUM_ARGS, origin="system")
    return None


def main(argv: list[str]) -> int:
    if argv[:1] != ["--check"]:
        print("usage: python -m quaysync.browser --check", file=sys.stderr)
        return 2
    choice = find_chromium()
    if choice is None:
        print("no Chromium found: neither Playwright's own build nor a system chromium", file=sys.stderr)
        return 1
    print(f"browser: {choice.origin} {choice.executable_path or '(playwright build)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
