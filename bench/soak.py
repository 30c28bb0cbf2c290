"""Soak: the main job (`run.py run`) on the embedded default at a fast schedule for 10 minutes.

The worker runs as a real subprocess on a temporary copy of config.yaml (free ports, its own
SQLite store and secrets): the sandbox portal scraped every 10 s (`--schedule`), the sandbox
mailbox watched (IMAP IDLE, polled every 10 s at the latest), rules every minute, the outbox
every 10 s, the API up. Every `--sample-every` seconds the resident memory of the worker and all
its descendants (Playwright's driver, Chromium and its renderers) is summed (RSS; PSS, which
counts shared pages once, alongside). At the end the worker gets SIGTERM; any process it started
that is still alive 3 s after it exited is an orphan.

Memory figures are medians over a window, so one sample taken mid-scrape (renderers up) against
one taken between scrapes does not decide the result: start = the first 30 s, after 2 min =
1:30-2:30, end = the last minute. Target: end within 15 % of the value after two minutes.

    .venv/bin/python bench/soak.py [--minutes 10] [--schedule 10s] [--sample-every 5]

Last line of output: {"runs": ..., "failed_runs": ..., "rss_start_mb": ..., "rss_after_2min_mb": ...,
"rss_end_mb": ..., "growth_after_2min_pct": ..., "orphans": 0, ...}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.credentials import ensure_credentials  # noqa: E402

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def soak_config(folder: Path, schedule: str) -> Path:
    document = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    portal_port, imap_port, smtp_port, api_port = (free_port() for _ in range(4))
    document["sandbox"].update(portal_port=portal_port, imap_port=imap_port)
    for portal in document["sources"]["portals"]:
        portal.update(base_url=f"http://127.0.0.1:{portal_port}/", schedule=schedule, jitter="0s")
    for mailbox in document["sources"]["mailboxes"]:
        mailbox.update(port=imap_port, schedule=schedule)
    for channel in document["notifications"]["channels"]:
        if channel.get("kind") == "smtp":
            channel["smtp_port"] = smtp_port
    document["api"]["port"] = api_port
    ensure_credentials(folder / "var" / "secrets.yaml")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def sample(root: psutil.Process) -> tuple[float, float, list[psutil.Process]]:
    """(RSS sum, PSS sum) in MB of `root` and its descendants, and those processes."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0, []
    rss = pss = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            info = process.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss / MB, pss / MB, processes


def median(samples: list[tuple[float, float, float]], start: float, end: float, index: int) -> float | None:
    values = [item[index] for item in samples if start <= item[0] < end]
    return round(statistics.median(values), 1) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--schedule", default="10s", help="portal schedule (and the mailbox's fallback poll)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="quaysync-soak-"))
    config_path = soak_config(folder, args.schedule)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("QUAYSYNC_CONFIG", None)
    log_path = folder / "worker.err"
    print(f"soak: {args.minutes:g} min, schedule {args.schedule}, folder {folder}", file=sys.stderr)
    with log_path.open("wb") as log, (folder / "worker.out").open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), "--config", str(config_path), "run"],
            cwd=REPO,
            stdout=out,
            stderr=log,
            env=env,
        )
    root = psutil.Process(worker.pid)
    seen: dict[tuple[int, float], psutil.Process] = {}
    samples: list[tuple[float, float, float]] = []  # (seconds since start, rss MB, pss MB)
    started = time.monotonic()
    duration = args.minutes * 60
    next_report = 0.0
    try:
        while (elapsed := time.monotonic() - started) < duration:
            if worker.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                print(f"soak: the worker exited early ({worker.returncode}):\n{tail}", file=sys.stderr)
                return 1
            rss, pss, processes = sample(root)
            for process in processes[1:]:
                with contextlib.suppress(psutil.Error):
                    seen[(process.pid, process.create_time())] = process
            samples.append((elapsed, rss, pss))
            if elapsed >= next_report:
                print(
                    f"soak: {elapsed / 60:4.1f} min  rss {rss:7.1f} MB  pss {pss:7.1f} MB  "
                    f"processes {len(processes)}",
                    file=sys.stderr,
                )
                next_report = elapsed + 30
            time.sleep(args.sample_every)  # a bench's pacing, not synchronisation
    finally:
        stop_started = time.monotonic()
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
        stop_seconds = time.monotonic() - stop_started
    deadline = time.monotonic() + 3
    orphans = list(seen.values())
    while orphans and time.monotonic() < deadline:
        orphans = [process for process in orphans if _alive(process)]
        time.sleep(0.2)
    orphans = [process for process in orphans if _alive(process)]
    for process in orphans:
        with contextlib.suppress(psutil.Error):
            process.kill()

    engine = create_engine(f"sqlite:///{folder / 'var' / 'quaysync.db'}")
    with engine.connect() as connection:
        by_outcome = dict(
            connection.execute(
                text("SELECT outcome, count(*) FROM run WHERE source LIKE 'portal:%' OR source LIKE 'mail:%' "
                     "GROUP BY outcome")
            ).all()
        )  # fmt: skip
        scrapes = connection.execute(text("SELECT count(*) FROM run WHERE source LIKE 'portal:%'")).scalar()
        containers = connection.execute(text("SELECT count(*) FROM container_status")).scalar()
    engine.dispose()

    end = samples[-1][0] if samples else 0.0
    start_mb = median(samples, 0, 30, 1)
    after_2 = median(samples, 90, 150, 1)
    end_mb = median(samples, end - 60, end + 1, 1)
    growth = round((end_mb - after_2) / after_2 * 100, 1) if after_2 and end_mb else None
    figures: dict[str, Any] = {
        "runs": sum(by_outcome.values()),
        "failed_runs": sum(by_outcome.get(name, 0) for name in ("failed", "blocked", "layout_changed")),
        "rss_start_mb": start_mb,
        "rss_after_2min_mb": after_2,
        "rss_end_mb": end_mb,
        "growth_after_2min_pct": growth,
        "orphans": len(orphans),
        "scrapes": scrapes,
        "outcomes": by_outcome,
        "containers": containers,
        "pss_after_2min_mb": median(samples, 90, 150, 2),
        "pss_end_mb": median(samples, end - 60, end + 1, 2),
        "rss_max_mb": round(max((item[1] for item in samples), default=0.0), 1),
        "minutes": args.minutes,
        "stop_seconds": round(stop_seconds, 2),
        "exit_code": worker.returncode,
    }
    print(json.dumps(figures))
    return 0


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


if __name__ == "__main__":
    sys.exit(main())
