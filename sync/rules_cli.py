"""Commands: notifications (delivery states, retry), hotspots, rules check, review (manual review)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy import select, update

from quaysync.cli import abort, config, handles_errors, opened_store, print_json, print_table
from quaysync.config import parse_duration
from store import AlertRow, OutboxRow

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
STATES = ("pending", "sent", "dead")


def register(app: typer.Typer) -> None:
    notifications = typer.Typer(
        help="Notifications and customer messages in the outbox, with their delivery state.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    notifications.callback(invoke_without_command=True)(notifications_command)
    notifications.command("retry")(retry_command)
    app.add_typer(notifications, name="notifications")
    app.command("hotspots")(hotspots_command)
    rules = typer.Typer(help="The rules of config.yaml: evaluate them now.", no_args_is_help=True)
    rules.command("check")(rules_check_command)
    app.add_typer(rules, name="rules")
    review = typer.Typer(
        help="Manual-review items: what needs a person, with everything known.", no_args_is_help=True
    )
    review.command("list")(review_list_command)
    review.command("show")(review_show_command)
    review.command("resolve")(review_resolve_command)
    app.add_typer(review, name="review")


def _moment(text: str | None, option: str) -> datetime | None:
    """'2026-11-20T08:00Z', '2026-11-20', or a duration back from now ('7d')."""
    if text is None:
        return None
    back = parse_duration(text)
    if back is not None:
        return datetime.now(UTC) - back
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        abort(f"{option}: {text!r} is neither an ISO date/time nor a duration (e.g. 7d)", 2)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@handles_errors
def notifications_command(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="pending, sent or dead")] = None,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="notification or customer (default both; 'all' adds other rooms' kinds)"),
    ] = None,
    container: Annotated[str | None, typer.Option(help="only messages about this container")] = None,
    alert: Annotated[int | None, typer.Option(help="only messages of this alert id")] = None,
    since: Annotated[str | None, typer.Option(help="queued since (ISO date/time or e.g. 7d)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
    as_json: JsonOption = False,
) -> None:
    """What was queued for staff and customers, and whether it was delivered."""
    if ctx.invoked_subcommand is not None:
        return
    if state is not None and state not in STATES:
        abort(f"--state: {state!r} is not one of {', '.join(STATES)}", 2)
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if kind != "all":
        query = query.where(OutboxRow.kind.in_([kind] if kind else ["notification", "customer"]))
    if state:
        query = query.where(OutboxRow.state == state)
    if channel:
        query = query.where(OutboxRow.channel == channel)
    if alert is not None:
        query = query.where(OutboxRow.alert_id == alert)
    if container:
        alert_ids = select(AlertRow.id).where(AlertRow.subject == container.strip().upper())
        query = query.where(OutboxRow.alert_id.in_(alert_ids))
    moment = _moment(since, "--since")
    if moment is not None:
        query = query.where(OutboxRow.created_at >= moment)
    with opened_store() as store, store.session() as session:
        items = session.execute(query).scalars().all()
    if as_json:
        print_json(
            [
                {
                    **item.model_dump(exclude={"payload"}),
                    "title": item.payload.get("title"),
                    "language": item.payload.get("language"),
                    "message_id": item.payload.get("id"),
                }
                for item in items
            ]
        )
        return
    print_table(
        "Notifications",
        ("id", "queued", "channel", "kind", "state", "tries", "next try / sent", "title", "last error"),
        [
            (
                item.id,
                _short(item.created_at),
                item.channel,
                item.kind,
                item.state,
                item.attempts,
                _short(item.sent_at) if item.state == "sent" else _short(item.next_attempt_at),
                escape(str(item.payload.get("title", ""))[:80]),
                escape((item.last_error or "")[:80]),
            )
            for item in items
        ],
    )


@handles_errors
def retry_command(
    ids: Annotated[list[int] | None, typer.Argument(help="outbox ids to send again")] = None,
    dead: Annotated[
        bool, typer.Option("--dead", help="every dead notification and customer message")
    ] = False,
) -> None:
    """Give dead (or waiting) items a fresh set of attempts, due now."""
    if not ids and not dead:
        abort("name outbox ids, or --dead for all dead items", 2)
    statement = update(OutboxRow).where(
        OutboxRow.state != "sent", OutboxRow.kind.in_(["notification", "customer"])
    )
    statement = statement.where(OutboxRow.id.in_(ids)) if ids else statement.where(OutboxRow.state == "dead")
    with opened_store() as store, store.session() as session:
        result = session.execute(
            statement.values(
                state="pending", attempts=0, next_attempt_at=datetime.now(UTC)
            ).execution_options(synchronize_session=False)
        )
        count = result.rowcount or 0
    typer.echo(f"{count} item(s) due again")


@handles_errors
def hotspots_command(
    since: Annotated[str, typer.Option(help="alerts raised since (ISO date/time or e.g. 30d)")] = "30d",
    by: Annotated[
        list[str] | None, typer.Option("--by", help="terminal, carrier, route, week (repeat; default all)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Exceptions counted by terminal, carrier, route and week, so operations can fix the causes."""
    try:
        from api.hotspots import DIMENSIONS, hotspots
    except ImportError:
        abort("the hotspots query (api/hotspots.py) is not available in this checkout", 1)
    group_by = tuple(by) if by else DIMENSIONS
    unknown = [name for name in group_by if name not in DIMENSIONS]
    if unknown:
        abort(f"--by: cannot group by {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}", 2)
    with opened_store() as store, store.session() as session:
        groups = hotspots(session, since=_moment(since, "--since"), group_by=group_by)
    if as_json:
        print_json(groups)
        return
    dimensions = [name for name in DIMENSIONS if name in group_by]
    print_table(
        f"Hotspots since {since}",
        (*dimensions, "alerts", "red", "amber", "open", "rules"),
        [
            (
                *(group.get(name) or "—" for name in dimensions),
                group["alerts"],
                group["red"],
                group["amber"],
                group["open"],
                ", ".join(f"{rule} {count}" for rule, count in sorted(group["rules"].items())),
            )
            for group in groups
        ],
    )


@handles_errors
def rules_check_command(
    container: Annotated[
        list[str] | None, typer.Option("--container", help="only these containers (repeat)")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="evaluate as of this moment (ISO), default now")
    ] = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply/--dry-run", help="write lights, raise alerts, queue messages (default: dry run)"
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the rules now: each container's light and what would fire (or, with --apply, does)."""
    from sync.rules import RuleEngine

    engine = RuleEngine(config())
    now = _moment(at, "--at") or datetime.now(UTC)
    with opened_store() as store:
        if container:
            numbers = sorted({number.strip().upper() for number in container})
            with store.session() as session:
                situation = engine.source_situation(session, now)
                report = engine.evaluate_containers(
                    session, numbers, now, situation, dry_run=not apply, detail=True
                )
                missing = sorted(set(numbers) - set(report.lights))
                if not apply:
                    session.rollback()
            if missing:
                typer.echo(f"not in the store: {', '.join(missing)}", err=True)
        else:
            report = engine.evaluate_all(store, now, dry_run=not apply, detail=True)
    document: dict[str, Any] = {
        "at": now.isoformat(),
        "applied": apply,
        "counts": report.as_counts(),
        "lights": report.lights,
        "actions": report.actions,
    }
    if as_json:
        print_json(document)
        return
    lights = sorted(
        report.lights.items(),
        key=lambda item: ({"red": 0, "amber": 1}.get(item[1]["traffic_light"], 2), item[0]),
    )
    print_table(
        f"Lights as of {_short(now)} UTC" + ("" if apply else " (dry run)"),
        ("container", "light", "rule", "reason", "tracking", "changes"),
        [
            (
                number,
                light["traffic_light"],
                light["light_rule"],
                escape(light["light_reason"] or ""),
                light["tracking"],
                ", ".join(light["changed"]),
            )
            for number, light in lights
        ],
    )
    print_table(
        "Firings",
        ("rule", "subject", "light", "reason", "outcome", "messages"),
        [
            (
                action["rule"],
                action["subject"],
                action["light"],
                escape(action["reason"]),
                action["state"] if apply or action["state"] != "opened" else "would open",
                "; ".join(f"{message['kind']}→{message['channel']}" for message in action["messages"]),
            )
            for action in report.actions
        ],
    )
    typer.echo(" ".join(f"{name}={value}" for name, value in document["counts"].items()))


@handles_errors
def review_list_command(
    state: Annotated[str, typer.Option(help="open, resolved or all")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Review items waiting for a person (alerts of kind "review")."""
    from api.operations import list_alerts

    if state not in ("open", "resolved", "all"):
        abort(f"--state: {state!r} is not one of open, resolved, all", 2)
    with opened_store() as store, store.session() as session:
        page = list_alerts(session, kind="review", state=None if state == "all" else state, limit=limit)
    items = page["items"]
    if as_json:
        print_json(items)
        return
    print_table(
        "Review items",
        ("id", "raised", "subject", "rule", "reason", "state", "deliveries"),
        [
            (
                item["id"],
                _short(item["created_at"]),
                item["subject"],
                item["rule"],
                escape(item["reason"]),
                item["state"],
                ", ".join(f"{d['channel']} {d['state']}" for d in item["deliveries"]),
            )
            for item in items
        ],
    )


@handles_errors
def review_show_command(
    alert_id: Annotated[int, typer.Argument(help="the review item's id")], as_json: JsonOption = False
) -> None:
    """Everything known about one alert or review item: links, last events, what was tried, evidence."""
    with opened_store() as store, store.session() as session:
        alert = session.get(AlertRow, alert_id)
        if alert is None:
            abort(f"no alert {alert_id}", 2)
        deliveries = (
            session.execute(select(OutboxRow).where(OutboxRow.alert_id == alert_id).order_by(OutboxRow.id))
            .scalars()
            .all()
        )
    document = {
        **alert.model_dump(),
        "deliveries": [
            {
                "id": item.id,
                "channel": item.channel,
                "kind": item.kind,
                "state": item.state,
                "attempts": item.attempts,
                "last_error": item.last_error,
                "sent_at": item.sent_at,
            }
            for item in deliveries
        ],
    }
    if as_json:
        print_json(document)
        return
    context = alert.context or {}
    typer.echo(
        f"#{alert.id} {alert.kind} {alert.state}: {alert.subject} — {alert.reason}"
        f" ({alert.rule}, {alert.light})"
    )
    for name, value in sorted((context.get("facts") or {}).items()):
        typer.echo(f"  {name}: {value}")
    links = context.get("links") or {}
    if any(links.values()):
        typer.echo(
            f"  orders: {', '.join(links.get('orders') or []) or '—'}"
            f"  B/L: {links.get('bill_of_lading') or '—'}  "
            f"customers: {', '.join(links.get('customers') or []) or '—'}"
        )
    for title, key in (("last events", "last_events"), ("what was tried", "tried"), ("evidence", "evidence")):
        entries = context.get(key) or []
        if entries:
            typer.echo(f"{title}:")
            for entry in entries:
                if isinstance(entry, dict):
                    said = f"{entry.get('code')} {entry.get('classifier')} [{entry.get('source')}]"
                    entry = f"{entry.get('at')} {said}"
                typer.echo(f"  {entry}")
    for item in document["deliveries"]:
        typer.echo(
            f"message {item['id']} → {item['channel']} ({item['kind']}):"
            f" {item['state']}, {item['attempts']} attempt(s)"
        )


@handles_errors
def review_resolve_command(
    alert_ids: Annotated[list[int], typer.Argument(help="ids of the items dealt with")],
) -> None:
    """Mark review items (or any alerts) as dealt with."""
    now = datetime.now(UTC)
    with opened_store() as store, store.session() as session:
        result = session.execute(
            update(AlertRow)
            .where(AlertRow.id.in_(alert_ids), AlertRow.state == "open")
            .values(state="resolved", resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        count = result.rowcount or 0
    typer.echo(f"{count} item(s) resolved")
