"""Helpers of the worker tests: free ports, configs, the main job as a subprocess, waiting on conditions."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil
import yaml

from sandbox.credentials import ensure_credentials

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def embedded_config(folder: Path, *, portal: dict[str, Any] | None = None, **changes: Any) -> Path:
    """A copy of the checkout's config.yaml (the embedded default) in `folder`, on free ports.

    `changes` are merged into the document (nested dicts are merged, other values replaced);
    `portal` is merged into every portal entry.
    """
    document = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    _merge(document, changes)
    portal_port, imap_port, smtp_port, api_port = (free_port() for _ in range(4))
    document["sandbox"].update(portal_port=portal_port, imap_port=imap_port)
    for entry in document["sources"]["portals"]:
        entry.update(portal or {})
        entry["base_url"] = f"http://127.0.0.1:{portal_port}/"
    for mailbox in document["sources"]["mailboxes"]:
        mailbox["port"] = imap_port
    for channel in document["notifications"]["channels"]:
        if channel.get("kind") == "smtp":
            channel["smtp_port"] = smtp_port
    document["api"]["port"] = api_port
    ensure_credentials(folder / "var" / "secrets.yaml")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_config(folder: Path, document: dict[str, Any]) -> Path:
    document = {
        "data_dir": "var",
        "store": {"url": "sqlite:///var/quaysync.db"},
        "api": {"host": "127.0.0.1", "port": 0},
        **document,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


@dataclass
class WorkerProcess:
    """`python run.py --config CONFIG run` as a real subprocess, its output in files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    config: dict[str, Any]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.config['api']['port']}"

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def api_key(self) -> str | None:
        match = re.search(r"API key\s+(qsk_\S+)", self.output())
        return match.group(1) if match else None

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def descendants_named(self, part: str) -> list[psutil.Process]:
        """Live descendants whose name contains `part` (one that exits while listed is left out)."""
        named = []
        for process in self.descendants():
            try:
                if part in process.name().lower():
                    named.append(process)
            except psutil.NoSuchProcess:
                continue
        return named

    def terminate(self, timeout: float = 15.0) -> float:
        """SIGTERM; the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout)
        return time.monotonic() - started

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.process.poll() is None:
                for child in self.descendants():
                    with contextlib.suppress(psutil.Error):
                        child.kill()
                self.process.kill()
                self.process.wait(10)


def start_worker(config_path: Path, *, args: tuple[str, ...] = ()) -> WorkerProcess:
    folder = config_path.parent
    stdout, stderr = folder / "worker.out", folder / "worker.err"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("QUAYSYNC_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--config", str(config_path), "run", *args],
        cwd=REPO,
        stdout=stdout.open("wb"),
        stderr=stderr.open("wb"),
        env=env,
    )
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return WorkerProcess(process, stdout, stderr, config)


def run_cli(*args: str, config_path: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("QUAYSYNC_CONFIG", None)
    return subprocess.run(
        [sys.executable, str(REPO / "run.py"), "--config", str(config_path), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def alive_after_exit(processes: list[psutil.Process], wait: float = 2.0) -> list[int]:
    """The pids among `processes` (taken while their parent ran) still running after a short wait."""
    deadline = time.monotonic() + wait
    alive = processes
    while True:
        alive = [process for process in alive if _running(process)]
        if not alive or time.monotonic() > deadline:
            return [process.pid for process in alive]
        time.sleep(0.1)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
