"""Scrape throughput: 2,000 containers from the sandbox portal with 200 ms latency on every page.

The sandbox portal runs in a child process (its page rendering must not share the bot's GIL), with
2,100 containers, a pinned clock and `latency` on every page. The bot is the real path: one
Chromium, 4 browser contexts — 4 accounts (ops1..ops4) with concurrency 1 each, portal
concurrency 4 — each logging in once (cold state), searching 50 containers at a time and reading
each search through the "Export to Excel" download (the results form posted through the
context's HTTP client, `context.request`: the portal sleeps its latency on it like on any page),
parsing, and ingesting every batch into a SQLite store in its own transaction.

    bound_per_s = contexts × batch_size / (loads_per_batch × latency)
                = 4 × 50 / (2 × 0.2 s) = 500 containers/s

`loads_per_batch` is the fewest page loads the portal needs for one search of 50: the search
post and the export download (reading the grid instead needs the search and 2 more postbacks).
Logins, the frameset and the vessel page are left out of the bound, so efficiency (per_s /
bound_per_s) pays for them. `naive_per_s` is a straightforward script on a sample of 40: log in,
then for each container open the search page, search that one number, read the grid and ingest.
Memory: peak RSS of this process plus its browser processes (driver, Chromium, renderers),
sampled every 100 ms, shared pages counted once (the sum of each process's PSS; the plain sum of
RSS, which counts Chromium's shared pages once per process, is `peak_rss_sum_mb`); the portal's
process is not counted.

    .venv/bin/python bench/scrape.py [--containers 2000] [--latency 0.2] [--naive-sample 40]

The same scrape is then run once more with no latency at all (`per_s_without_latency`): what the
machine's CPU allows, whatever the portal's latency.

Last line of output: {"containers": 2000, "per_s": ..., "bound_per_s": ..., "efficiency": ...,
"logins": ..., "naive_per_s": ..., "peak_rss_mb": ..., "per_s_without_latency": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
from playwright.async_api import async_playwright

from bots import BotEngine, ScrapeOptions, ScrapeProgress
from parsers.portals.sandbox import parse_results
from quaysync.browser import find_chromium
from quaysync.config import parse_config
from quaysync.model import ParseContext
from store import open_store
from sync import ingest
from sync.pipeline import build_ingest_settings

ACCOUNTS = {f"ops{index}": f"bench-password-{index}-x" for index in range(1, 5)}
NAIVE = ("naive", "bench-password-naive")
PINNED = datetime(2026, 11, 8, 0, 0, tzinfo=UTC)
BATCH = 50
LOADS_PER_BATCH = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The portal, in its own process ------------------------------------------------------------


def _serve_portal(connection: Any, containers: int, latency: float) -> None:
    from sandbox.portal import PortalOptions, start_portal

    portal = start_portal(
        PortalOptions(
            accounts={**ACCOUNTS, NAIVE[0]: NAIVE[1]},
            containers=containers,
            latency=latency,
            clock_pinned=PINNED,
        )
    )
    connection.send((portal.url, [container.container_number for container in portal.world.containers]))
    connection.recv()  # until the parent says stop
    portal.stop()


class PortalProcess:
    def __init__(self, containers: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._parent, child = context.Pipe()
        self.process = context.Process(target=_serve_portal, args=(child, containers, latency), daemon=True)
        self.process.start()
        self.url, self.containers = self._parent.recv()
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def counters(self) -> dict[str, Any]:
        return self.http.get("/_sandbox/counters").json()

    def stop(self) -> None:
        self.http.close()
        self._parent.send("stop")
        self.process.join(15)
        if self.process.is_alive():
            self.process.kill()


# Memory ------------------------------------------------------------------------------------


class RssSampler:
    """Peak memory of this process and its descendants (the browser), the portal's process excepted.

    `peak` sums each process's PSS (its private pages plus its share of pages shared with the
    others): Chromium's processes map the same binary and shared memory, and summing their RSS
    counts those pages once per process. `peak_rss_sum` is that plain RSS sum, for comparison.
    The sampling runs in a process of its own, every 250 ms: reading every Chromium process's
    smaps in a thread of the bot's process would hold the bot's GIL and slow what is measured.
    """

    def __init__(self, excluded_pid: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._parent, child = context.Pipe()
        self._process = context.Process(
            target=_sample_memory, args=(child, os.getpid(), excluded_pid, 0.25), daemon=True
        )
        self.peak = 0
        self.peak_rss_sum = 0

    def __enter__(self) -> RssSampler:
        self._process.start()
        self._parent.recv()  # sampling has begun
        return self

    def __exit__(self, *_exc: object) -> None:
        self._parent.send("stop")
        self.peak, self.peak_rss_sum = self._parent.recv()
        self._process.join(10)


def _sample_memory(connection: Any, root_pid: int, excluded_pid: int, interval: float) -> None:
    root = psutil.Process(root_pid)
    me = os.getpid()
    peak = peak_rss_sum = 0
    connection.send("started")
    while not connection.poll(interval):
        excluded = {excluded_pid, me}
        with contextlib.suppress(psutil.Error):
            excluded |= {child.pid for child in psutil.Process(excluded_pid).children(recursive=True)}
        pss = rss = 0
        with contextlib.suppress(psutil.Error):
            for process in [root, *root.children(recursive=True)]:
                if process.pid in excluded:
                    continue
                with contextlib.suppress(psutil.Error):
                    info = process.memory_full_info()
                    pss += getattr(info, "pss", info.rss)
                    rss += info.rss
        peak, peak_rss_sum = max(peak, pss), max(peak_rss_sum, rss)
    connection.recv()
    connection.send((peak, peak_rss_sum))


# The bot -----------------------------------------------------------------------------------


def bench_config(workdir: Path, url: str) -> Any:
    document = {
        "data_dir": str(workdir / "var"),
        "store": {"url": f"sqlite:///{workdir / 'bench.db'}"},
        "sources": {
            "portals": [
                {
                    "name": "sandbox",
                    "family": "sandbox",
                    "base_url": url,
                    "time_zone": "America/Los_Angeles",
                    "concurrency": 4,
                    "timeout": "30s",
                    "accounts": [
                        {"username": name, "password": f"${{PW_{name.upper()}}}", "concurrency": 1}
                        for name in ACCOUNTS
                    ],
                }
            ]
        },
    }
    environ = {f"PW_{name.upper()}": password for name, password in ACCOUNTS.items()}
    return parse_config(document, workdir, environ=environ)


async def run_bot(config: Any, numbers: list[str]) -> tuple[float, Any]:
    store = open_store(config.store_url)
    last = [0.0]

    def progress(update: ScrapeProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= 1 or update.done == update.total:
            last[0] = now
            log(f"  {update.done}/{update.total} containers, {update.pages} pages, {update.logins} logins")

    try:
        async with BotEngine(config) as engine:
            await engine.pool.browser()  # a worker keeps its browser: launching is not part of a run
            started = time.perf_counter()
            result = await engine.scrape(
                config.sources.portals[0], numbers, store=store, progress=progress, options=ScrapeOptions()
            )
            elapsed = time.perf_counter() - started
    finally:
        store.dispose()
    return elapsed, result


# The naive script --------------------------------------------------------------------------


async def run_naive(config: Any, url: str, numbers: list[str], workdir: Path) -> float:
    """Log in, then one container per search: open the search page, search, read the grid, ingest."""
    store = open_store(f"sqlite:///{workdir / 'naive.db'}")
    settings = build_ingest_settings(config, "America/Los_Angeles")
    choice = find_chromium(config.browser.executable_path)
    assert choice is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**choice.launch_options())
        page = await browser.new_page()
        started = time.perf_counter()
        await page.goto(url + "Login.aspx")
        await page.fill("#txtUserName", NAIVE[0])
        await page.fill("#txtPassword", NAIVE[1])
        await page.click("#btnLogin")
        await page.wait_for_url("**/Default.aspx")
        for number in numbers:
            await page.goto(url + "Search.aspx")
            await page.fill("#txtContainers", number)
            async with page.expect_navigation():
                await page.click("#btnSearch")
            context = ParseContext("portal:sandbox", page.url, datetime.now(UTC), "America/Los_Angeles")
            observations = parse_results((await page.content()).encode(), context)
            with store.session() as session:
                ingest(session, observations, settings=settings)
        elapsed = time.perf_counter() - started
        await browser.close()
    store.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--naive-sample", type=int, default=40)
    args = parser.parse_args()

    portal = PortalProcess(args.containers + 100, args.latency)
    try:
        numbers = portal.containers[: args.containers]
        with tempfile.TemporaryDirectory(prefix="quaysync-bench-") as tmp:
            workdir = Path(tmp)
            config = bench_config(workdir, portal.url)
            log(f"bot: {len(numbers)} containers, 4 accounts x 1 page, latency {args.latency * 1000:.0f} ms")
            with RssSampler(portal.process.pid) as sampler:
                elapsed, result = asyncio.run(run_bot(config, numbers))
            counters = portal.counters()
            logins = sum(counters["logins"].get(name, 0) for name in ACCOUNTS)
            log(f"bot: {result.outcome} in {elapsed:.2f} s; {result.counts}")
            if result.outcome != "ok":
                log(f"bot errors: {result.errors[:3]}")

            # The same scrape with no latency at all, on a fresh store: what this machine's CPU
            # (Chromium, the portal, the bot) allows. Where it is not far above per_s, the
            # latency bound is not what limits the run.
            portal.http.post("/_sandbox/knobs", json={"latency": 0})
            (workdir / "unpaced").mkdir()
            unpaced_config = bench_config(workdir / "unpaced", portal.url)
            unpaced_elapsed, unpaced = asyncio.run(run_bot(unpaced_config, numbers))
            log(f"bot without latency: {unpaced.outcome} in {unpaced_elapsed:.2f} s")
            portal.http.post("/_sandbox/knobs", json={"latency": args.latency})

            sample = portal.containers[args.containers : args.containers + args.naive_sample]
            log(f"naive: {len(sample)} containers, one search each")
            naive_elapsed = asyncio.run(run_naive(config, portal.url, sample, workdir))
    finally:
        portal.stop()

    per_s = len(result.stored + result.not_found) / elapsed
    bound = 4 * BATCH / (LOADS_PER_BATCH * args.latency)
    naive_per_s = len(sample) / naive_elapsed
    figures = {
        "containers": len(numbers),
        "per_s": round(per_s, 1),
        "bound_per_s": round(bound, 1),
        "efficiency": round(per_s / bound, 3),
        "logins": logins,
        "naive_per_s": round(naive_per_s, 2),
        "peak_rss_mb": round(sampler.peak / 2**20, 1),
        "peak_rss_sum_mb": round(sampler.peak_rss_sum / 2**20, 1),
        "seconds": round(elapsed, 2),
        "outcome": result.outcome,
        "vs_naive": round(per_s / naive_per_s, 1),
        "per_s_without_latency": round(len(unpaced.stored + unpaced.not_found) / unpaced_elapsed, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
