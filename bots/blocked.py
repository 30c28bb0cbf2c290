"""Blocked accounts, remembered in the store so later runs, `doctor` and alerts see them.

    source_state(source="portal:NAME", key="blocked:<account>", value={
        "kind": "captcha" | "account_locked" | "login_rejected" | "maintenance" | "blocked",
        "reason": what the portal said, "action": what a person must do,
        "since": ISO UTC, "until": ISO UTC or null (maintenance: the portal's Retry-After),
        "run_id": N, "evidence": [paths]})

A run skips a blocked account (no hammering: a wrong password retried every minute locks the
account) until a person clears the entry (`run.py scrape NAME --retry-blocked`) or, for a
maintenance window, until `until` has passed. A successful sign-in clears it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from quaysync.errors import AccountLocked, BlockedError, CaptchaRequired, LoginRejected, MaintenanceWindow
from store import SourceStateRow

PREFIX = "blocked:"
MAINTENANCE_PAUSE = timedelta(minutes=30)


def source_name(portal: str) -> str:
    return f"portal:{portal}"


def describe(error: BlockedError, portal: str, account: str) -> tuple[str, str]:
    """(kind, what a person must do) for a blocked error."""
    again = f"then run `run.py scrape {portal} --retry-blocked`"
    if isinstance(error, CaptchaRequired):
        return "captcha", f"sign in to {portal} as {account} in a browser and solve the CAPTCHA, {again}"
    if isinstance(error, AccountLocked):
        return "account_locked", f"ask the terminal to unlock the account {account} on {portal}, {again}"
    if isinstance(error, LoginRejected):
        return "login_rejected", (
            f"check the user name and password of {account} for {portal} (config/secrets), {again}"
        )
    if isinstance(error, MaintenanceWindow):
        return "maintenance", f"{portal} is in maintenance; runs resume by themselves after the window"
    return "blocked", f"look at the evidence of the run, fix what {portal} asks for, {again}"


def record_blocked(
    session: Session,
    portal: str,
    account: str,
    error: BlockedError,
    *,
    run_id: int | None,
    evidence: list[str],
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    kind, action = describe(error, portal, account)
    until = now + MAINTENANCE_PAUSE if isinstance(error, MaintenanceWindow) else None
    value = {
        "kind": kind,
        "reason": error.message,
        "action": action,
        "since": now.isoformat(),
        "until": until.isoformat() if until else None,
        "run_id": run_id,
        "evidence": evidence,
    }
    session.merge(
        SourceStateRow(source=source_name(portal), key=PREFIX + account, value=value, updated_at=now)
    )
    return value


def clear_blocked(session: Session, portal: str, account: str) -> None:
    session.execute(
        delete(SourceStateRow).where(
            SourceStateRow.source == source_name(portal), SourceStateRow.key == PREFIX + account
        )
    )


def blocked_accounts(session: Session, portal: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Accounts of `portal` blocked now (a maintenance entry past its `until` no longer counts)."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(SourceStateRow).where(
            SourceStateRow.source == source_name(portal), SourceStateRow.key.startswith(PREFIX)
        )
    ).scalars()
    blocked = {}
    for row in rows:
        until = (row.value or {}).get("until")
        if until and datetime.fromisoformat(until) <= now:
            continue
        blocked[row.key.removeprefix(PREFIX)] = dict(row.value or {})
    return blocked
