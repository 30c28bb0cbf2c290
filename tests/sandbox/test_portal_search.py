"""Sandbox portal over real HTTP: multi-container search, postback paging, detail, vessels, export, GBK."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sandbox_portal_http import PortalClient, page_text

from parsers.portals.sandbox import classify_page, parse_detail, parse_results, parse_vessels, read_pager
from quaysync.model import ParseContext
from sandbox.portal import RunningPortal
from sandbox.world import TERMINAL_ZONE

CONTEXT = ParseContext(source="portal:sandbox", source_ref="test", time_zone="America/Los_Angeles")
UNKNOWN = "ZZZU0000005"  # valid check digit, in no world of seed 7
INVALID = "MSKU1234567"  # wrong check digit


def _numbers(portal: RunningPortal, count: int) -> list[str]:
    return [container.container_number for container in portal.world.containers[:count]]


def _rows(response) -> list[dict[str, str | None]]:
    return [dict(observation.fields) for observation in parse_results(response.content, CONTEXT)]


def test_search_pages_through_every_number_with_postbacks(
    portal: RunningPortal, client: PortalClient
) -> None:
    client.login()
    wanted = [*_numbers(portal, 45), UNKNOWN, INVALID]
    first = client.search(" , ".join(wanted[:10]) + "\n" + "\n".join(wanted[10:]) + "\n" + wanted[0].lower())
    assert classify_page(first.content) == "results"
    assert read_pager(first.content).pages == 3
    assert "45 of 47 containers found. Page 1 of 3." in first.text
    assert "javascript:__doPostBack(&#39;gvResults&#39;,&#39;Page$2&#39;)" in first.text
    pages = {1: _rows(first)}
    second = client.postback(first, "gvResults", "Page$2")
    pages[2] = _rows(second)
    last = client.postback(second, "gvResults", "Page$Last")
    pages[3] = _rows(last)
    assert [read_pager(page.content).page for page in (first, second, last)] == [1, 2, 3]
    assert [len(rows) for rows in pages.values()] == [20, 20, 7]
    seen = [row["container_no"] for number in (1, 2, 3) for row in pages[number]]
    assert seen == wanted  # in the order entered, duplicates once, nothing lost
    assert pages[3][-2] == {"container_no": UNKNOWN, "not_found": "Container not found at this terminal"}
    assert pages[3][-1] == {"container_no": INVALID, "not_found": "Invalid container number"}
    back = client.postback(last, "gvResults", "Page$Prev")
    assert read_pager(back.content).page == 2 and _rows(back) == pages[2]
    assert read_pager(client.postback(back, "gvResults", "Page$First").content).page == 1
    assert portal.counters()["searches"] == 1 and portal.counters()["containers_searched"] == 47


def test_result_rows_state_the_worlds_truth(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    numbers = _numbers(portal, 20)
    rows = {row["container_no"]: row for row in _rows(client.search(numbers))}
    now = portal.clock.now()
    for number in numbers:
        state = portal.world.state(portal.world.find(number), now)
        row = rows[number]
        assert row["mbl_no"] == state.container.bill_of_lading and row["carrier"] == state.container.line
        assert (
            row["vessel"] == state.container.vessel.vessel and row["voyage"] == state.container.vessel.voyage
        )
        assert row["available"] == ("Yes" if state.available else "No")
        assert row["yard_location"] == (state.yard_location or "")
        assert row["demurrage"] == (f"${state.demurrage_usd:,.2f}" if state.discharged_at else "")
        discharged = (
            state.discharged_at.astimezone(TERMINAL_ZONE).strftime("%m/%d/%Y %H:%M")
            if state.discharged_at
            else ""
        )
        assert row["discharge_date"] == discharged
        assert row["last_free_day"] == (
            state.last_free_day.strftime("%m/%d/%Y") if state.last_free_day else ""
        )
        assert ("CUSTOMS" in row["holds"]) == (state.customs != "RELEASED")


def test_too_many_numbers_is_refused_with_a_clear_message(make_portal, make_client) -> None:
    portal = make_portal(max_search=10)
    client = make_client(portal)
    client.login()
    response = client.search(_numbers(portal, 11))
    assert classify_page(response.content) == "search_rejected"
    assert "Too many container numbers: you entered 11; the limit is 10 per search." in response.text
    assert portal.counters()["search_rejections"] == 1 and portal.counters()["searches"] == 0
    assert classify_page(client.search(_numbers(portal, 10)).content) == "results"
    assert "Please enter at least one container number." in client.search("  \n ").text


def test_page_size_knob(make_portal, make_client) -> None:
    portal = make_portal(page_size=5)
    client = make_client(portal)
    client.login()
    response = client.search(_numbers(portal, 12))
    assert len(_rows(response)) == 5 and read_pager(response.content).pages == 3


def test_container_detail_and_unknown_container(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    number = _numbers(portal, 1)[0]
    detail = client.get("ContainerDetail.aspx", cntr=number)
    assert classify_page(detail.content) == "detail"
    [observation] = parse_detail(detail.content, CONTEXT)
    container = portal.world.find(number)
    assert observation.fields["container_no"] == number
    assert observation.fields["container_spec"] == f"{container.iso_size_type} ({container.size_type_text})"
    assert observation.fields["weight"] == f"{container.weight_kg:,} KG"
    unknown = client.get("ContainerDetail.aspx", cntr=UNKNOWN)
    assert [dict(o.fields) for o in parse_detail(unknown.content, CONTEXT)] == [
        {"container_no": UNKNOWN, "not_found": f"Container {UNKNOWN} was not found at this terminal."}
    ]
    assert portal.counters()["detail_pages"] == 2


def test_vessel_schedule_shows_every_call(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    page = client.get("VesselSchedule.aspx")
    assert classify_page(page.content) == "vessels"
    calls = [dict(o.fields) for o in parse_vessels(page.content, CONTEXT)]
    assert [call["vessel"] for call in calls] == [call.vessel for call in portal.world.vessel_calls]
    now = portal.clock.now()
    for call, row in zip(portal.world.vessel_calls, calls, strict=True):
        assert row["berth"] == call.berth and row["voyage"] == call.voyage
        assert row["vessel_status"] == call.status_at(now).title()
        assert (row["ata"] != "") == (now >= call.ata)
        assert row["etd"] == call.etd.astimezone(TERMINAL_ZONE).strftime("%m/%d/%Y %H:%M")


def test_export_downloads_every_row_of_the_search(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    wanted = [*_numbers(portal, 30), UNKNOWN]
    first = client.search(wanted)
    second = client.postback(first, "gvResults", "Page$2")
    download = client.export(second)  # from page 2: still the whole search
    assert download.status_code == 200
    assert (
        download.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert re.fullmatch(r'attachment; filename="ContainerAvailability_\d{8}_\d{4}\.xlsx"',
                        download.headers["content-disposition"])  # fmt: skip
    sheet = load_workbook(io.BytesIO(download.content), read_only=True).active
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    header_at = next(index for index, row in enumerate(rows) if row and row[0] == "Container No.")
    headers, body = rows[header_at], [row for row in rows[header_at + 1 :] if any(row)]
    assert [row[0] for row in body] == wanted
    on_page = {row["container_no"]: row for row in _rows(first) + _rows(second)}
    column = {name: index for index, name in enumerate(headers)}
    for row in body[:-1]:
        page_row = on_page[row[0]]
        assert row[column["Last Free Day"]] == page_row["last_free_day"]
        assert row[column["Holds"]] == page_row["holds"]
        assert row[column["B/L No."]] == page_row["mbl_no"]
    assert body[-1][column["Status"]] == "Container not found at this terminal"
    # The page the export was pressed on stays usable: its tokens still page on.
    assert read_pager(client.postback(second, "gvResults", "Page$1").content).page == 1
    assert portal.counters()["exports"] == 1


def test_chinese_variant_is_really_gbk(portal: RunningPortal, make_client) -> None:
    client = make_client(portal, "zh")
    client.login()
    results = client.search([*_numbers(portal, 25), INVALID])
    assert results.headers["content-type"] == "text/html; charset=GBK"
    with pytest.raises(UnicodeDecodeError):
        results.content.decode("utf-8")
    text = results.content.decode("gbk")
    assert '<meta http-equiv="Content-Type" content="text/html; charset=GBK" />' in text
    assert "&#" not in text.replace("&#39;", "")  # every character is real GBK, none escaped
    for word in ("箱号", "提单号", "免费期截止", "已卸船", "可提"):
        assert word in text
    rows = _rows(results)
    assert {row.get("status") for row in rows} >= {"已卸船", "未卸船"}
    assert all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["last_free_day"]) for row in rows if row.get("last_free_day")
    )
    paged = client.postback(results, "gvResults", "Page$2")
    assert "第 2 页，共 2 页" in page_text(paged) and "箱号无效" in page_text(paged)
    english = make_client(portal, "en")
    english.login()
    english_rows = _rows(english.search([*_numbers(portal, 25), INVALID]))[:20]
    assert [row["container_no"] for row in rows] == [row["container_no"] for row in english_rows]
    assert [row.get("mbl_no") for row in rows] == [row.get("mbl_no") for row in english_rows]


def test_chinese_words_for_holds_and_exams(portal: RunningPortal, make_client) -> None:
    now = portal.clock.now()
    inspected = next(c for c in portal.world.containers if portal.world.state(c, now).customs == "INSPECTION")
    client = make_client(portal, "zh")
    client.login()
    [row] = _rows(client.search([inspected.container_number]))
    assert row["customs_release"] == "查验" and "海关" in row["holds"] and row["available"] == "不可提"
    released = next(c for c in portal.world.containers if portal.world.state(c, now).available)
    [row] = _rows(client.search([released.container_number]))
    assert row["customs_release"] == "海关放行" and row["available"] == "可提" and row["holds"] == "无"


def test_the_same_seed_gives_the_same_portal(make_portal, make_client) -> None:
    answers = []
    for seed in (11, 11, 12):
        portal = make_portal(seed=seed)
        client = make_client(portal)
        client.login()
        answers.append(_rows(client.search(_numbers(portal, 20))))
    assert answers[0] == answers[1]
    assert answers[0] != answers[2]


def test_containers_move_through_their_lifecycle_as_the_clock_runs(make_portal, make_client) -> None:
    portal = make_portal(clock_pinned=None, clock_start=None)
    portal.clock.pin(portal.options.epoch)
    client = make_client(portal)
    client.login()
    numbers = _numbers(portal, 20)
    statuses = []
    for _day in range(12):
        statuses.append({row["container_no"]: row["status"] for row in _rows(client.search(numbers))})
        portal.clock.advance(timedelta(days=1))
    order = {"On Vessel": 0, "In Yard": 1, "Delivered": 2, "Empty Returned": 3}
    for number in numbers:
        steps = [order[day[number]] for day in statuses]
        assert steps == sorted(steps), f"{number} went backwards: {steps}"
    assert set(statuses[0].values()) == {"On Vessel"}
    assert {"In Yard", "Delivered"} <= set(statuses[-1].values())


def test_default_clock_starts_days_after_the_epoch_and_runs(make_portal) -> None:
    portal = make_portal(clock_pinned=None)
    start = portal.clock.now()
    assert start - portal.options.epoch >= timedelta(days=3)
    assert not portal.clock.pinned and portal.clock.speed == 60
