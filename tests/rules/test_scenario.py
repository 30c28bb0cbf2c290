"""From mail + portal input to messages: a delayed vessel in a carrier email turns the container red and
sends the staff email and the customer message within one evaluation cycle (ingest, then delivery)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from quaysync.model import Observation
from store import AlertRow, ContainerStatusRow, OutboxRow, Store
from sync import ingest
from sync.channels import notification_senders, retry_policy
from sync.outbox import deliver_due
from sync.pipeline import build_ingest_settings
from tests.rules.conftest import LA, SHANGHAI, SmtpServer, at, make_config

DELAYED = "MSKU1234565"
WAITING = "TCNU1234565"
RULES = [
    {
        "name": "vessel-delayed",
        "when": "eta_slip",
        "hours": 48,
        "light": "red",
        "notify": ["ops-mail"],
        "customer_template": "vessel_delayed",
        "reason": "vessel delayed {delay_hours:.0f} h",
    },
    {
        "name": "available",
        "when": "milestone",
        "milestone": "available",
        "light": "green",
        "customer_template": "available_for_pickup",
    },
    {"name": "lfd-soon", "when": "lfd_within", "hours": 48, "light": "amber", "notify": ["ops-mail"]},
    {"name": "customs-hold", "when": "hold_longer", "hours": 72, "facets": ["customs"], "light": "amber"},
]
CUSTOMERS = [
    {"name": "ACME Trading", "language": "zh", "channel": "ops-mail", "to": ["buyer@acme.example"]},
    {"name": "Globex", "language": "en", "channel": "ops-mail", "to": ["imports@globex.example"]},
]


def portal_page(hours: float) -> list[Observation]:
    """What the sandbox portal's parser reads from a container search (Los Angeles local times)."""

    def seen(fields: dict[str, str]) -> Observation:
        return Observation(
            "portal:sandbox",
            "http://127.0.0.1/containers?page=1",
            at(hours),
            fields,
            parser="sandbox.container_search/1",
            time_zone=LA,
        )

    return [
        seen(
            {
                "container_no": DELAYED,
                "available": "On Vessel",
                "customs_release": "HOLD",
                "vessel": "MSC PAMELA",
                "voyage": "123E",
                "mbl_no": "MEDU1234567890",
                "container_spec": "40HC",
            }
        ),
        seen(
            {
                "container_no": WAITING,
                "available": "Available",
                "discharge_date": "11/17/2026 21:40",
                "last_free_day": "11/24/2026",
                "customs_release": "RELEASED",
                "yard_location": "B07-3",
                "vessel": "EVER GIVEN",
                "voyage": "0421W",
                "mbl_no": "EGLV1234567",
                "demurrage": "$0.00",
            }
        ),
    ]


def erp_links(hours: float) -> list[Observation]:
    """Orders ↔ B/Ls ↔ containers, as the ERP export import states them."""
    return [
        Observation("import:erp", f"orders.xlsx#Sheet1!{row}", at(hours), fields, parser="tables.orders/1")
        for row, fields in (
            (
                2,
                {
                    "container_no": DELAYED,
                    "mbl_no": "MEDU1234567890",
                    "order_ref": "PO-7731",
                    "customer": "ACME Trading",
                },
            ),
            (
                3,
                {
                    "container_no": WAITING,
                    "mbl_no": "EGLV1234567",
                    "order_ref": "PO-7800",
                    "customer": "Globex",
                },
            ),
        )
    ]


def carrier_mail(hours: float, eta: str, kind: str) -> list[Observation]:
    """An arrival notice / a vessel delay notice, as the carrier-mail parser reads them (Shanghai time)."""
    return [
        Observation(
            "mail:carrier",
            f"<{kind}-{hours}@msc.example>",
            at(hours),
            {
                "container_no": DELAYED,
                "mbl_no": "MEDU1234567890",
                "vessel": "MSC PAMELA",
                "voyage": "123E",
                "eta": eta,
            },
            parser=f"email.{kind}/1",
            time_zone=SHANGHAI,
        )
    ]


def test_a_delayed_vessel_in_a_carrier_mail_reaches_staff_and_customer_in_one_cycle(
    any_store: Store, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = make_config(tmp_path, RULES, smtp_port=smtp_server.port, customers=CUSTOMERS)
    settings = build_ingest_settings(config)
    senders = notification_senders(config)

    def cycle(observations: list[Observation], hours: float) -> None:
        with any_store.session() as session:
            ingest(session, observations, settings=settings, now=at(hours))
        deliver_due(any_store, senders, policy=retry_policy(config), now=lambda: at(hours))

    cycle(portal_page(0) + erp_links(0), 0)
    cycle(carrier_mail(0.5, "2026-11-20 08:00", "arrival_notice"), 0.5)
    # so far: the waiting container's customer heard it is available; nothing about a delay
    assert [message["To"] for message in smtp_server.messages] == ["imports@globex.example"]
    assert smtp_server.messages[0]["Subject"] == f"Container {WAITING} is available for pick-up"
    assert "Last free day: Tue 24 Nov 2026." in smtp_server.messages[0].get_content()

    cycle(carrier_mail(20, "2026-11-23 14:00", "vessel_delay"), 20)  # the one evaluation cycle

    with any_store.session() as session:
        delayed = session.get(ContainerStatusRow, DELAYED)
        waiting = session.get(ContainerStatusRow, WAITING)
        assert delayed is not None and waiting is not None
        assert (delayed.traffic_light, delayed.light_rule, delayed.light_reason) == (
            "red",
            "vessel-delayed",
            "vessel delayed 78 h",
        )
        assert waiting.traffic_light == "green"
        (alert,) = session.execute(select(AlertRow).where(AlertRow.rule == "vessel-delayed")).scalars()
        assert alert.context["links"] == {
            "orders": ["PO-7731"],
            "bill_of_lading": "MEDU1234567890",
            "customers": ["ACME Trading"],
        }
        assert {item.state for item in session.execute(select(OutboxRow)).scalars()} == {"sent"}

    staff, customer = smtp_server.messages[1:]
    assert (staff["To"], staff["Subject"]) == (
        "ops@forwarder.example",
        f"[quaysync] RED {DELAYED}: vessel delayed 78 h",
    )
    staff_text = staff.get_content()
    # the container's local time is its terminal's: Los Angeles
    assert "First ETA:     Thu 19 Nov 2026 16:00 (America/Los_Angeles)" in staff_text
    assert "Current ETA:   Sun 22 Nov 2026 22:00 (America/Los_Angeles)" in staff_text
    assert "Orders:        PO-7731" in staff_text and "Holds:         customs hold" in staff_text
    assert customer["To"] == "buyer@acme.example"
    assert (
        customer["Subject"] == f"【船期延误通知】柜号 {DELAYED}：MSC PAMELA 预计到港推迟约 3.2 天（78 小时）"
    )
    text = customer.get_content()
    assert "尊敬的ACME Trading：" in text
    assert "原预计到港：2026年11月19日（周四） 16:00（America/Los_Angeles）" in text
    assert "最新预计到港：2026年11月22日（周日） 22:00（America/Los_Angeles）" in text
    assert "提单号 MEDU1234567890，订单号 PO-7731" in text and "备用方案" in text
