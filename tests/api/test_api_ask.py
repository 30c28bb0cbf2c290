"""Ask: numbers found in chat questions, answered with one ready sentence each, in zh or en."""

from __future__ import annotations

import pytest
from api_world import DISCHARGED, GATED_OUT, IN_TRANSIT, NOT_FOUND, NOW

from api.ask import answer, find_mentions, language_of


def _ask(world_store, question: str) -> dict:
    with world_store.session() as session:
        return answer(session, question, now=NOW)


def test_chinese_question_about_a_discharged_container(world_store) -> None:
    document = _ask(world_store, "柜子到哪了 MSKU1234565?")
    assert document["language"] == "zh"
    assert (
        document["text"] == "您的集装箱 MSKU1234565 已于 11月20日 14:30 卸船，目前可提柜，免费期至 11月25日。"
    )
    (entry,) = document["answers"]
    assert entry["kind"] == "container" and entry["found"] is True
    assert (
        entry["data"]["container_number"] == DISCHARGED
        and entry["data"]["last_free_day"].isoformat() == "2026-11-25"
    )


def test_english_question_about_a_bill_of_lading(world_store) -> None:
    document = _ask(world_store, "is BL COSU6123456780 released?")
    assert document["language"] == "en"
    assert document["text"] == (
        "Bill of lading COSU6123456780 is not released yet (customs hold);"
        " 0 of 1 container available for pick-up."
    )
    assert document["answers"][0]["data"]["on_hold"] == ["customs"]


def test_released_bill_of_lading(world_store) -> None:
    document = _ask(world_store, "提单 MAEU123456789 放行了吗")
    assert document["text"] == "提单 MAEU123456789 已放行，1 个集装箱中 1 个可提柜。"


def test_order_status_in_both_languages(world_store) -> None:
    english = _ask(world_store, "order PO-20260007 status")
    assert english["text"] == "Order PO-20260007 covers 2 containers: 1 in transit, 1 picked up."
    chinese = _ask(world_store, "订单PO-20260007怎么样了")
    assert chinese["text"] == "订单 PO-20260007 共 2 个集装箱：1 个在途、1 个已提柜。"
    assert [item["container_number"] for item in chinese["answers"][0]["data"]["containers"]] == sorted(
        [IN_TRANSIT, GATED_OUT]
    )


def test_in_transit_and_gated_out_sentences_use_local_time(world_store) -> None:
    document = _ask(world_store, f"where are {IN_TRANSIT} and {GATED_OUT}?")
    first, second = (entry["sentence"] for entry in document["answers"])
    assert (
        first
        == "Your container CSNU7123455 is on the vessel COSCO PRIDE 045W, expected to arrive Nov 24 at 08:00."
    )
    assert second == "Your container TGHU6961213 was picked up (gated out) Nov 19 at 13:05."
    assert document["text"] == f"{first} {second}"
    chinese = _ask(world_store, f"{IN_TRANSIT} 什么时候到")
    assert (
        chinese["text"] == "您的集装箱 CSNU7123455 目前在船上（COSCO PRIDE 045W），预计 11月24日 08:00 到港。"
    )


def test_container_unknown_at_the_terminal(world_store) -> None:
    document = _ask(world_store, f"{NOT_FOUND} 在哪")
    assert document["text"] == "码头目前查不到集装箱 MSCU5550011（Container not found），我们会继续查询。"


def test_unknown_numbers_get_a_helpful_answer_and_nothing_is_written(world_store) -> None:
    from sqlalchemy import func, select

    from store import ContainerStatusRow

    with world_store.session() as session:
        before = session.execute(select(func.count()).select_from(ContainerStatusRow)).scalar_one()
    zh = _ask(world_store, "CMAU5200048 到哪了")
    assert zh["answers"][0]["found"] is False
    assert zh["text"].startswith("我们暂时没有集装箱 CMAU5200048 的信息：它还没有被跟踪。")
    assert "run.py import" in zh["text"]
    en = _ask(world_store, "status of bill of lading ZZZZ12345678?")
    assert en["text"].startswith(
        "We have no information on bill of lading ZZZZ12345678 yet: it is not tracked."
    )
    order = _ask(world_store, "order PO-99999999?")
    assert order["answers"][0]["kind"] == "order" and order["answers"][0]["found"] is False
    with world_store.session() as session:
        assert session.execute(select(func.count()).select_from(ContainerStatusRow)).scalar_one() == before


def test_a_wrong_check_digit_gets_a_did_you_mean(world_store) -> None:
    en = _ask(world_store, "where is MSKU1234566")
    assert en["text"] == (
        "MSKU1234566 is not a valid container number (check digit 6, expected 5) — did you mean MSKU1234565?"
        " We are tracking MSKU1234565."
    )
    assert en["answers"][0]["suggestion"] == DISCHARGED
    zh = _ask(world_store, "查一下 CMAU5200049")
    assert zh["text"] == "集装箱号 CMAU5200049 的校验位不对（是 9，应为 8），您要查的是不是 CMAU5200048？"


def test_a_missing_check_digit_is_completed(world_store) -> None:
    en = _ask(world_store, "where is MSKU 123456?")
    assert en["text"] == (
        "MSKU123456 is missing its check digit: the full container number is MSKU1234565."
        " We are tracking MSKU1234565; ask again with the full number."
    )
    zh = _ask(world_store, "CMAU520004 到哪了")
    assert zh["text"] == "集装箱号 CMAU520004 少了最后一位校验位，完整的号码是 CMAU5200048。"


def test_no_number_at_all(world_store) -> None:
    assert _ask(world_store, "hello?")["text"].startswith("Please tell me a container number")
    assert _ask(world_store, "我的货到哪了")["text"].startswith("请告诉我集装箱号")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("柜子到哪了MSKU1234565?", [("container", "MSKU1234565")]),
        ("msku 123456-5 please", [("container", "MSKU1234565")]),
        (
            "B/L: COSU6123456780 and MSKU1234565",
            [("bill_of_lading", "COSU6123456780"), ("container", "MSKU1234565")],
        ),
        ("提单号：MAEU123456789", [("bill_of_lading", "MAEU123456789")]),
        ("PO-20260007", [("order", "PO-20260007")]),
        ("what is the order status, is BL released", []),
        ("MSKU1234566", [("invalid_container", "MSKU1234566")]),
    ],
)
def test_finding_numbers_in_text(text: str, expected: list[tuple[str, str]]) -> None:
    found = [(mention.kind, mention.key) for mention in find_mentions(text) if mention.kind != "unknown_kind"]
    assert found == expected


def test_language_detection() -> None:
    assert language_of("柜子到哪了") == "zh"
    assert language_of("where is it") == "en"


def test_post_ask(client) -> None:
    response = client.post("/ask", json={"question": "柜子到哪了 MSKU1234565?"})
    assert response.status_code == 200
    assert response.json()["text"].startswith("您的集装箱 MSKU1234565 已于 11月20日 14:30 卸船")
    forced = client.post("/ask", json={"question": "MSKU1234565", "language": "zh"}).json()
    assert forced["language"] == "zh"
    assert client.post("/ask", json={"question": ""}).status_code == 422
    assert client.post("/ask", json={}).headers["content-type"].startswith("application/problem+json")
