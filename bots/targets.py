"""Which containers a run asks a portal for, in what batches."""

from __future__ import annotations

from sqlalchemy import select

from quaysync.config import Config, PortalSource
from quaysync.errors import BadInputError
from store import ContainerStatusRow, Store


def clean_numbers(raw_numbers: list[str]) -> list[str]:
    """Upper-case, spaces removed, duplicates dropped, order kept.

    Numbers with a wrong check digit are still asked for: the portal's answer ("invalid") is
    recorded on the container by sync, which is how a business error is reported.
    """
    seen: dict[str, None] = {}
    for raw in raw_numbers:
        number = "".join(str(raw).split()).upper()
        if number:
            seen.setdefault(number, None)
    return list(seen)


def active_containers(store: Store) -> list[str]:
    """Containers the store is tracking (`container_status.tracking == 'active'`), sorted."""
    with store.session() as session:
        rows = session.execute(
            select(ContainerStatusRow.container_number)
            .where(ContainerStatusRow.tracking == "active")
            .order_by(ContainerStatusRow.container_number)
        )
        return [number for (number,) in rows]


def batches(numbers: list[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [numbers[start : start + size] for start in range(0, len(numbers), size)]


def find_portal(config: Config, name: str) -> PortalSource:
    for portal in config.sources.portals:
        if portal.name == name:
            return portal
    known = ", ".join(portal.name for portal in config.sources.portals) or "none configured"
    raise BadInputError(f"no portal named {name!r} in the config (portals: {known})")
