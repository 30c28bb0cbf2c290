"""What every renderer shares: the parties' addresses, time formats, MIME helpers, and `render`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sandbox.mail.mime import Part, encoded_word, message_bytes, multipart, text_part
from sandbox.mail.planned import MAIL_TIME_ZONE, RECIPIENT, GeneratedMail, PlannedMail
from sandbox.world import TERMINAL_ZONE, Container, VesselCall, World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAERSK = "Maersk Customer Notifications <noreply@maersk-line.example>"
COSCO = f"{encoded_word('中远海运客服', 'gbk')} <notice@cosco-shipping.example>"
MSC = "MSC Arrivals <arrivals@msc-line.example>"
CMA = "CMA CGM Customer Service <no-reply@cma-cgm.example>"
EVERGREEN = "Evergreen EDI <edi@evergreen-line.example>"
TERMINAL_REPORTS = "Sandbox Terminal Reports <reports@sandbox-terminal.example>"
TERMINAL_EDI = "Sandbox Terminal EDI <edi@sandbox-terminal.example>"
BROKER = f"{encoded_word('报关行', 'gbk')} <customs@sandbox-broker.example>"
LINE_SENDERS = {"MAERSK": MAERSK, "COSCO": COSCO, "MSC": MSC, "CMA CGM": CMA, "EVERGREEN": EVERGREEN}
CHINESE_LINES = ("COSCO", "EVERGREEN")
UTC = ZoneInfo("UTC")


def cn_time(moment: datetime) -> str:
    """China local time, as the carriers' offices write it."""
    return moment.astimezone(MAIL_TIME_ZONE).strftime("%Y-%m-%d %H:%M")


def terminal_time(moment: datetime) -> str:
    """Terminal local time with its offset, as the terminal's reports write it."""
    local = moment.astimezone(TERMINAL_ZONE)
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M ") + f"{offset[:3]}:{offset[3:]}"


def day_text(day: date | None) -> str:
    return day.isoformat() if day else ""


def boundary(planned: PlannedMail, level: int) -> str:
    return f"----=_sandbox_{abs(hash_text(planned.key)) % 10**12:012d}_{level}"


def hash_text(text: str) -> int:
    """A stable hash (Python's own is salted per process)."""
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % (2**61 - 1)
    return value


class Mail:
    """What a renderer returns: headers and the MIME tree."""

    def __init__(self, template: str, sender: str, subject: str, root: Part) -> None:
        self.template = template
        self.sender = sender
        self.subject = subject
        self.root = root


def sender_zone(sender: str) -> ZoneInfo:
    return TERMINAL_ZONE if "sandbox-terminal" in sender else MAIL_TIME_ZONE


def boxes(world: World, planned: PlannedMail) -> list[Container]:
    found = [world.find(number) for number in planned.containers]
    return [box for box in found if box is not None]


def vessel_call(world: World, planned: PlannedMail) -> tuple[int, VesselCall]:
    assert planned.vessel_index is not None
    return planned.vessel_index, world.vessel_calls[planned.vessel_index]


def with_attachment(planned: PlannedMail, body: Part, attachment: Part) -> Part:
    return multipart("mixed", [body, attachment], boundary(planned, 1))


def gbk_text(text: str, *, variant: int) -> Part:
    """A GBK body, labelled as real mailers label it: GBK, GB2312 or GB18030; 8-bit or base64."""
    label = ("gbk", "gb2312", "GB18030")[variant % 3]
    part = text_part(text, charset="gbk", transfer="8bit" if variant % 2 == 0 else "base64")
    part.params = [f'charset="{label}"']
    return part


Renderer = Callable[[World, PlannedMail], Mail]


def render(world: World, planned: PlannedMail, renderer: Renderer, *, message_id: str) -> GeneratedMail:
    mail = renderer(world, planned)
    raw = message_bytes(
        sender=mail.sender,
        recipient=RECIPIENT,
        subject=mail.subject,
        sent_at=planned.sent_at.astimezone(sender_zone(mail.sender)),
        message_id=message_id,
        root=mail.root,
    )
    return GeneratedMail(
        key=planned.key,
        kind=planned.kind,
        template=mail.template,
        sent_at=planned.sent_at,
        sender=mail.sender,
        subject=mail.subject,
        message_id=message_id,
        containers=planned.containers,
        raw=raw,
    )
