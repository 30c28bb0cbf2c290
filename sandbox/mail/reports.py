"""Terminal mail: discharge lists (Excel or COARRI), daily availability reports, CODECO gate reports."""

from __future__ import annotations

from sandbox.mail import edi
from sandbox.mail.documents import csv_report, xlsx_report
from sandbox.mail.mime import attachment_part, encoded_word, text_part
from sandbox.mail.planned import PlannedMail
from sandbox.mail.rendering import (
    TERMINAL_EDI,
    TERMINAL_REPORTS,
    XLSX,
    Mail,
    Renderer,
    boxes,
    day_text,
    gbk_text,
    terminal_time,
    vessel_call,
    with_attachment,
)
from sandbox.world import TERMINAL_NAME, TERMINAL_ZONE, World

# -- terminal reports ------------------------------------------------------------------------


def _discharge_list(world: World, planned: PlannedMail) -> Mail:
    index, call = vessel_call(world, planned)
    on_board = boxes(world, planned)
    if index % 2 == 1:
        interchange = edi.coarri_discharge(call, on_board, planned.sent_at, control=f"CO{index:02d}")
        body = text_part(f"COARRI discharge report {call.vessel} {call.voyage}.\n", transfer="7bit")
        # The terminal's EDI robot names the file on Content-Type only.
        attachment = attachment_part(
            interchange, "application/EDIFACT", f"COARRI_{call.voyage}.edi", disposition=False
        )
        subject = f"COARRI {call.vessel} {call.voyage}"
        return Mail("edifact_attachment", TERMINAL_EDI, subject, with_attachment(planned, body, attachment))
    rows = []
    for box in on_board:
        state = world.state(box, planned.sent_at)
        rows.append(
            [
                box.container_number,
                box.line,
                box.iso_size_type,
                box.bill_of_lading,
                call.vessel,
                call.voyage,
                terminal_time(box.discharged_at),
                state.yard_location or "",
                "Discharged",
            ]
        )
    workbook = xlsx_report(
        title_rows=[TERMINAL_NAME, f"DISCHARGE LIST – {call.vessel} / {call.voyage}"],
        note_rows=[f"Printed {terminal_time(planned.sent_at)}"],
        header=[
            "Container No.",
            "Line",
            "Size/Type",
            "B/L No.",
            "Vessel",
            "Voyage",
            "Discharge Time",
            "Yard Location",
            "Status",
        ],
        rows=rows,
        moment=planned.sent_at,
        sheet="Discharge",
    )
    body = text_part(f"Discharge list for {call.vessel} {call.voyage} attached.\n", transfer="7bit")
    slug = call.vessel.replace(" ", "_").replace(".", "")
    attachment = attachment_part(workbook, XLSX, f"discharge_list_{slug}_{call.voyage}.xlsx")
    subject = f"Discharge List {call.vessel} {call.voyage}"
    return Mail("table_attachment", TERMINAL_REPORTS, subject, with_attachment(planned, body, attachment))


_YES_NO = {True: "Yes", False: "No"}
_CN_RELEASE = {"RELEASED": "已放行", "HOLD": "扣留", "INSPECTION": "查验"}


def _availability(world: World, planned: PlannedMail) -> Mail:
    moment = planned.sent_at
    day = moment.astimezone(TERMINAL_ZONE).date()
    rows_en, rows_cn = [], []
    for box in boxes(world, planned):
        state = world.state(box, moment)
        appointment = terminal_time(state.appointment_at) if state.appointment_at else ""
        holds = ", ".join(state.holds)
        rows_en.append(
            [
                box.container_number,
                box.line,
                box.iso_size_type,
                box.vessel.vessel,
                box.vessel.voyage,
                _YES_NO[state.available],
                state.customs,
                state.freight,
                state.tmf,
                state.usda or "",
                holds or "None",
                day_text(state.last_free_day),
                f"${state.demurrage_usd:,.2f}",
                state.yard_location or "",
                appointment,
            ]
        )
        rows_cn.append(
            [
                box.container_number,
                box.line,
                box.iso_size_type,
                box.vessel.vessel,
                box.vessel.voyage,
                "可提" if state.available else "不可提",
                _CN_RELEASE[state.customs],
                _CN_RELEASE[state.freight],
                _CN_RELEASE[state.tmf],
                _CN_RELEASE.get(state.usda or "", ""),
                "、".join(
                    {"CUSTOMS": "海关", "FREIGHT": "运费", "USDA": "USDA", "TMF": "TMF"}[h]
                    for h in state.holds
                )
                or "无",
                day_text(state.last_free_day),
                str(state.demurrage_usd),
                state.yard_location or "",
                appointment,
            ]
        )
    if day.toordinal() % 2 == 0:
        workbook = xlsx_report(
            title_rows=[TERMINAL_NAME, f"CONTAINER AVAILABILITY – {day.isoformat()}"],
            note_rows=["Holds and last free day as of 07:00 local time. Demurrage in USD."],
            header=[
                "Container No.",
                "Line",
                "Size/Type",
                "Vessel",
                "Voyage",
                "Available",
                "Customs",
                "Freight",
                "TMF",
                "USDA",
                "Holds",
                "Last Free Day",
                "Demurrage",
                "Yard Location",
                "Appointment",
            ],
            rows=rows_en,
            moment=moment,
            sheet="Availability",
        )
        attachment = attachment_part(workbook, XLSX, f"availability_{day.isoformat()}.xlsx")
        subject = f"Container Availability Report {day.isoformat()}"
        body = text_part(f"Availability report for {day.isoformat()} attached.\n", transfer="7bit")
    else:
        table = csv_report(
            [
                "箱号",
                "船公司",
                "箱型",
                "船名",
                "航次",
                "可提",
                "海关",
                "运费状态",
                "TMF",
                "USDA",
                "扣留",
                "免柜期",
                "滞箱费",
                "堆场位置",
                "预约时间",
            ],
            rows_cn,
            encoding="gbk",
        )
        attachment = attachment_part(table, 'text/csv; charset="gbk"', f"可提柜报告_{day.isoformat()}.csv")
        subject = encoded_word(f"可提柜报告 {day.isoformat()}", "gbk")
        body = gbk_text(f"附件为{day.isoformat()}可提柜报告。", variant=day.toordinal())
    return Mail("table_attachment", TERMINAL_REPORTS, subject, with_attachment(planned, body, attachment))


def _gate_activity(world: World, planned: PlannedMail) -> Mail:
    on_board = boxes(world, planned)
    interchange = edi.codeco_gate(on_board, planned.sent_at, control=f"GT{planned.key.split(':')[1]}")
    body = text_part("CODECO gate activity attached.\n", transfer="7bit")
    attachment = attachment_part(interchange, "application/EDIFACT", f"CODECO_{planned.sent_at:%Y%m%d%H}.edi")
    subject = f"CODECO gate report {planned.sent_at.astimezone(TERMINAL_ZONE):%Y-%m-%d %H:%M}"
    return Mail("edifact_attachment", TERMINAL_EDI, subject, with_attachment(planned, body, attachment))


RENDERERS: dict[str, Renderer] = {
    "discharge_list": _discharge_list,
    "availability": _availability,
    "gate_activity": _gate_activity,
}
