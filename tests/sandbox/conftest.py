"""Fixtures for the sandbox portal tests: a portal per test (free port, pinned clock) and HTTP clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sandbox_portal_http import PortalClient, options

from sandbox.portal import RunningPortal, start_portal


@pytest.fixture
def make_portal() -> Iterator[Callable[..., RunningPortal]]:
    """Start a portal with test options (account ops, seed 7, pinned clock) plus overrides."""
    running: list[RunningPortal] = []

    def make(**overrides: object) -> RunningPortal:
        portal = start_portal(options(**overrides))
        running.append(portal)
        return portal

    yield make
    for portal in running:
        portal.stop()


@pytest.fixture
def portal(make_portal: Callable[..., RunningPortal]) -> RunningPortal:
    return make_portal()


@pytest.fixture
def make_client() -> Iterator[Callable[..., PortalClient]]:
    clients: list[PortalClient] = []

    def make(portal: RunningPortal, language: str = "en", timeout: float = 10.0) -> PortalClient:
        client = PortalClient(portal, language, timeout)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(portal: RunningPortal, make_client: Callable[..., PortalClient]) -> PortalClient:
    return make_client(portal)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One plain HTTP client for admin calls (a new httpx client per call costs an SSL context)."""
    with httpx.Client(timeout=10) as client:
        yield client
