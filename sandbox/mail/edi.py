"""UN/EDIFACT container messages the terminal and carriers send: COARRI, CODECO, IFTSTA.

Segment usage follows the SMDG message implementation guides as terminals write them:
COARRI D:95B BGM+98 (discharge report), CODECO D:95B BGM+34 (gate-in) / BGM+36 (gate-out),
IFTSTA D:99B BGM+23 (status report): STS VA (vessel arrival) with its estimate (DTM+132) per box.
Date/times are format 203 (CCYYMMDDHHMM) in the mailbox's configured zone, China local time:
`edi_time` is the one place that decides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sandbox.mail.documents import edi_text, edifact_interchange, segment
from sandbox.mail.planned import MAIL_TIME_ZONE
from sandbox.world import TERMINAL_LOCODE, TERMINAL_NAME, Container, VesselCall

TERMINAL_CODE = "SBXCT"
RECIPIENT_ID = "QUAYSYNC"
GATE_WINDOW = timedelta(hours=6)
GATE_REPORT_DELAY = timedelta(minutes=7)  # the report leaves this long after its window closes


def edi_time(moment: datetime) -> str:
    return moment.astimezone(MAIL_TIME_ZONE).strftime("%Y%m%d%H%M")


def _dtm(qualifier: str, moment: datetime) -> str:
    return segment("DTM", (qualifier, edi_time(moment), "203"))


def _tdt_vessel(call: VesselCall, scac: str) -> str:
    return segment(
        "TDT",
        "20",
        edi_text(call.voyage),
        "1",
        "",
        (scac, "172", "20"),
        "",
        "",
        ("", "146", "11", edi_text(call.vessel)),
    )


def _eqd(box: Container, *, full: bool) -> str:
    return segment(
        "EQD", "CN", box.container_number, (box.iso_size_type, "102", "5"), "", "3", "5" if full else "4"
    )


def coarri_discharge(
    call: VesselCall, boxes: Sequence[Container], moment: datetime, *, control: str
) -> bytes:
    """The discharge report of one vessel call: every box with its discharge moment."""
    scac = boxes[0].scac if boxes else "ZZZZ"
    body = [
        "COARRI:D:95B:UN:ITG13",
        segment("BGM", "98", f"{control}{moment:%m%d%H%M}", "9"),
        _tdt_vessel(call, scac),
        segment(
            "LOC", "11", (TERMINAL_LOCODE, "139", "6"), (TERMINAL_CODE, "TER", "ZZZ", edi_text(TERMINAL_NAME))
        ),
        _dtm("178", call.ata),
        segment("NAD", "CA", (scac, "160", "20")),
    ]
    for box in boxes:
        body += [
            _eqd(box, full=True),
            segment("RFF", ("BM", box.bill_of_lading)),
            _dtm("203", box.discharged_at),
            segment("MEA", "AAE", "G", ("KGM", str(box.weight_kg))),
        ]
    body.append(segment("CNT", ("16", str(len(boxes)))))
    return edifact_interchange(
        sender=TERMINAL_CODE,
        recipient=RECIPIENT_ID,
        prepared_at=moment.astimezone(MAIL_TIME_ZONE),
        control_ref=control,
        messages=[body],
    )


def codeco_gate(boxes: Sequence[Container], moment: datetime, *, control: str) -> bytes:
    """The gate moves of the window ending at `moment`: full boxes out (36), empties back in (34)."""
    end = moment - GATE_REPORT_DELAY
    start = end - GATE_WINDOW
    gate_out = [box for box in boxes if box.gate_out_at is not None and start <= box.gate_out_at < end]
    empty_in = [
        box for box in boxes if box.empty_return_at is not None and start <= box.empty_return_at < end
    ]
    messages = []
    for code, moved, full in (("36", gate_out, True), ("34", empty_in, False)):
        if not moved:
            continue
        body = [
            "CODECO:D:95B:UN:ITG14",
            segment("BGM", code, f"{control}{code}{moment:%m%d%H}", "9"),
            segment("NAD", "MS", (TERMINAL_CODE, "160", "ZZZ")),
        ]
        for box in moved:
            when = box.gate_out_at if full else box.empty_return_at
            assert when is not None
            body += [
                _eqd(box, full=full),
                segment("RFF", ("BM", box.bill_of_lading)),
                _dtm("7", when),
                segment("LOC", "165", (TERMINAL_LOCODE, "139", "6"), (TERMINAL_CODE, "TER", "ZZZ")),
                segment("TDT", "1", "", "3"),
            ]
        body.append(segment("CNT", ("16", str(len(moved)))))
        messages.append(body)
    return edifact_interchange(
        sender=TERMINAL_CODE,
        recipient=RECIPIENT_ID,
        prepared_at=moment.astimezone(MAIL_TIME_ZONE),
        control_ref=control,
        messages=messages,
    )


def iftsta_arrival(call: VesselCall, boxes: Sequence[Container], moment: datetime, *, control: str) -> bytes:
    """A carrier's status report: each consignment's box is expected on the vessel at ETA."""
    scac = boxes[0].scac if boxes else "ZZZZ"
    eta = call.estimate_at(moment)
    body = [
        "IFTSTA:D:99B:UN",
        segment("BGM", "23", f"{control}{moment:%m%d%H%M}", "9"),
        _dtm("137", moment),
        segment("NAD", "CA", (scac, "160", "20")),
    ]
    for number, box in enumerate(boxes, start=1):
        body += [
            segment("CNI", str(number), box.bill_of_lading),
            segment("STS", "1", ("VA", "", "", "Vessel arrival")),
            segment("RFF", ("BM", box.bill_of_lading)),
            _dtm("132", eta),
            segment("LOC", "11", (TERMINAL_LOCODE, "139", "6")),
            _tdt_vessel(call, scac),
            _eqd(box, full=True),
        ]
    return edifact_interchange(
        sender=scac,
        recipient=RECIPIENT_ID,
        prepared_at=moment.astimezone(MAIL_TIME_ZONE),
        control_ref=control,
        messages=[body],
    )
