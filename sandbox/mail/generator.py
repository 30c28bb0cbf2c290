"""Carrier and terminal mail about the sandbox World, due as the world clock runs.

What each party sends (all of it about the World's own containers, B/Ls and vessels):

| who (From)                               | what                                  | template             |
|------------------------------------------|---------------------------------------|----------------------|
| Maersk  noreply@maersk-line.example      | arrival notice, HTML body with table  | maersk_arrival_html  |
| COSCO   notice@cosco-shipping.example    | arrival + discharge notices, GBK text | key_value_notice     |
| MSC     arrivals@msc-line.example        | arrival notice .xlsx, title rows      | msc_arrival_xlsx     |
| CMA CGM no-reply@cma-cgm.example         | arrival list .csv in GBK (no C-D)     | table_attachment     |
| Evergreen edi@evergreen-line.example     | IFTSTA arrival status .edi            | edifact_attachment   |
| any line                                 | vessel delay notice (EN / 中文)        | key_value_notice     |
| terminal reports@sandbox-terminal.example| discharge list, daily availability    | table_attachment     |
| terminal edi@sandbox-terminal.example    | COARRI discharge, CODECO gate in/out  | edifact_attachment   |
| broker customs@sandbox-broker.example    | 海关放行 / customs release, 查验       | key_value_notice     |

`SANDBOX_ROUTES` are the routing rules that pick those templates (config.yaml carries the same).
Times in carrier notices are China local time (the mailbox's configured zone); terminal reports
write Los Angeles local time with an explicit offset; EDIFACT writes UTC (DTM format 303).
The sandbox imports nothing of quaysync's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.mail import edi, notices, rendering, reports
from sandbox.mail.planned import MAIL_TIME_ZONE, GeneratedMail, PlannedMail
from sandbox.world import TERMINAL_ZONE, Container, World

RENDERERS: dict[str, rendering.Renderer] = {**notices.RENDERERS, **reports.RENDERERS}
__all__ = [
    "MAIL_TIME_ZONE",
    "SANDBOX_ROUTES",
    "GeneratedMail",
    "MailGenerator",
    "PlannedMail",
    "mail_between",
]

# Routing rules for the sandbox mailbox, first match wins (MailRoute fields).
SANDBOX_ROUTES: tuple[dict[str, str], ...] = (
    {"template": "edifact_attachment", "attachment": "*.edi"},
    {"template": "key_value_notice", "subject": r"(?i)vessel delay|船期延误|customs|海关|查验|卸船通知"},
    {"template": "maersk_arrival_html", "sender": r"@maersk-line\.example$"},
    {"template": "msc_arrival_xlsx", "sender": r"@msc-line\.example$", "attachment": "*.xlsx"},
    {"template": "key_value_notice", "sender": r"@cosco-shipping\.example$"},
    {"template": "table_attachment", "attachment": "*.xlsx"},
    {"template": "table_attachment", "attachment": "*.csv"},
    {"template": "table_attachment", "attachment": "*.xls"},
)


class MailGenerator:
    """Plans every mail of one World and renders any of them to bytes, deterministically."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._plan = sorted(self._schedule())

    @property
    def plan(self) -> list[PlannedMail]:
        return list(self._plan)

    def due(self, after: datetime | None, until: datetime) -> Iterator[GeneratedMail]:
        """Mail sent in (after, until], oldest first; `after=None` means from the beginning."""
        for planned in self._plan:
            if planned.sent_at > until:
                break
            if after is None or planned.sent_at > after:
                yield self.render(planned)

    def render(self, planned: PlannedMail) -> GeneratedMail:
        renderer = RENDERERS[planned.kind]
        return rendering.render(self.world, planned, renderer, message_id=self._message_id(planned))

    def _message_id(self, planned: PlannedMail) -> str:
        digest = hashlib.sha256(f"{self.world.seed}|{planned.key}".encode()).hexdigest()[:20]
        return f"<{planned.kind}.{digest}@mail.sandbox.example>"

    # -- the schedule ----------------------------------------------------------------------

    def _schedule(self) -> Iterator[PlannedMail]:
        world = self.world
        by_call: dict[int, list[Container]] = {}
        for container in world.containers:
            by_call.setdefault(world.vessel_calls.index(container.vessel), []).append(container)
        for index, call in enumerate(world.vessel_calls):
            on_board = sorted(by_call.get(index, []), key=lambda box: box.container_number)
            if not on_board:
                continue
            notice_at = call.eta - timedelta(days=2, minutes=-17 * index)
            customers = sorted({box.customer for box in on_board})
            for offset, customer in enumerate(customers):
                boxes = tuple(box.container_number for box in on_board if box.customer == customer)
                yield PlannedMail(
                    notice_at + timedelta(minutes=3 * offset),
                    f"arrival:{index}:{customer}",
                    "arrival_notice",
                    boxes,
                    index,
                    customer,
                )
            if call.ata - call.eta >= timedelta(hours=6):
                # The slip becomes public three days before arrival (World.estimate_at).
                delay_at = max(call.ata - timedelta(days=3), notice_at + timedelta(hours=2))
                numbers = tuple(box.container_number for box in on_board)
                yield PlannedMail(delay_at, f"delay:{index}", "vessel_delay", numbers, index)
            last_discharge = max(box.discharged_at for box in on_board)
            yield PlannedMail(
                last_discharge + timedelta(minutes=45),
                f"discharge:{index}",
                "discharge_list",
                tuple(box.container_number for box in on_board),
                index,
            )
        for number, container in enumerate(sorted(world.containers, key=lambda box: box.container_number)):
            index = world.vessel_calls.index(container.vessel)
            box = (container.container_number,)
            if container.line == "COSCO":
                yield PlannedMail(
                    container.discharged_at + timedelta(hours=1),
                    f"cosco-disc:{box[0]}",
                    "cosco_discharge",
                    box,
                    index,
                )
            if container.inspection_at is not None:
                yield PlannedMail(
                    container.inspection_at + timedelta(minutes=10),
                    f"exam:{box[0]}",
                    "customs_inspection",
                    box,
                    index,
                )
            if container.customs_released_at is not None:
                yield PlannedMail(
                    container.customs_released_at + timedelta(minutes=20 + number % 7),
                    f"release:{box[0]}",
                    "customs_release",
                    box,
                    index,
                )
        yield from self._gate_batches()
        yield from self._availability_reports()

    def _gate_batches(self) -> Iterator[PlannedMail]:
        """CODECO every six hours for the gate moves (full out, empty in) of that window."""
        window = edi.GATE_WINDOW
        batches: dict[int, set[str]] = {}
        for container in self.world.containers:
            for moment in (container.gate_out_at, container.empty_return_at):
                if moment is not None:
                    slot = int((moment - self.world.epoch) // window) + 1
                    batches.setdefault(slot, set()).add(container.container_number)
        for slot, numbers in sorted(batches.items()):
            sent_at = self.world.epoch + slot * window + edi.GATE_REPORT_DELAY
            yield PlannedMail(sent_at, f"codeco:{slot}", "gate_activity", tuple(sorted(numbers)))

    def _availability_reports(self) -> Iterator[PlannedMail]:
        """The terminal's daily 07:00 (local) availability report while boxes sit in the yard."""
        world = self.world
        first = min(box.discharged_at for box in world.containers).astimezone(TERMINAL_ZONE).date()
        last_move = max(
            (box.gate_out_at or box.discharged_at + timedelta(days=box.free_days + 3))
            for box in world.containers
        )
        day = first + timedelta(days=1)
        while True:
            local = datetime(day.year, day.month, day.day, 7, 0, tzinfo=TERMINAL_ZONE)
            moment = local.astimezone(ZoneInfo("UTC"))
            if moment > last_move + timedelta(days=1):
                return
            in_yard = tuple(
                box.container_number
                for box in sorted(world.containers, key=lambda box: box.container_number)
                if world.state(box, moment).yard_location is not None
            )
            if in_yard:
                yield PlannedMail(moment, f"availability:{day.isoformat()}", "availability", in_yard)
            day += timedelta(days=1)


def mail_between(world: World, after: datetime | None, until: datetime) -> list[GeneratedMail]:
    """Every mail of `world` sent in (after, until], oldest first."""
    return list(MailGenerator(world).due(after, until))
