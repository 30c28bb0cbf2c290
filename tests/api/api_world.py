"""A small, deterministic world for the API tests, taken in through the real ingest path.

Terminal time is America/Los_Angeles (UTC-8 in November). NOW is Nov 21 2026, 10:00 local.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from quaysync.model import Observation
from store import AlertRow
from store.runs import finish_run, start_run
from sync.ingest import IngestSettings, ingest
from sync.outbox import enqueue
from sync.webhooks import fan_out_events

LA = "America/Los_Angeles"
NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
TERMINAL = "Sandbox Container Terminal"
XSS_YARD = "<script>window.__xss = 1</script>"
XSS_TERMINAL = '<img src=x onerror="window.__xss2 = 1">'

DISCHARGED = "MSKU1234565"  # discharged, available, LFD Nov 25; B/L MAEU123456789, order PO-20260001
IN_TRANSIT = "CSNU7123455"  # on COSCO PRIDE, ETA Nov 24; B/L COSU6123456780 under customs hold
GATED_OUT = "TGHU6961213"  # discharged (time corrected by a later scrape), then gated out
NOT_FOUND = "MSCU5550011"  # the terminal does not know it
SCRIPTED = "EGHU9000010"  # scraped fields carrying markup; freight hold, LFD today
ALL_CONTAINERS = (DISCHARGED, IN_TRANSIT, GATED_OUT, NOT_FOUND, SCRIPTED)

SETTINGS = IngestSettings(default_zone=LA, hooks=(fan_out_events,))


def portal(number: str, at: datetime, **fields: str) -> Observation:
    return Observation(
        "portal:sandbox",
        f"http://127.0.0.1:8765/containers/{number}",
        at,
        {"container_no": number, **fields},
        parser="sandbox.container_detail/1",
        time_zone=LA,
    )


def batches() -> list[tuple[datetime, list[Observation]]]:
    """(ingest moment, observations) in the order they arrive."""
    day = timedelta(days=1)
    return [
        (
            NOW - 6 * day,
            [
                Observation(
                    "import:orders",
                    "orders.xlsx#Sheet1!2",
                    NOW - 6 * day,
                    {
                        "container_no": DISCHARGED,
                        "mbl_no": "MAEU123456789",
                        "order_ref": "PO-20260001",
                        "customer": "Acme Imports",
                    },
                    parser="import.orders/1",
                ),
                Observation(
                    "import:orders",
                    "orders.xlsx#Sheet1!3",
                    NOW - 6 * day,
                    {
                        "container_no": IN_TRANSIT,
                        "mbl_no": "COSU6123456780",
                        "order_ref": "PO-20260007",
                        "customer": "Blue Harbor Trading",
                    },
                    parser="import.orders/1",
                ),
                Observation(
                    "import:orders",
                    "orders.xlsx#Sheet1!4",
                    NOW - 6 * day,
                    {
                        "container_no": GATED_OUT,
                        "mbl_no": "CMDU778899001",
                        "order_ref": "PO-20260007",
                        "customer": "Blue Harbor Trading",
                    },
                    parser="import.orders/1",
                ),
            ],
        ),
        (
            NOW - 5 * day,
            [
                portal(
                    GATED_OUT,
                    NOW - 5 * day,
                    discharge_date="11/15/2026 09:00",
                    available="Yes",
                    last_free_day="11/20/2026",
                    vessel="CMA CGM MARCO POLO",
                    voyage="0FM3NE1MA",
                    terminal=TERMINAL,
                    location="USLGB",
                    mbl_no="CMDU778899001",
                    carrier="CMA CGM",
                ),
                Observation(
                    "mail:carrier-inbox",
                    "<arrival-1@cosco.example>",
                    NOW - 5 * day,
                    {
                        "container_no": IN_TRANSIT,
                        "eta": "2026-11-24 08:00",
                        "vessel": "COSCO PRIDE",
                        "voyage": "045W",
                        "mbl_no": "COSU6123456780",
                        "status": "On Vessel",
                        "customs_release": "Hold",
                        "port_of_loading": "CNSHA",
                        "port_of_discharge": "USLGB",
                        "carrier": "COSCO",
                    },
                    parser="mail.arrival_notice/1",
                    time_zone=LA,
                ),
            ],
        ),
        (
            NOW - 3 * day,
            [
                # the same page again, later, with the discharge time corrected
                portal(
                    GATED_OUT,
                    NOW - 3 * day,
                    discharge_date="11/15/2026 09:40",
                    available="Yes",
                    last_free_day="11/20/2026",
                    vessel="CMA CGM MARCO POLO",
                    voyage="0FM3NE1MA",
                    terminal=TERMINAL,
                    location="USLGB",
                    mbl_no="CMDU778899001",
                    carrier="CMA CGM",
                ),
                portal(NOT_FOUND, NOW - 3 * day, not_found="Container not found"),
            ],
        ),
        (
            NOW - 1 * day,
            [
                portal(
                    DISCHARGED,
                    NOW - day + timedelta(hours=1),
                    discharge_date="11/20/2026 14:30",
                    available="Yes",
                    status="Available for pickup",
                    last_free_day="11/25/2026",
                    customs_release="Released",
                    freight_release="Released",
                    yard_location="A12-03",
                    vessel="MAERSK ESSEN",
                    voyage="123E",
                    terminal=TERMINAL,
                    location="USLGB",
                    mbl_no="MAEU123456789",
                    carrier="MAERSK",
                    container_spec="45G1",
                ),
                Observation(
                    "mail:carrier-inbox",
                    "<bl-1@maersk.example>",
                    NOW - day,
                    {
                        "mbl_no": "MAEU123456789",
                        "carrier": "MAERSK",
                        "vessel": "MAERSK ESSEN",
                        "voyage": "123E",
                        "port_of_loading": "CNYTN",
                        "port_of_discharge": "USLGB",
                        "freight_release": "Released",
                    },
                    subject="bill_of_lading",
                    parser="mail.release/1",
                    time_zone=LA,
                ),
                Observation(
                    "portal:sandbox",
                    "http://127.0.0.1:8765/vessels",
                    NOW - day,
                    {
                        "vessel": "MAERSK ESSEN",
                        "voyage": "123E",
                        "terminal": TERMINAL,
                        "location": "USLGB",
                        "ata": "11/20/2026 06:15",
                    },
                    subject="vessel_call",
                    parser="sandbox.vessel_schedule/1",
                    time_zone=LA,
                ),
                portal(
                    SCRIPTED,
                    NOW - day,
                    discharge_date="11/19/2026 22:10",
                    available="No",
                    freight_release="Hold",
                    last_free_day="11/21/2026",
                    yard_location=XSS_YARD,
                    terminal=XSS_TERMINAL,
                    location="USLGB",
                ),
            ],
        ),
        (
            NOW - timedelta(hours=2),
            [
                portal(
                    GATED_OUT,
                    NOW - timedelta(hours=2),
                    gate_out_date="11/19/2026 13:05",
                    discharge_date="11/15/2026 09:40",
                    terminal=TERMINAL,
                    location="USLGB",
                    mbl_no="CMDU778899001",
                    carrier="CMA CGM",
                ),
            ],
        ),
    ]


def ingest_world(store, *, until: datetime | None = None) -> None:
    """Ingest every batch (up to `until`), each in its own transaction at its own moment."""
    for moment, observations in batches():
        if until is not None and moment > until:
            break
        with store.session() as session:
            ingest(session, observations, settings=SETTINGS, now=moment)


def add_operations(store, evidence_dir: Path) -> dict[str, int]:
    """Runs (one failed with evidence on disk), alerts and their deliveries: what rules/worker write."""
    evidence_dir.mkdir(parents=True, exist_ok=True)
    screenshot = evidence_dir / "mail" / "poll-failed.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    snapshot = evidence_dir / "mail" / "poll-failed.html"
    snapshot.write_text("<html><body><script>parent.__evidence_ran = 1</script>captured</body></html>")
    ids: dict[str, int] = {}
    with store.session() as session:
        ok = start_run(session, "portal:sandbox", "scrape", "schedule")
        finish_run(session, ok, "ok", counts={"containers": 5, "added_events": 12})
        failed = start_run(session, "mail:carrier-inbox", "mail", "schedule")
        finish_run(
            session,
            failed,
            "failed",
            errors=[{"kind": "portal", "message": "IMAP connection reset", "evidence": str(screenshot)}],
            evidence=[str(snapshot), str(evidence_dir / "missing.zip")],
        )
        ids["ok_run"], ids["failed_run"] = ok, failed
        alerts = [
            AlertRow(
                rule="lfd_within",
                subject=SCRIPTED,
                dedupe_key="lfd_within:EGHU9000010:2026-11-21",
                light="red",
                reason="last free day today, not gated out",
                created_at=NOW - timedelta(days=1),
            ),
            AlertRow(
                rule="customs_hold",
                subject=IN_TRANSIT,
                dedupe_key="customs_hold:CSNU7123455",
                light="amber",
                reason="customs hold",
                created_at=NOW - timedelta(days=4),
            ),
            AlertRow(
                rule="eta_slip",
                subject="COSU6123456780",
                dedupe_key="eta_slip:COSU6123456780:1",
                light="amber",
                reason="ETA slipped 50 h",
                created_at=NOW - timedelta(days=4),
                state="resolved",
                resolved_at=NOW - timedelta(days=2),
            ),
            AlertRow(
                kind="source",
                rule="source_blocked",
                subject="mail:carrier-inbox",
                dedupe_key="source_blocked:mail:carrier-inbox:1",
                light="red",
                reason="login rejected",
                created_at=NOW - timedelta(hours=3),
                context={"terminal": "Carrier mailbox"},
            ),
        ]
        session.add_all(alerts)
        session.flush()
        ids["red_alert"] = alerts[0].id or 0
        enqueue(
            session,
            channel="ops-mail",
            kind="notification",
            destination="ops@example.com",
            payload={"subject": "LFD today"},
            dedupe_key="n:1",
            alert_id=alerts[0].id,
        )
    return ids
