"""The files carriers and terminals attach: Excel reports, CSV exports, UN/EDIFACT interchanges.

Every builder is deterministic (same input → same bytes), so the generated mailbox is the same
on every run: workbook timestamps come from the world moment, never from the wall clock.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Cell = str | int | float | None


def xlsx_report(
    *,
    title_rows: Sequence[str],
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    moment: datetime,
    sheet: str = "Sheet1",
    note_rows: Sequence[str] = (),
) -> bytes:
    """A workbook as carriers send them: merged, styled title rows, a blank row, then the table.

    The header row is therefore not row 1 (it is row len(title_rows) + len(note_rows) + 2).
    """
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    width = len(header)
    row_number = 1
    for index, title in enumerate([*title_rows, *note_rows]):
        worksheet.cell(row=row_number, column=1, value=title)
        worksheet.merge_cells(start_row=row_number, start_column=1, end_row=row_number, end_column=width)
        cell = worksheet.cell(row=row_number, column=1)
        cell.font = Font(bold=index == 0, size=14 if index == 0 else 11)
        cell.alignment = Alignment(horizontal="center" if index == 0 else "left")
        row_number += 1
    row_number += 1  # the blank row between the titles and the table
    fill = PatternFill("solid", fgColor="DDEBF7")
    for column, name in enumerate(header, start=1):
        cell = worksheet.cell(row=row_number, column=column, value=name)
        cell.font = Font(bold=True)
        cell.fill = fill
        worksheet.column_dimensions[get_column_letter(column)].width = max(12, len(str(name)) + 4)
    for values in rows:
        row_number += 1
        for column, value in enumerate(values, start=1):
            worksheet.cell(row=row_number, column=column, value=value)
    worksheet.freeze_panes = worksheet.cell(row=row_number - len(rows) + 1 if rows else row_number, column=1)
    workbook.properties.creator = "Sandbox Container Terminal reporting"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _pin_zip_times(buffer.getvalue(), moment)


def _pin_zip_times(blob: bytes, moment: datetime) -> bytes:
    """Rewrite an OOXML zip with entry times and document properties set to `moment`."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    date_time = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    source = zipfile.ZipFile(io.BytesIO(blob))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rb"\g<1>" + stamp.encode() + rb"\2",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return output.getvalue()


def csv_report(header: Sequence[str], rows: Sequence[Sequence[Cell]], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for values in rows:
        writer.writerow(["" if value is None else value for value in values])
    return buffer.getvalue().encode(encoding)


# -- UN/EDIFACT ------------------------------------------------------------------------------

_RELEASE = re.compile(r"([?'+:])")


def edi_text(value: object) -> str:
    """Escape EDIFACT service characters with the release character `?`."""
    return _RELEASE.sub(r"?\1", str(value))


def segment(tag: str, *elements: str | Sequence[str]) -> str:
    """One segment; an element given as a sequence is written as components joined by `:`."""
    parts = [tag]
    for element in elements:
        if isinstance(element, str):
            parts.append(element)
        else:
            parts.append(":".join(element))
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return "+".join(parts) + "'"


def edifact_interchange(
    *, sender: str, recipient: str, prepared_at: datetime, control_ref: str, messages: Sequence[Sequence[str]]
) -> bytes:
    """A syntactically complete interchange: UNA, UNB, each message's UNH … UNT, UNZ.

    `messages` are lists of segments without UNH/UNT: the message type identifier is the first
    entry as "TYPE:D:95B:UN:ITG13" (or similar), followed by the body segments.
    """
    lines = [
        "UNA:+.? '",
        segment(
            "UNB",
            ("UNOC", "3"),
            sender,
            recipient,
            (prepared_at.strftime("%y%m%d"), prepared_at.strftime("%H%M")),
            control_ref,
        ),
    ]
    for number, message in enumerate(messages, start=1):
        identifier, *body = message
        reference = f"{control_ref}{number:02d}"
        unh = segment("UNH", reference, tuple(identifier.split(":")))
        unt = segment("UNT", str(len(body) + 2), reference)
        lines.extend([unh, *body, unt])
    lines.append(segment("UNZ", str(len(messages)), control_ref))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def edi_moment(moment: datetime) -> tuple[str, str, str]:
    """A DTM composite body in format 203 (CCYYMMDDHHMM)."""
    return ("", moment.strftime("%Y%m%d%H%M"), "203")
