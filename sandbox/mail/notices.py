"""Carrier and broker mail: arrival notices (one layout per line), delay, discharge and customs notices."""

from __future__ import annotations

from sandbox.mail import edi
from sandbox.mail.documents import csv_report, xlsx_report
from sandbox.mail.mime import attachment_part, encoded_word, multipart, text_part
from sandbox.mail.planned import PlannedMail
from sandbox.mail.rendering import (
    BROKER,
    CHINESE_LINES,
    CMA,
    COSCO,
    EVERGREEN,
    LINE_SENDERS,
    MAERSK,
    MSC,
    XLSX,
    Mail,
    Renderer,
    boundary,
    boxes,
    cn_time,
    day_text,
    gbk_text,
    hash_text,
    vessel_call,
    with_attachment,
)
from sandbox.world import TERMINAL_LOCODE, TERMINAL_NAME, World

# -- arrival notices, one layout per line ----------------------------------------------------


def _arrival(world: World, planned: PlannedMail) -> Mail:
    _, call = vessel_call(world, planned)
    return _ARRIVAL_BY_LINE[call.line](world, planned)


def _arrival_maersk(world: World, planned: PlannedMail) -> Mail:
    _, call = vessel_call(world, planned)
    eta = cn_time(call.estimate_at(planned.sent_at))
    rows = "".join(
        f"<tr><td>{box.container_number}</td><td>{box.iso_size_type}</td><td>{box.bill_of_lading}</td>"
        f"<td>{box.weight_kg:,}</td><td>{box.customer}</td></tr>"
        for box in boxes(world, planned)
    )
    html = f"""<html><head><meta charset="utf-8"><style>td,th{{border:1px solid #999;padding:2px 6px}}</style>
</head><body><p>Dear {planned.customer},</p>
<p>Please be advised of the arrival of the following shipment(s).</p>
<p><b>Vessel:</b> {call.vessel}<br><b>Voyage:</b> {call.voyage}<br><b>ETA:</b> {eta}<br>
<b>Port of Discharge:</b> Long Beach, CA ({TERMINAL_LOCODE})<br><b>Terminal:</b> {TERMINAL_NAME}</p>
<table cellspacing="0"><thead><tr><th>Container No.</th><th>Size/Type</th><th>B/L No.</th>
<th>Gross Weight (KG)</th><th>Consignee</th></tr></thead><tbody>{rows}</tbody></table>
<p>Kind regards,<br>Maersk Customer Service</p></body></html>"""
    text = (
        f"Dear {planned.customer},\n\nYour shipment on {call.vessel} voyage {call.voyage} arrives at "
        f"{TERMINAL_NAME}; the container list is in the HTML version of this notice.\n\n"
        "Maersk Customer Service\n"
    )
    alternative = multipart(
        "alternative",
        [
            text_part(text, transfer="quoted-printable"),
            text_part(html, subtype="html", transfer="quoted-printable"),
        ],
        boundary(planned, 0),
    )
    subject = f"Arrival Notice {call.vessel} {call.voyage} ETA {eta[:10]}"
    return Mail("maersk_arrival_html", MAERSK, subject, alternative)


def _arrival_cosco(world: World, planned: PlannedMail) -> Mail:
    index, call = vessel_call(world, planned)
    lines = [
        f"尊敬的{planned.customer}：",
        "",
        "您的货物即将到港，详情如下。",
        "",
        f"船名：{call.vessel}",
        f"航次：{call.voyage}",
        f"预计到港：{cn_time(call.estimate_at(planned.sent_at))}",
        f"卸货港：{TERMINAL_LOCODE}",
        f"码头：{TERMINAL_NAME}",
        "",
    ]
    for box in boxes(world, planned):
        lines += [
            f"箱号：{box.container_number}",
            f"提单号：{box.bill_of_lading}",
            f"箱型：{box.iso_size_type}",
            f"重量：{box.weight_kg} KG",
            "",
        ]
    lines.append("此邮件为系统自动发送，请勿回复。")
    body = gbk_text("\n".join(lines), variant=index)
    subject = encoded_word(f"到港通知 {call.vessel} {call.voyage}", "gbk")
    return Mail("key_value_notice", COSCO, subject, body)


def _arrival_msc(world: World, planned: PlannedMail) -> Mail:
    _, call = vessel_call(world, planned)
    eta = cn_time(call.estimate_at(planned.sent_at))
    workbook = xlsx_report(
        title_rows=[
            "MSC MEDITERRANEAN SHIPPING COMPANY – ARRIVAL NOTICE",
            f"Vessel / Voyage: {call.vessel} / {call.voyage}",
            f"ETA: {eta}",
            f"Port of Discharge: {TERMINAL_LOCODE} – {TERMINAL_NAME}",
        ],
        header=["Container No.", "Size/Type", "Bill of Lading", "Consignee", "Gross Weight (KG)"],
        rows=[
            [box.container_number, box.iso_size_type, box.bill_of_lading, box.customer, box.weight_kg]
            for box in boxes(world, planned)
        ],
        moment=planned.sent_at,
        sheet="Arrival Notice",
    )
    body = text_part(
        f"Dear {planned.customer},\n\nPlease find attached the arrival notice for {call.vessel} "
        f"voyage {call.voyage}.\n\nBest regards,\nMSC Customer Service\n",
        transfer="7bit",
    )
    attachment = attachment_part(workbook, XLSX, f"Arrival Notice – {call.vessel} {call.voyage}.xlsx")
    subject = f"MSC Arrival Notice - {call.vessel} V.{call.voyage}"
    return Mail("msc_arrival_xlsx", MSC, subject, with_attachment(planned, body, attachment))


def _arrival_cma(world: World, planned: PlannedMail) -> Mail:
    _, call = vessel_call(world, planned)
    eta = cn_time(call.estimate_at(planned.sent_at))
    table = csv_report(
        ["箱号", "提单号", "船名", "航次", "预计到港", "箱型", "收货人"],
        [
            [
                box.container_number,
                box.bill_of_lading,
                call.vessel,
                call.voyage,
                eta,
                box.iso_size_type,
                box.customer,
            ]
            for box in boxes(world, planned)
        ],
        encoding="gbk",
    )
    body = text_part(
        f"Dear customer,\n\nPlease find the arrival list for {call.vessel} {call.voyage} attached.\n\n"
        "CMA CGM Customer Service\n",
        transfer="7bit",
    )
    # Their mailer names the file only on Content-Type, RFC 2047 in GBK, and sends no disposition.
    attachment = attachment_part(
        table,
        "application/octet-stream",
        f"到港通知_{call.voyage}.csv",
        disposition=False,
        name_style="rfc2047",
        charset="gbk",
    )
    subject = f"CMA CGM Arrival Notice {call.vessel} {call.voyage}"
    return Mail("table_attachment", CMA, subject, with_attachment(planned, body, attachment))


def _arrival_evergreen(world: World, planned: PlannedMail) -> Mail:
    index, call = vessel_call(world, planned)
    interchange = edi.iftsta_arrival(call, boxes(world, planned), planned.sent_at, control=f"EG{index:02d}")
    body = text_part("IFTSTA arrival status attached.\n", transfer="7bit")
    attachment = attachment_part(
        interchange, "application/EDIFACT", f"IFTSTA_{call.voyage}_{planned.sent_at:%Y%m%d%H%M}.edi"
    )
    subject = f"EDI IFTSTA {call.vessel} {call.voyage}"
    return Mail("edifact_attachment", EVERGREEN, subject, with_attachment(planned, body, attachment))


_ARRIVAL_BY_LINE: dict[str, Renderer] = {
    "MAERSK": _arrival_maersk,
    "COSCO": _arrival_cosco,
    "MSC": _arrival_msc,
    "CMA CGM": _arrival_cma,
    "EVERGREEN": _arrival_evergreen,
}


def _delay(world: World, planned: PlannedMail) -> Mail:
    index, call = vessel_call(world, planned)
    new_eta = cn_time(call.estimate_at(planned.sent_at))
    numbers = list(planned.containers)
    if call.line in CHINESE_LINES:
        text = "\n".join(
            [
                "船期延误通知",
                "",
                f"船名：{call.vessel}",
                f"航次：{call.voyage}",
                f"原预计到港：{cn_time(call.eta)}",
                f"新预计到港：{new_eta}",
                "原因：港口拥堵",
                "",
                f"箱号：{'、'.join(numbers)}",
            ]
        )
        subject = encoded_word(f"船期延误通知 {call.vessel} {call.voyage}", "gbk")
        return Mail("key_value_notice", LINE_SENDERS[call.line], subject, gbk_text(text, variant=index))
    text = "\n".join(
        [
            "VESSEL DELAY NOTICE",
            "",
            f"Vessel: {call.vessel}",
            f"Voyage: {call.voyage}",
            f"Original ETA: {cn_time(call.eta)}",
            f"New ETA: {new_eta}",
            "Reason: Port congestion",
            "",
            f"Affected containers: {', '.join(numbers)}",
        ]
    )
    subject = f"Vessel delay: {call.vessel} {call.voyage} new ETA {new_eta[:10]}"
    return Mail("key_value_notice", LINE_SENDERS[call.line], subject, text_part(text, transfer="7bit"))


def _cosco_discharge(world: World, planned: PlannedMail) -> Mail:
    _index, call = vessel_call(world, planned)
    (box,) = boxes(world, planned)
    state = world.state(box, planned.sent_at)
    text = "\n".join(
        [
            "卸船通知",
            "",
            f"箱号：{box.container_number}",
            f"提单号：{box.bill_of_lading}",
            f"船名：{call.vessel}",
            f"航次：{call.voyage}",
            "状态：已卸船",
            f"卸船时间：{cn_time(box.discharged_at)}",
            f"免柜期：{day_text(state.last_free_day)}",
            f"码头：{TERMINAL_NAME}",
        ]
    )
    subject = encoded_word(f"卸船通知 {box.container_number}", "gbk")
    return Mail("key_value_notice", COSCO, subject, gbk_text(text, variant=hash_text(box.container_number)))


def _customs_release(world: World, planned: PlannedMail) -> Mail:
    (box,) = boxes(world, planned)
    assert box.customs_released_at is not None
    variant = hash_text(box.container_number)
    if variant % 2 == 0:
        text = "\n".join(
            [
                "海关放行通知",
                "",
                f"箱号：{box.container_number}",
                f"提单号：{box.bill_of_lading}",
                f"船名：{box.vessel.vessel}",
                f"航次：{box.vessel.voyage}",
                "状态：海关放行",
                "海关：已放行",
                f"放行时间：{cn_time(box.customs_released_at)}",
            ]
        )
        body = gbk_text(text, variant=variant)
        if variant % 5 == 0:  # some brokers' mailers label GBK text as Latin-1
            body.params = ['charset="iso-8859-1"']
        subject = encoded_word(f"海关放行 {box.container_number}", "gbk")
    else:
        text = "\n".join(
            [
                "CUSTOMS RELEASE NOTICE",
                "",
                f"Container: {box.container_number}",
                f"B/L: {box.bill_of_lading}",
                "Status: Customs released",
                "Customs: Released",
                f"Release time: {cn_time(box.customs_released_at)}",
            ]
        )
        body = text_part(text, transfer="7bit")
        subject = f"Customs release {box.container_number}"
    return Mail("key_value_notice", BROKER, subject, body)


def _customs_inspection(world: World, planned: PlannedMail) -> Mail:
    (box,) = boxes(world, planned)
    assert box.inspection_at is not None
    text = "\n".join(
        [
            "海关查验通知",
            "",
            f"箱号：{box.container_number}",
            f"提单号：{box.bill_of_lading}",
            "状态：海关查验",
            "海关：查验",
            f"查验时间：{cn_time(box.inspection_at)}",
            "请准备相关单证。",
        ]
    )
    subject = encoded_word(f"查验通知 {box.container_number}", "gbk")
    return Mail("key_value_notice", BROKER, subject, gbk_text(text, variant=hash_text(box.container_number)))


RENDERERS: dict[str, Renderer] = {
    "arrival_notice": _arrival,
    "vessel_delay": _delay,
    "cosco_discharge": _cosco_discharge,
    "customs_release": _customs_release,
    "customs_inspection": _customs_inspection,
}
