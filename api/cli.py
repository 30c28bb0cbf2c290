"""Commands: status, events, ask (the API's answers in a terminal), api-key create|list|revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from api import queries
from api.ask import answer
from api.auth import create_key, list_keys, revoke_key
from api.numbers import check_container_number
from api.zones import local
from quaysync.cli import abort, console, handles_errors, opened_store, print_json, print_table
from quaysync.secrets import REDACTOR

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a panel or table")]


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("events")(events_command)
    app.command("ask")(ask_command)
    keys = typer.Typer(help="API keys for the HTTP API and the status board.", no_args_is_help=True)
    keys.command("create")(create_key_command)
    keys.command("list")(list_keys_command)
    keys.command("revoke")(revoke_key_command)
    app.add_typer(keys, name="api-key")


def _when(moment: datetime | None, zone_name: str | None) -> str:
    value = local(moment, zone_name)
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M %Z")


def _container_lines(doc: dict[str, Any]) -> list[str]:
    """Rich markup lines; everything that came from a source is escaped (shown as written)."""
    zone_name = doc["time_zone"]
    light = doc["traffic_light"]
    why = escape(f"({light['rule']}: {light['reason']})")
    lines = [
        f"[bold]{doc['lifecycle']}[/] since {_when(doc['lifecycle_at'], zone_name)}"
        + (f"  ·  light [bold]{light['light']}[/] {why}" if light["light"] else ""),
        f"available: {'yes' if doc['available'] else 'no' if doc['available'] is False else '?'}"
        + (f"  ·  on hold: {escape(', '.join(doc['on_hold']))}" if doc["on_hold"] else ""),
        _tracking_line(doc),
    ]
    if doc["last_free_day"]:
        lines.append(f"last free day: {doc['last_free_day']} ({doc['days_left']} days left)")
    vessel = doc["vessel"]
    if vessel["name"]:
        called = escape(f"{vessel['name']} {vessel['voyage'] or ''}")
        lines.append(
            f"vessel: {called}  ETA {_when(vessel['eta'], zone_name)}  ATA {_when(vessel['ata'], zone_name)}"
        )
    for label, value in (
        ("terminal", doc["terminal"]),
        ("yard", doc["yard_location"]),
        ("appointment", _when(doc["appointment_at"], zone_name) if doc["appointment_at"] else None),
        ("fees", ", ".join(f"{name} {amount}" for name, amount in doc["fees"].items())),
        ("B/L", ", ".join(doc["bills_of_lading"])),
        ("orders", ", ".join(doc["orders"])),
        ("not found at", ", ".join(f"{source}: {words}" for source, words in doc["not_found"].items())),
    ):
        if value:
            lines.append(f"{label}: {escape(str(value))}")
    for item in doc["freshness"]:
        lines.append(f"[dim]checked by {escape(item['source'])} at {item['last_checked_at']}[/]")
    return lines


def _tracking_line(doc: dict[str, Any]) -> str:
    tracking = doc.get("tracking")
    if tracking == "final":
        return "tracking: done (the empty container is back)"
    if tracking == "stale":
        return "tracking: [yellow]stopped[/] — no news for longer than sync.stop_tracking_after"
    return "tracking: active"


@handles_errors
def status_command(
    subject: Annotated[str, typer.Argument(help="a container number, B/L number or order reference")],
    as_json: JsonOption = False,
) -> None:
    """The current status of a container, a bill of lading or an order."""
    now = datetime.now(UTC)
    with opened_store() as store, store.session() as session:
        found = queries.identify(session, subject)
        if found is None:
            check = check_container_number(subject)
            hint = f" (did you mean {check.suggestion}?)" if check.suggestion else ""
            abort(f"{subject!r} is not tracked: no container, B/L or order by that name{hint}", 1)
        kind, key = found
        if kind == "container":
            document = queries.container_status(session, key, now)
        elif kind == "bill_of_lading":
            document = queries.shipment(session, key, now)
        else:
            document = queries.order(session, key, now)
    assert document is not None
    if as_json:
        print_json({"kind": kind, **document})
        return
    if kind == "container":
        body = "\n".join(_container_lines(document))
        console.print(Panel(body, title=f"container {key}", expand=False))
        return
    title = f"B/L {key}" if kind == "bill_of_lading" else f"order {key}"
    header = []
    if kind == "bill_of_lading":
        header.append(f"on hold: {', '.join(document['on_hold']) or 'nothing'}")
        header.append(f"orders: {', '.join(document['orders']) or '—'}")
    else:
        header.append(f"B/Ls: {', '.join(document['bills_of_lading']) or '—'}")
    console.print(Panel("\n".join(header), title=title, expand=False))
    print_table(
        f"containers of {title}",
        ("container", "lifecycle", "available", "on hold", "last free day", "light"),
        [
            (
                item["container_number"],
                item["lifecycle"],
                item["available"],
                ", ".join(item["on_hold"]),
                item["last_free_day"],
                item["traffic_light"]["light"],
            )
            for item in document["containers"]
        ],
    )


@handles_errors
def events_command(
    container: Annotated[str, typer.Argument(help="a container number")],
    as_json: JsonOption = False,
) -> None:
    """A container's events, every version (current ones marked), with where each came from."""
    check = check_container_number(container)
    if check.number is None:
        hint = f"; did you mean {check.suggestion}?" if check.suggestion else ""
        abort(f"{container!r} is not a valid container number: {check.reason}{hint}", 2)
    with opened_store() as store, store.session() as session:
        events = queries.container_events(session, check.number)
    if events is None:
        abort(f"container {check.number} is not tracked", 1)
    if as_json:
        print_json({"container_number": check.number, "events": events})
        return
    print_table(
        f"events of {check.number}",
        ("when (local)", "code", "class", "current", "place", "source", "stated in"),
        [
            (
                event["event_at_local"] if event["timed"] else f"{event['event_at_local']} (first seen)",
                event["event_code"]
                + (f" {event['details'].get('facet')}" if event["details"].get("facet") else ""),
                event["classifier"],
                "yes" if event["current"] else "superseded",
                event["facility"] or event["location_code"],
                event["source"],
                (event["observation"] or {}).get("source_ref"),
            )
            for event in events
        ],
    )


@handles_errors
def ask_command(
    question: Annotated[
        str, typer.Argument(help='a question as a customer types it, e.g. "柜子到哪了 MSKU1234565?"')
    ],
    language: Annotated[str | None, typer.Option(help="zh or en (default: from the question)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question about containers, B/Ls or orders with ready sentences (zh/en)."""
    if language not in (None, "zh", "en"):
        abort("--language must be zh or en", 2)
    with opened_store() as store, store.session() as session:
        document = answer(session, question, language=language)
    if as_json:
        print_json(document)
        return
    typer.echo(REDACTOR.mask(document["text"]))  # plain: a ready sentence, not to be re-wrapped


@handles_errors
def create_key_command(
    name: Annotated[str, typer.Argument(help="who the key is for, e.g. erp or chatbot")],
) -> None:
    """Create an API key; its token is printed once and stored only as a hash."""
    with opened_store() as store, store.session() as session:
        token = create_key(session, name)
    # The token goes to stdout only, bare, so it can be piped into a secret store.
    typer.echo(token)
    typer.echo(f"API key {name!r} created; the token above is shown only this once.", err=True)


@handles_errors
def list_keys_command(as_json: JsonOption = False) -> None:
    """API keys (names and dates; the tokens are not kept)."""
    with opened_store() as store, store.session() as session:
        keys = list_keys(session)
    if as_json:
        print_json(keys)
        return
    print_table(
        "API keys",
        ("name", "created", "state"),
        [
            (
                key["name"],
                key["created_at"].strftime("%Y-%m-%d %H:%M"),
                "active" if key["active"] else f"revoked {key['revoked_at']:%Y-%m-%d %H:%M}",
            )
            for key in keys
        ],
    )


@handles_errors
def revoke_key_command(name: Annotated[str, typer.Argument(help="the key's name")]) -> None:
    """Revoke an API key: requests with its token are refused from now on."""
    with opened_store() as store, store.session() as session:
        revoked = revoke_key(session, name)
    if not revoked:
        abort(f"no active API key named {name!r}", 1)
    typer.echo(f"API key {name!r} revoked.")
