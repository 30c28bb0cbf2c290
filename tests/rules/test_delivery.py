"""Delivery through the outbox to real receivers: once, in order, after outages, across restarts."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from quaysync.config import Config
from store import AlertRow, OutboxRow, Store, open_store
from sync.channels import notification_senders, retry_policy
from sync.outbox import deliver_due
from sync.rules import evaluate_all
from tests.rules.conftest import BOX, SHANGHAI, HttpReceiver, SmtpServer, at, feed, make_config, said

VESSEL = {"vessel": "MSC PAMELA", "voyage": "123E", "mbl_no": "MEDU1234567890"}
ORDER = {"order_ref": "PO-7731", "customer": "ACME Trading"}
DELAY_RULE = {
    "name": "vessel-delayed",
    "when": "eta_slip",
    "hours": 48,
    "light": "red",
    "notify": ["ops-mail"],
    "customer_template": "vessel_delayed",
}
CUSTOMER = {"name": "ACME Trading", "language": "zh", "channel": "ops-mail", "to": ["buyer@acme.example"]}
NUMBERS = ("MSKU1234565", "TGHU9876542", "CSQU3054383")


def delay_config(tmp_path: Path, smtp: SmtpServer, **extra: Any) -> Config:
    return make_config(
        tmp_path,
        [DELAY_RULE],
        smtp_port=smtp.port,
        customers=[CUSTOMER],
        notifications={"retry_base": "10s", "retry_max": "1h", "max_attempts": 4},
        **extra,
    )


def delay(store: Store, config: Config, number: str = BOX, hours: float = 0) -> None:
    """A first ETA, then a carrier's delay notice 78 h later."""
    first = said(
        "mail:carrier", hours, {**VESSEL, **ORDER, "eta": "2026-11-20 08:00"}, number=number, zone=SHANGHAI
    )
    later = said(
        "mail:carrier", hours + 1, {**VESSEL, "eta": "2026-11-23 14:00"}, number=number, zone=SHANGHAI
    )
    feed(store, config, [first], hours)
    feed(store, config, [later], hours + 1)


def outbox(store: Store) -> list[OutboxRow]:
    with store.session() as session:
        return list(session.execute(select(OutboxRow).order_by(OutboxRow.id)).scalars())


def deliver(store: Store, config: Config, hours: float) -> Any:
    return deliver_due(
        store, notification_senders(config), policy=retry_policy(config), now=lambda: at(hours)
    )


def test_staff_mail_and_customer_mail_arrive_once_in_their_languages(
    sqlite_store: Store, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = delay_config(tmp_path, smtp_server)
    delay(sqlite_store, config)
    report = deliver(sqlite_store, config, 1)
    assert (report.sent, report.failed) == (2, 0)
    staff, customer = smtp_server.messages
    assert staff["To"] == "ops@forwarder.example"
    assert staff["Subject"].startswith("[quaysync] RED MSKU1234565: vessel delayed 78 h")
    assert "PO-7731" in staff.get_content() and "Customers:     ACME Trading" in staff.get_content()
    assert customer["To"] == "buyer@acme.example"
    assert (
        customer["Subject"] == "【船期延误通知】柜号 MSKU1234565：MSC PAMELA 预计到港推迟约 3.2 天（78 小时）"
    )
    assert "最新预计到港：2026年11月23日（周一） 14:00（Asia/Shanghai）" in customer.get_content()
    items = outbox(sqlite_store)
    assert [item.state for item in items] == ["sent", "sent"]
    assert customer["Message-ID"] == f"<{items[1].payload['id']}@quaysync>"
    assert deliver(sqlite_store, config, 2).sent == 0


def test_nothing_is_sent_twice_across_worker_restarts(
    store_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    url = store_url  # a SQLite file, and PostgreSQL
    first_store = open_store(url)
    config = delay_config(tmp_path, smtp_server)
    delay(first_store, config)  # raised and queued ... and the worker dies before delivering
    first_store.dispose()

    second_store = open_store(url)  # a new process: new store, config, engine, senders
    second_config = delay_config(tmp_path, smtp_server)
    assert deliver(second_store, second_config, 2).sent == 2
    delay(second_store, second_config)  # the same mails read again (a replayed mailbox)
    evaluate_all(second_store, second_config, at(3))
    assert deliver(second_store, second_config, 3).sent == 0
    second_store.dispose()

    third_store = open_store(url)
    evaluate_all(third_store, delay_config(tmp_path, smtp_server), at(30))  # past the cooldown too
    assert deliver(third_store, delay_config(tmp_path, smtp_server), 30).sent == 0
    with third_store.session() as session:
        assert len(session.execute(select(AlertRow)).scalars().all()) == 1
    third_store.dispose()
    assert len(smtp_server.messages) == 2


def test_a_mail_server_down_for_a_while_gets_everything_in_order_after(
    sqlite_store: Store, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = delay_config(tmp_path, smtp_server)
    smtp_server.stop()  # connections refused
    for index, number in enumerate(NUMBERS):
        delay(sqlite_store, config, number, hours=index * 0.1)
    assert len(outbox(sqlite_store)) == 6
    first = deliver(sqlite_store, config, 2)
    assert (first.sent, first.failed) == (0, 1)  # the channel's oldest item fails; the rest wait behind it
    assert deliver(sqlite_store, config, 2 + 5 / 3600).failed == 0  # within the 10 s backoff: no attempt
    assert deliver(sqlite_store, config, 2 + 10 / 3600).failed == 1
    head = outbox(sqlite_store)[0]
    assert (head.attempts, head.state) == (2, "pending")
    assert "smtp 127.0.0.1" in (head.last_error or "")
    assert head.next_attempt_at == at(2 + 30 / 3600)  # doubled: 20 s after the second attempt
    smtp_server.start()
    assert deliver(sqlite_store, config, 2 + 30 / 3600).sent == 6
    items = outbox(sqlite_store)
    # in the order queued: per container the staff mail, then the customer's
    assert [message["Message-ID"] for message in smtp_server.messages] == [
        f"<{item.payload['id']}@quaysync>" for item in items
    ]
    assert [
        item.payload.get("container_number") or item.payload["alert"]["container_number"] for item in items
    ] == [number for number in NUMBERS for _ in (0, 1)]
    assert {item.state for item in outbox(sqlite_store)} == {"sent"}


def test_a_refusing_server_is_retried_until_dead_then_stays_visible(
    sqlite_store: Store, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = delay_config(tmp_path, smtp_server)
    smtp_server.handler.refusing = True  # 451: temporary failure
    delay(sqlite_store, config)
    for step in range(4):  # max_attempts: 4
        deliver(sqlite_store, config, 2 + step)
    head = outbox(sqlite_store)[0]
    assert (head.state, head.attempts) == ("dead", 4)
    assert "451" in (head.last_error or "")
    assert smtp_server.messages == []


def chat_config(tmp_path: Path, receiver: HttpReceiver) -> Config:
    channels = [
        {"name": "ops-wecom", "kind": "wecom", "url": receiver.url("/wecom?key=k-123456")},
        {
            "name": "ops-dingtalk",
            "kind": "dingtalk",
            "url": receiver.url("/dingtalk?access_token=t-123456"),
            "secret": "${QS_TEST_DINGTALK_SECRET}",
        },
        {
            "name": "ops-slack",
            "kind": "slack",
            "url": receiver.url("/slack/T000/B000/XXXX"),
            "language": "zh",
        },
        {
            "name": "erp",
            "kind": "webhook",
            "url": receiver.url("/erp/alerts"),
            "secret": "${QS_TEST_HOOK_SECRET}",
        },
    ]
    rule = {**DELAY_RULE, "notify": [channel["name"] for channel in channels], "customer_template": None}
    return make_config(tmp_path, [rule], channels=channels)


def test_chat_and_generic_webhooks_get_the_bodies_their_services_document(
    sqlite_store: Store, tmp_path: Path, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QS_TEST_DINGTALK_SECRET", "SECdingtalk-signing-secret")
    monkeypatch.setenv("QS_TEST_HOOK_SECRET", "erp-hmac-key")
    config = chat_config(tmp_path, http_receiver)
    delay(sqlite_store, config)
    assert {item.destination for item in outbox(sqlite_store)} == {
        "channel:ops-wecom",
        "channel:ops-dingtalk",
        "channel:ops-slack",
        "channel:erp",
    }  # robots' URLs (and their keys) stay in the config, not in the store
    assert deliver(sqlite_store, config, 2).sent == 4
    by_path = {urlsplit(request.path).path.split("/")[1]: request for request in http_receiver.requests}

    wecom = by_path["wecom"].json
    assert wecom["msgtype"] == "text" and wecom["text"]["content"].startswith("[quaysync] RED MSKU1234565")
    assert parse_qs(urlsplit(by_path["wecom"].path).query) == {"key": ["k-123456"]}

    ding = by_path["dingtalk"]
    query = parse_qs(urlsplit(ding.path).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(
            b"SECdingtalk-signing-secret", f"{timestamp}\nSECdingtalk-signing-secret".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert query["sign"] == [expected] and query["access_token"] == ["t-123456"]
    assert ding.json["msgtype"] == "text" and "MSKU1234565" in ding.json["text"]["content"]

    slack = by_path["slack"].json
    assert list(slack) == ["text"] and slack["text"].startswith(
        "*[quaysync] 红灯 MSKU1234565"
    )  # its language: zh

    erp = by_path["erp"]
    signature = "sha256=" + hmac.new(b"erp-hmac-key", erp.body, hashlib.sha256).hexdigest()
    assert erp.headers["X-Quaysync-Signature"] == signature
    assert erp.json["alert"]["rule"] == "vessel-delayed" and erp.json["facts"]["delay_hours"] == 78
    assert erp.headers["X-Quaysync-Id"] == erp.json["id"]


def test_a_chat_robot_refusing_by_errcode_or_http_status_is_retried(
    sqlite_store: Store, tmp_path: Path, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QS_TEST_DINGTALK_SECRET", "SECdingtalk-signing-secret")
    monkeypatch.setenv("QS_TEST_HOOK_SECRET", "erp-hmac-key")
    config = chat_config(tmp_path, http_receiver)
    delay(sqlite_store, config)
    http_receiver.reply = b'{"errcode": 45009, "errmsg": "api freq out of limit"}'
    report = deliver(sqlite_store, config, 2)
    assert (report.sent, report.failed) == (2, 2)  # slack and the generic webhook do not speak errcode
    errors = {item.channel: item.last_error for item in outbox(sqlite_store) if item.state == "pending"}
    assert set(errors) == {"ops-wecom", "ops-dingtalk"}
    assert all("errcode 45009" in (error or "") for error in errors.values())
    http_receiver.reply, http_receiver.status = b"{}", 503
    assert deliver(sqlite_store, config, 3).failed == 2
    assert "HTTP 503" in (outbox(sqlite_store)[0].last_error or "")
    http_receiver.reply, http_receiver.status = b'{"errcode": 0, "errmsg": "ok"}', 200
    assert deliver(sqlite_store, config, 4).sent == 2
    assert {item.state for item in outbox(sqlite_store)} == {"sent"}
