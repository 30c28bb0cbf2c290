"""Serving the portal on loopback in a background thread: `start_portal(options) -> RunningPortal`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from sandbox.portal.app import build_app
from sandbox.portal.options import PortalOptions, apply_knobs, knob_values
from sandbox.portal.routes import Portal
from sandbox.world import World, WorldClock

_START_TIMEOUT = 15.0


class RunningPortal:
    """A portal serving in a background thread. Knobs change live; `stop()` (or `with`) ends it."""

    def __init__(self, portal: Portal, server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
        self._portal = portal
        self._server = server
        self._thread = thread
        host = portal.options.host
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
        self.port = port

    @property
    def options(self) -> PortalOptions:
        """The live options; change knobs with `configure` so values are checked."""
        return self._portal.options

    @property
    def world(self) -> World:
        return self._portal.world

    @property
    def clock(self) -> WorldClock:
        return self._portal.clock

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs now (same names and checks as POST /_sandbox/knobs); returns every knob."""
        apply_knobs(self._portal.options, knobs)
        return knob_values(self._portal.options)

    def counters(self) -> dict[str, Any]:
        return self._portal.counters.snapshot()

    def logins(self, username: str) -> int:
        return self._portal.counters.logins(username)

    def reset_counters(self) -> None:
        self._portal.counters.reset()

    def reset_sessions(self) -> int:
        return self._portal.sessions.reset()

    def age_sessions(self, seconds: float) -> None:
        """Let `seconds` pass for every session's idle and maximum-age timers."""
        self._portal.sessions.age(seconds)

    def solve_captcha(self) -> None:
        self._portal.options.captcha = None
        self._portal.counters.add("captchas_solved")

    def unlock(self, username: str) -> bool:
        return self._portal.accounts.unlock(username)

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        loop, stopping = self._portal.loop, self._portal.stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopping.set)  # wake hanging and slow pages
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"sandbox portal at {self.url} did not stop within {timeout} s")

    def __enter__(self) -> RunningPortal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_portal(
    options: PortalOptions | None = None, *, world: World | None = None, clock: WorldClock | None = None
) -> RunningPortal:
    """Serve the portal on `options.host:options.port` (0: a free port) until `stop()`.

    Pass `world`/`clock` to share them with the sandbox mailbox (one world, two sources).
    """
    options = dataclasses.replace(options) if options is not None else PortalOptions()
    if not options.accounts:
        raise ValueError("PortalOptions.accounts is empty: nobody could log in")
    apply_knobs(options, knob_values(options))  # the start-up knobs get the run-time checks
    world = world or World(seed=options.seed, containers=options.containers, epoch=options.epoch)
    clock = clock or WorldClock(
        epoch=options.start_moment(), speed=options.clock_speed, pinned=options.clock_pinned
    )
    portal = Portal(options, world, clock)

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets of that protocol, and
    # without it every response waits ~40 ms for delayed ACKs (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
        # Listen now: `ready` is set from the app's lifespan start-up, before uvicorn listens on
        # the socket itself, and a client connecting in between would be refused.
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    port = sock.getsockname()[1]

    ready = threading.Event()
    config = uvicorn.Config(
        build_app(portal, ready),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as error:  # reported to the starting thread below
            failure.append(error)
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"sandbox-portal-{port}", daemon=True)
    thread.start()
    if not ready.wait(_START_TIMEOUT) or failure:
        server.should_exit = True
        thread.join(5)
        raise RuntimeError(
            f"sandbox portal did not start on port {port}: {failure[0] if failure else 'timeout'}"
        )
    return RunningPortal(portal, server, thread, port)
