"""The sandbox mail generator: deterministic, about the World's own containers, readable by its templates."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from functools import lru_cache

import openpyxl
import pytest
from pydifact.segmentcollection import Interchange

from parsers.email.message import read_message
from parsers.email.routing import choose_template
from parsers.email.templates import read_mail
from quaysync.config.sources import MailRoute
from quaysync.model import ParseContext
from sandbox.mail.generator import MAIL_TIME_ZONE, SANDBOX_ROUTES, GeneratedMail, MailGenerator, mail_between
from sandbox.world import World

ROUTES = [MailRoute(**route) for route in SANDBOX_ROUTES]
LIMITS = {"max_message_bytes": 25_000_000, "max_attachment_bytes": 20_000_000}


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


@lru_cache(maxsize=4)
def _mails(seed: int = 7, containers: int = 60) -> tuple[World, tuple[GeneratedMail, ...]]:
    world = World(seed=seed, containers=containers)
    generator = MailGenerator(world)
    return world, tuple(generator.render(planned) for planned in generator.plan)


def test_the_same_seed_gives_the_same_bytes() -> None:
    _world, mails = _mails()
    again = MailGenerator(World(seed=7, containers=60))
    assert [mail.raw for mail in mails] == [again.render(planned).raw for planned in again.plan]
    other = MailGenerator(World(seed=8, containers=60))
    assert {mail.raw for mail in mails}.isdisjoint(other.render(planned).raw for planned in other.plan[:20])


def test_every_kind_and_layout_is_sent() -> None:
    _world, mails = _mails()
    kinds = Counter(mail.kind for mail in mails)
    assert set(kinds) == {
        "arrival_notice",
        "vessel_delay",
        "cosco_discharge",
        "customs_release",
        "customs_inspection",
        "discharge_list",
        "availability",
        "gate_activity",
    }
    assert {mail.template for mail in mails} == {
        "maersk_arrival_html",
        "key_value_notice",
        "msc_arrival_xlsx",
        "table_attachment",
        "edifact_attachment",
    }
    assert len({mail.message_id for mail in mails}) == len(mails)


def test_mail_is_due_as_the_world_clock_runs() -> None:
    world, mails = _mails()
    generator = MailGenerator(world)
    start = world.epoch - timedelta(days=5)
    windows, moment = [], start
    while moment < world.epoch + timedelta(days=30):
        windows.append(list(generator.due(moment, moment + timedelta(hours=7))))
        moment += timedelta(hours=7)
    stepped = [mail for window in windows for mail in window]
    assert [mail.key for mail in stepped] == [mail.key for mail in mails]  # nothing twice, nothing lost
    assert [mail.sent_at for mail in stepped] == sorted(mail.sent_at for mail in stepped)
    first_day = mail_between(world, None, world.epoch + timedelta(days=1))
    assert first_day and all(mail.sent_at <= world.epoch + timedelta(days=1) for mail in first_day)
    assert [mail.raw for mail in first_day] == [mail.raw for mail in mails[: len(first_day)]]


def test_headers_date_the_mail_at_its_world_moment() -> None:
    _world, mails = _mails()
    for mail in mails[::7]:
        parsed = message_from_bytes(mail.raw, policy=policy.default)
        assert parsedate_to_datetime(parsed["Date"]) == mail.sent_at
        assert parsed["Message-ID"] == mail.message_id


def test_every_mail_is_routed_to_its_template_and_names_world_containers() -> None:
    world, mails = _mails()
    known = {box.container_number for box in world.containers}
    for mail in mails:
        message = read_message(mail.raw, **LIMITS)
        assert choose_template(message, ROUTES) == mail.template, (mail.kind, message.subject)
        context = ParseContext(
            source="mail:sandbox", source_ref=message.message_id or "", observed_at=mail.sent_at
        )
        reading = read_mail(mail.template, message, context)
        assert reading.problems == [], (mail.kind, reading.problems[:3])
        numbers = {observation.fields["container_no"] for observation in reading.observations}
        assert numbers == set(mail.containers), mail.kind
        assert numbers <= known


def test_what_the_mail_says_is_what_the_world_says() -> None:
    world, mails = _mails()
    checked = Counter()
    for mail in mails:
        message = read_message(mail.raw, **LIMITS)
        context = ParseContext(source="mail:sandbox", source_ref=mail.message_id, observed_at=mail.sent_at)
        for observation in read_mail(mail.template, message, context).observations:
            box = world.find(observation.fields["container_no"] or "")
            assert box is not None
            fields = observation.fields
            if mail.kind == "arrival_notice" and "eta" in fields:
                eta = box.vessel.estimate_at(mail.sent_at).astimezone(MAIL_TIME_ZONE)
                assert _digits(fields["eta"]) == eta.strftime("%Y%m%d%H%M")  # EDIFACT writes 202611041600
                assert fields["vessel"] == box.vessel.vessel
                checked["eta"] += 1
            if mail.kind == "vessel_delay":
                assert fields["eta"] == box.vessel.ata.astimezone(MAIL_TIME_ZONE).strftime("%Y-%m-%d %H:%M")
                checked["delay"] += 1
            if mail.kind == "customs_release":
                assert box.customs_released_at is not None
                assert fields["event_time"] == box.customs_released_at.astimezone(MAIL_TIME_ZONE).strftime(
                    "%Y-%m-%d %H:%M"
                )
                checked["release"] += 1
            if mail.kind == "availability":
                state = world.state(box, mail.sent_at)
                assert fields["last_free_day"] == state.last_free_day.isoformat()  # type: ignore[union-attr]
                assert fields["yard_location"] == state.yard_location
                checked["availability"] += 1
            if fields.get("mbl_no"):
                assert fields["mbl_no"] == box.bill_of_lading
    assert min(checked.values()) > 0 and len(checked) == 4, checked


def test_realistic_encodings_and_layouts_are_present() -> None:
    _world, mails = _mails()
    raw = [mail.raw for mail in mails]
    assert any(b'charset="gbk"\r\nContent-Transfer-Encoding: 8bit' in item for item in raw)  # 8-bit GBK body
    assert any(b'charset="gb2312"' in item for item in raw)
    assert any(b"filename*=UTF-8''" in item or b"filename*0*=UTF-8''" in item for item in raw)  # RFC 2231
    assert any(re.search(rb'name="=\?GBK\?B\?', item) for item in raw)  # RFC 2047 name
    assert any(b"Content-Disposition" not in item and b"name=" in item for item in raw)  # no disposition
    assert any(b"Subject: =?GBK?B?" in item for item in raw)
    assert any(b'charset="iso-8859-1"' in item for item in raw)  # a mislabelled GBK body


def test_workbooks_have_merged_title_rows_and_a_header_below_row_one() -> None:
    _world, mails = _mails()
    workbooks = []
    for mail in mails:
        for attachment in read_message(mail.raw, **LIMITS).attachments:
            if attachment.filename.endswith(".xlsx"):
                workbooks.append(openpyxl.load_workbook(io.BytesIO(attachment.content)))
    assert workbooks
    for workbook in workbooks:
        sheet = workbook.active
        header = next(row for row in range(1, 12) if sheet.cell(row, 1).value in ("Container No.",))
        assert header > 2
        assert any(merged.min_row == 1 and merged.max_col > 1 for merged in sheet.merged_cells.ranges)


@pytest.mark.filterwarnings(
    "ignore::pydifact.exceptions.MissingImplementationWarning"
)  # no XML specs offline
@pytest.mark.parametrize("kind", ["gate_activity", "discharge_list", "arrival_notice"])
def test_edifact_attachments_are_syntactically_valid(kind: str) -> None:
    _world, mails = _mails()
    interchanges = [
        attachment.content
        for mail in mails
        if mail.kind == kind and mail.template == "edifact_attachment"
        for attachment in read_message(mail.raw, **LIMITS).attachments
    ]
    assert interchanges
    for content in interchanges:
        interchange = Interchange.from_str(content.decode())
        segments = list(interchange.segments)
        messages = 0
        for index, segment in enumerate(segments):
            if segment.tag == "UNH":
                start, messages = index, messages + 1
            if segment.tag == "UNT":
                assert int(segment.elements[0]) == index - start + 1  # segments UNH … UNT inclusive
                assert segment.elements[1] == segments[start].elements[0]
        trailer = content.decode().strip().splitlines()[-1]
        assert trailer.startswith(f"UNZ+{messages}+") and messages >= 1
