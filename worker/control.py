"""What a person decides about a source: paused, and blocked accounts cleared — in `source_state`.

    source_state(source="portal:sandbox", key="control", value={"paused": true, "since": ISO, "by": ...})
    source_state(source="mail:NAME", key="blocked:<user>", value={...})   as bots/blocked.py writes them

A paused source is skipped by the scheduler (and its mailbox watcher stops) until resumed.
A blocked account (wrong password, CAPTCHA, locked) stops its source's scheduled runs until a
person clears it with `run.py resume SOURCE` — retrying by itself would only lock the account.
A maintenance window's entry ends by itself at its `until`.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from quaysync.errors import BlockedError, LoginRejected
from store import SourceStateRow, Store

CONTROL_KEY = "control"
BLOCKED_PREFIX = "blocked:"


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def control_of(session: Session, source: str) -> dict[str, Any]:
    row = session.get(SourceStateRow, (source, CONTROL_KEY))
    return dict(row.value or {}) if row is not None else {}


def is_paused(session: Session, source: str) -> bool:
    return bool(control_of(session, source).get("paused"))


def paused_sources(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(SourceStateRow).where(SourceStateRow.key == CONTROL_KEY)).scalars()
    return {row.source: dict(row.value or {}) for row in rows if (row.value or {}).get("paused")}


def set_paused(store: Store, source: str, paused: bool, *, by: str | None = None) -> bool:
    """Pause or resume `source`; whether anything changed."""
    now = datetime.now(UTC)
    with store.session() as session:
        current = control_of(session, source)
        if bool(current.get("paused")) == paused:
            return False
        value = {**current, "paused": paused, "since": now.isoformat(), "by": by or _who()}
        session.merge(SourceStateRow(source=source, key=CONTROL_KEY, value=value, updated_at=now))
    return True


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def blocked_entries(session: Session, source: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """The blocked accounts of `source` in force now (a passed maintenance window is not)."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(SourceStateRow).where(
            SourceStateRow.source == source, SourceStateRow.key.startswith(BLOCKED_PREFIX)
        )
    ).scalars()
    entries = {}
    for row in rows:
        value = dict(row.value or {})
        until = _moment(value.get("until"))
        if until is not None and until <= now:
            continue
        entries[row.key.removeprefix(BLOCKED_PREFIX)] = value
    return entries


def all_blocked(session: Session, now: datetime | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """source → account → entry, for every source with blocked accounts now."""
    now = now or datetime.now(UTC)
    sources = session.execute(
        select(SourceStateRow.source).where(SourceStateRow.key.startswith(BLOCKED_PREFIX)).distinct()
    ).scalars()
    found = {}
    for source in sources:
        entries = blocked_entries(session, source, now)
        if entries:
            found[source] = entries
    return found


def clear_blocked(session: Session, source: str) -> list[str]:
    """Forget `source`'s blocked accounts (a person fixed the cause); the accounts cleared."""
    rows = session.execute(
        select(SourceStateRow.key).where(
            SourceStateRow.source == source, SourceStateRow.key.startswith(BLOCKED_PREFIX)
        )
    ).scalars()
    accounts = [key.removeprefix(BLOCKED_PREFIX) for key in rows]
    if accounts:
        session.execute(
            delete(SourceStateRow).where(
                SourceStateRow.source == source, SourceStateRow.key.startswith(BLOCKED_PREFIX)
            )
        )
    return accounts


def record_mail_blocked(
    session: Session, mailbox: str, account: str, error: BlockedError | str, *, run_id: int | None
) -> dict[str, Any]:
    """A mailbox whose server refused the login: its runs stop until `run.py resume mail:NAME`."""
    now = datetime.now(UTC)
    message = error.message if isinstance(error, BlockedError) else str(error)
    # An IMAP server blocks one way: it refuses the login (mailbox.watch_mailbox re-raises that as
    # a plain BlockedError); other kinds of block are portal things.
    specific = isinstance(error, BlockedError) and type(error) not in (BlockedError, LoginRejected)
    kind = "blocked" if specific else "login_rejected"
    value = {
        "kind": kind,
        "reason": message,
        "action": (
            f"check the user name and password of {account} for mailbox {mailbox} (config/secrets), "
            f"then run `run.py resume mail:{mailbox}`"
        ),
        "since": now.isoformat(),
        "until": None,
        "run_id": run_id,
        "evidence": [],
    }
    session.merge(
        SourceStateRow(source=f"mail:{mailbox}", key=BLOCKED_PREFIX + account, value=value, updated_at=now)
    )
    return value
