"""Parser templates: how one kind of mail is read, by name and version ("mail.NAME/VERSION").

A template takes a `MailMessage` and a `ParseContext` and returns a `MailReading`: observations
and the problems met on the way (rows with invalid container numbers, ...). A template that
finds nothing readable raises `BadInputError` (the mail is broken) or `LayoutChangedError` (the
mail is fine but does not look as the template expects), with the reason; nothing is guessed.
Any attachment the template is meant to read that fails makes the whole mail fail: the mailbox
then quarantines it whole, and `mail reprocess` reads it again after a fix.

Generic templates: table_attachment, html_table_body, key_value_notice, edifact_attachment.
Named layouts (what the sandbox's carriers send, and the pattern for real ones):
maersk_arrival_html, msc_arrival_xlsx.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from stdnum import iso6346

from parsers.edifact import read_edifact
from parsers.email.bodies import html_text, notice_observations
from parsers.email.message import Attachment, MailMessage
from parsers.tables import Table, TableReading, html_tables, read_tables, table_observations
from quaysync.errors import BadInputError, LayoutChangedError, QuaysyncError
from quaysync.model import Observation, ParseContext

TABLE_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".htm", ".html")
TABLE_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "text/csv",
    "text/comma-separated-values",
    "text/tab-separated-values",
)
EDI_EXTENSIONS = (".edi", ".edifact", ".edf", ".coarri", ".codeco", ".iftsta")
CONTAINER_SHAPE = re.compile(r"[A-Z]{3}[UJZ]\d{7}")
EDI_TYPES = ("application/edifact", "application/edi-x12", "text/x-edifact", "text/edifact")


@dataclass(frozen=True, slots=True)
class MailProblem:
    """Something in the mail that could not be read, which did not stop the rest."""

    where: str  # "attachment 'x.xlsx' sheet 'S' row 7", "text body line 4"
    reason: str
    raw: str | None = None


@dataclass
class MailReading:
    template: str
    parser: str
    observations: list[Observation] = field(default_factory=list)
    problems: list[MailProblem] = field(default_factory=list)


Reader = Callable[[MailMessage, ParseContext, str], MailReading]


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    description: str
    reader: Reader

    @property
    def parser(self) -> str:
        return f"mail.{self.name}/{self.version}"

    def __call__(self, message: MailMessage, context: ParseContext) -> MailReading:
        reading = _valid_numbers_only(self.reader(message, context, self.parser))
        if not reading.observations:
            if reading.problems:
                first = reading.problems[0]
                raise BadInputError(
                    f"{self.name}: no valid container in the mail ({len(reading.problems)} problem(s); "
                    f"first: {first.where}: {first.reason})"
                )
            raise BadInputError(f"{self.name}: no container numbers found in the mail")
        return reading


# -- helpers ---------------------------------------------------------------------------------


def _valid_numbers_only(reading: MailReading) -> MailReading:
    """Invalid container numbers are reported as problems, never handed on as if valid."""
    kept = []
    for observation in reading.observations:
        raw = observation.fields.get("container_no")
        if observation.subject == "container" and raw is not None:
            number = "".join(raw.split()).upper()
            if not iso6346.is_valid(number):
                reason = (
                    f"{raw!r}: invalid ISO 6346 check digit"
                    if CONTAINER_SHAPE.fullmatch(number)
                    else f"{raw!r} is not an ISO 6346 container number"
                )
                reading.problems.append(MailProblem(observation.source_ref, reason, raw))
                continue
        kept.append(observation)
    reading.observations = kept
    return reading


def _is_table(attachment: Attachment) -> bool:
    return attachment.extension in TABLE_EXTENSIONS or attachment.content_type in TABLE_TYPES


def _is_edi(attachment: Attachment) -> bool:
    head = attachment.content[:16].lstrip()
    return (
        attachment.extension in EDI_EXTENSIONS
        or attachment.content_type in EDI_TYPES
        or head.startswith((b"UNA", b"UNB+"))
    )


def _attachment_context(context: ParseContext, attachment: Attachment) -> ParseContext:
    return dataclasses.replace(context, source_ref=f"{context.source_ref}#attachment={attachment.filename}")


def _wrap(attachment: Attachment, error: QuaysyncError) -> QuaysyncError:
    """The same kind of error, naming the attachment it came from."""
    return (
        type(error)(f"attachment {attachment.filename!r}: {error.message}")
        if type(error) in (BadInputError, LayoutChangedError)
        else error
    )


def _row_problems(where: str, reading: TableReading) -> list[MailProblem]:
    return [
        MailProblem(f"{where} row {problem.row_number}", problem.reason, str(problem.raw))
        for problem in reading.problems
    ]


def _sheet_tables(attachment: Attachment) -> list[Table]:
    if not attachment.content:
        raise BadInputError(f"attachment {attachment.filename!r} is empty (0 bytes)")
    # read_tables names the file in its errors itself.
    return read_tables(attachment.filename, attachment.content, encoding_hint=attachment.charset)


def _tables_of(
    attachment: Attachment,
    context: ParseContext,
    parser: str,
    reading: MailReading,
    *,
    shared: Callable[[Table, TableReading], Mapping[str, str]] | None = None,
) -> None:
    """Every table of one attachment into `reading`; a table without a header row is an error."""
    tables = _sheet_tables(attachment)
    if not tables:
        raise BadInputError(f"attachment {attachment.filename!r} holds no table")
    for table in tables:
        where = f"attachment {attachment.filename!r}" + (f" sheet {table.name!r}" if table.name else "")
        table_context = _attachment_context(context, attachment)
        try:
            table_reading = table_observations(table, table_context, parser=parser)
        except LayoutChangedError as error:
            if len(tables) > 1:
                reading.problems.append(MailProblem(where, f"skipped: {error.message}"))
                continue  # a cover or notes sheet next to the data sheet
            raise _wrap(attachment, error) from error
        extra = dict(shared(table, table_reading)) if shared else {}
        reading.observations.extend(_with_shared(table_reading.observations, extra, parser))
        reading.problems.extend(_row_problems(where, table_reading))


def _with_shared(
    observations: Iterable[Observation], shared: Mapping[str, str], parser: str
) -> list[Observation]:
    """Add a notice's own fields (vessel, ETA, ...) to each row's; a row's own non-empty value wins."""
    if not shared:
        return list(observations)
    merged = []
    for observation in observations:
        fields = dict(shared)
        fields.update({key: value for key, value in observation.fields.items() if value not in (None, "")})
        merged.append(dataclasses.replace(observation, fields=fields, parser=observation.parser or parser))
    return merged


# -- generic templates -----------------------------------------------------------------------


def _read_table_attachments(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    reading = MailReading("table_attachment", parser)
    tables = [attachment for attachment in message.attachments if _is_table(attachment)]
    if not tables:
        names = ", ".join(repr(attachment.filename) for attachment in message.attachments) or "none"
        raise BadInputError(f"table_attachment: no spreadsheet or CSV attachment (attachments: {names})")
    for attachment in tables:
        _tables_of(attachment, context, parser, reading)
    return reading


def _read_html_tables(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    reading = MailReading("html_table_body", parser)
    if not message.html_bodies:
        raise BadInputError("html_table_body: the mail has no HTML body")
    _html_body_tables(message, context, parser, reading, shared={})
    return reading


def _html_body_tables(
    message: MailMessage,
    context: ParseContext,
    parser: str,
    reading: MailReading,
    *,
    shared: Mapping[str, str],
) -> None:
    found_header = False
    for body_number, html in enumerate(message.html_bodies, start=1):
        for table_number, table in enumerate(html_tables(html), start=1):
            ref = f"{context.source_ref}#html={body_number}:table={table_number}"
            table_context = dataclasses.replace(context, source_ref=ref)
            try:
                table_reading = table_observations(table, table_context, parser=parser)
            except LayoutChangedError:
                continue  # HTML mail lays itself out with tables; only data tables have a header
            found_header = True
            reading.observations.extend(_with_shared(table_reading.observations, shared, parser))
            reading.problems.extend(_row_problems(f"HTML table {table_number}", table_reading))
    if not found_header:
        raise LayoutChangedError(f"{reading.template}: no table with a container column in the HTML body")


def _read_notice(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    reading = MailReading("key_value_notice", parser)
    texts = list(message.text_bodies) or [html_text(html) for html in message.html_bodies]
    if not texts:
        raise BadInputError("key_value_notice: the mail has no text body")
    for number, text in enumerate(texts, start=1):
        notice = notice_observations(
            text, context, parser=parser, source_ref=f"{context.source_ref}#text={number}"
        )
        reading.observations.extend(notice.observations)
        reading.problems.extend(
            MailProblem(f"text body {number} line {problem.line_number}", problem.reason, problem.raw)
            for problem in notice.problems
        )
    return reading


def _read_edifact(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    reading = MailReading("edifact_attachment", parser)
    interchanges = [attachment for attachment in message.attachments if _is_edi(attachment)]
    if not interchanges:
        names = ", ".join(repr(attachment.filename) for attachment in message.attachments) or "none"
        raise BadInputError(f"edifact_attachment: no EDIFACT attachment (attachments: {names})")
    for attachment in interchanges:
        if not attachment.content.strip():
            raise BadInputError(f"attachment {attachment.filename!r} is empty (0 bytes)")
        try:
            edifact = read_edifact(attachment.content, _attachment_context(context, attachment))
        except (BadInputError, LayoutChangedError) as error:
            raise _wrap(attachment, error) from error
        reading.observations.extend(edifact.observations)
        reading.problems.extend(
            MailProblem(
                f"attachment {attachment.filename!r} segment {problem.segment_number}", problem.reason
            )
            for problem in edifact.problems
        )
    return reading


# -- named layouts ---------------------------------------------------------------------------


def _read_maersk_arrival(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    """HTML notice: Vessel / Voyage / ETA lines above a container table."""
    reading = MailReading("maersk_arrival_html", parser)
    if not message.html_bodies:
        raise LayoutChangedError("maersk_arrival_html: the mail has no HTML body")
    shared: dict[str, str] = {}
    for html in message.html_bodies:
        notice = notice_observations(html_text(html, without_tables=True), context, parser=parser)
        for key, value in notice.shared.items():
            shared.setdefault(key, value)
    if "vessel" not in shared:
        raise LayoutChangedError("maersk_arrival_html: no 'Vessel:' line above the container table")
    _html_body_tables(message, context, parser, reading, shared=shared)
    return reading


def _title_fields(table: Table, table_reading: TableReading) -> dict[str, str]:
    """Key: value lines in the title rows above a sheet's header row."""
    rows = getattr(table, "rows", None) or []
    header_index = table_reading.header_row
    lines = []
    for row in rows[: max(0, header_index - 1)]:
        lines.extend(str(cell) for cell in row if cell not in (None, ""))
    context = ParseContext(source="title", source_ref="title")
    return notice_observations("\n".join(lines), context, parser="title").shared


def _read_msc_arrival(message: MailMessage, context: ParseContext, parser: str) -> MailReading:
    """Workbook whose merged title rows carry Vessel / Voyage and ETA for every row below."""
    reading = MailReading("msc_arrival_xlsx", parser)
    workbooks = [
        attachment for attachment in message.attachments if attachment.extension in (".xlsx", ".xls")
    ]
    if not workbooks:
        raise BadInputError("msc_arrival_xlsx: no Excel attachment")
    for attachment in workbooks:
        titles: list[dict[str, str]] = []

        def shared(
            table: Table, table_reading: TableReading, titles: list[dict[str, str]] = titles
        ) -> dict[str, str]:
            fields = _title_fields(table, table_reading)
            titles.append(fields)
            return fields

        _tables_of(attachment, context, parser, reading, shared=shared)
        if not any("vessel" in fields for fields in titles):
            raise LayoutChangedError(
                f"msc_arrival_xlsx: attachment {attachment.filename!r} has no 'Vessel / Voyage:' title row"
            )
    return reading


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template(
            "table_attachment",
            1,
            "every spreadsheet / CSV attachment, one row per container",
            _read_table_attachments,
        ),
        Template("html_table_body", 1, "tables with a container column in the HTML body", _read_html_tables),
        Template(
            "key_value_notice", 1, "plain-text 'key: value' notices (English / Chinese keys)", _read_notice
        ),
        Template("edifact_attachment", 1, "UN/EDIFACT IFTSTA / CODECO / COARRI attachments", _read_edifact),
        Template(
            "maersk_arrival_html",
            1,
            "HTML arrival notice: vessel, voyage, ETA above a container table",
            _read_maersk_arrival,
        ),
        Template(
            "msc_arrival_xlsx",
            1,
            "Excel arrival notice with vessel / voyage / ETA in merged title rows",
            _read_msc_arrival,
        ),
    )
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(sorted(TEMPLATES))
        raise LayoutChangedError(f"no parser template named {name!r} (known: {known})") from None


def read_mail(template: str, message: MailMessage, context: ParseContext) -> MailReading:
    """Read `message` with the named template (raises the template's errors)."""
    return get_template(template)(message, context)
