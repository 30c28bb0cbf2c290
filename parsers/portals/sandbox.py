"""The sandbox portal family: the ASP.NET-style terminal portal of `sandbox/portal`.

Pages (English in UTF-8, Chinese in GBK; both read here):
- results  `Search.aspx` after a search: grid `table#gvResults`, one row per container asked for;
           unknown and invalid numbers are rows whose second cell spans the rest ("not found");
- detail   `ContainerDetail.aspx`: label/value table `table#tblDetail` (or a "not found" message);
- vessels  `VesselSchedule.aspx`: grid `table#gvVessels`, one vessel call per row;
- export   the "Export to Excel" .xlsx: title rows, then a header row like the grid's.

Values are kept verbatim (whitespace collapsed, `&nbsp;` cells read as ""). Local times carry no
zone on the page; the portal's zone is America/Los_Angeles (the caller's ParseContext says so).
A page that is not what was asked for raises the taxonomy's error (session expired, CAPTCHA,
maintenance, ...), and a page in another layout (the portal's "v2" redesign) raises
LayoutChangedError naming what is missing: never a guess. `classify_page` tells bots which page
they are looking at.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import lxml.html
from bs4 import BeautifulSoup, Tag
from lxml import etree
from python_calamine import CalamineError, CalamineWorkbook

from parsers.portals._common import clean, text_of
from quaysync.errors import BadInputError, LayoutChangedError, error_for_page
from quaysync.model import Observation, ParseContext

FAMILY = "sandbox"
TIME_ZONE = "America/Los_Angeles"

RESULTS_PARSER = "sandbox.results/1"
DETAIL_PARSER = "sandbox.detail/1"
VESSELS_PARSER = "sandbox.vessels/1"
EXPORT_PARSER = "sandbox.export/1"

# Column header (English, Chinese) → field. Every one of them must be present.
RESULT_HEADERS: dict[str, tuple[str, str]] = {
    "container_no": ("Container No.", "箱号"),
    "carrier": ("Line", "船公司"),
    "container_spec": ("Size/Type", "箱型"),
    "vessel": ("Vessel", "船名"),
    "voyage": ("Voyage", "航次"),
    "mbl_no": ("B/L No.", "提单号"),
    "status": ("Status", "状态"),
    "available": ("Available", "提箱状态"),
    "customs_release": ("Customs", "海关"),
    "freight_release": ("Freight/Line", "船公司放行"),
    "usda_hold": ("USDA", "检疫"),
    "tmf": ("TMF", "TMF"),
    "holds": ("Holds", "扣留项目"),
    "last_free_day": ("Last Free Day", "免费期截止"),
    "demurrage": ("Demurrage", "滞期费"),
    "yard_location": ("Yard Location", "堆场位置"),
    "appointment_date": ("Appointment", "提箱预约"),
    "discharge_date": ("Discharged", "卸船时间"),
    "gate_out_date": ("Gate Out", "出闸时间"),
}
# The detail page adds these labels (optional: older captures may lack them).
DETAIL_EXTRA_LABELS: dict[str, tuple[str, str]] = {
    "weight": ("Gross Weight", "毛重"),
    "empty_return_date": ("Empty Returned", "还空时间"),
    "terminal": ("Terminal", "码头"),
}
VESSEL_HEADERS: dict[str, tuple[str, str]] = {
    "vessel": ("Vessel", "船名"),
    "voyage": ("Voyage", "航次"),
    "carrier": ("Line", "船公司"),
    "berth": ("Berth", "泊位"),
    "eta": ("ETA", "预计到港"),
    "ata": ("ATA", "实际到港"),
    "etd": ("ETD", "预计离港"),
    "vessel_status": ("Status", "状态"),
}

PAGE_KINDS = (
    "login", "login_failed", "account_locked", "captcha", "maintenance", "session_expired", "frameset",
    "menu", "search", "search_rejected", "results", "detail", "vessels", "error", "unknown",
)  # fmt: skip
_SERVER_ERROR_MARKS = (
    "Server Error in '/' Application",
    "HTTP Error 503. The service is unavailable",
    "502 - Web server received an invalid response",
)
_LOCKED_MARKS = ("locked", "锁定")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


# Decoding ------------------------------------------------------------------------------------


def decode_page(content: bytes) -> str:
    """The page's text in the charset its <meta> declares (the Chinese pages are GBK), else UTF-8."""
    if not isinstance(content, bytes | bytearray):
        raise BadInputError(f"sandbox page: expected bytes, got {type(content).__name__}")
    declared = _CHARSET.search(content[:4096])
    charset = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    if charset in ("gbk", "gb2312", "gb18030"):
        charset = "gb18030"  # the superset: a GBK page never fails to decode as GB18030
    try:
        return bytes(content).decode(charset)
    except LookupError:
        raise BadInputError(f"sandbox page: unknown charset {charset!r}") from None
    except UnicodeDecodeError as error:
        raise BadInputError(f"sandbox page: bytes are not valid {charset} ({error.reason})") from None


def _soup(content: bytes) -> BeautifulSoup:
    return BeautifulSoup(decode_page(content), "lxml")


# What page is this? --------------------------------------------------------------------------


def classify_page(content: bytes) -> str:
    """One of PAGE_KINDS: what a bot is looking at. "unknown" covers any layout this module cannot read."""
    try:
        text = decode_page(content)
    except BadInputError:
        return "unknown"
    return _kind_of(text)


def _kind_of(text: str) -> str:
    # An lxml tree, not a soup: a bot classifies every page it loads, and building the soup cost
    # several times what lxml's parse does (13 ms against 0.9 ms for a results page).
    if not text.strip():
        return "unknown"
    try:
        tree = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):  # no element at all (comments only, say)
        return "error" if any(mark in text for mark in _SERVER_ERROR_MARKS) else "unknown"

    def by_id(name: str, tag: str = "*", under: etree._Element = tree) -> etree._Element | None:
        found = under.xpath(f".//{tag}[@id=$name]", name=name)
        return found[0] if found else None

    if tree.tag == "frameset" or tree.find(".//frameset") is not None:
        return "frameset"
    if any(mark in text for mark in _SERVER_ERROR_MARKS):
        return "error"
    for panel, kind in (
        ("pnlMaintenance", "maintenance"),
        ("pnlSessionExpired", "session_expired"),
        ("pnlCaptcha", "captcha"),
    ):
        if by_id(panel) is not None:
            return kind
    if by_id("pnlLogin") is not None:
        error = by_id("lblError")
        if error is None:
            return "login"
        message = clean(" ".join(error.itertext()))
        return "account_locked" if any(mark in message for mark in _LOCKED_MARKS) else "login_failed"
    search = by_id("pnlSearch")
    if search is not None:
        if by_id("gvResults", "table") is not None:
            return "results"
        if by_id("lblMessage", under=search) is not None:
            return "search_rejected"
        # Results in a markup this parser does not know (a redesign): not an empty search form.
        return "unknown" if tree.xpath(".//table | .//section") else "search"
    detail = by_id("pnlDetail")
    if detail is not None:
        known = by_id("tblDetail", "table") is not None or by_id("lblMessage", under=detail) is not None
        return "detail" if known else "unknown"
    if by_id("pnlVessels") is not None:
        return "vessels" if by_id("gvVessels", "table") is not None else "unknown"
    if by_id("menuBody") is not None:
        return "menu"
    return "unknown"


def _require_kind(document: BeautifulSoup, text: str, wanted: str, what: str) -> None:
    """Raise the taxonomy's error when the page is not the `wanted` kind."""
    kind = _kind_of(text)
    if kind == wanted:
        return
    known = error_for_page(kind, what)
    if known is not None:
        raise known
    if kind == "search_rejected":
        message = text_of(document.find(id="lblMessage"))
        raise BadInputError(f"{what}: the portal refused the search: {message}")
    expected = {"results": "table#gvResults", "detail": "table#tblDetail", "vessels": "table#gvVessels"}
    missing = expected.get(wanted, wanted)
    raise LayoutChangedError(f"{what}: {missing} not found (the page looks like {kind!r}); layout changed")


# Grids ---------------------------------------------------------------------------------------


def _label_index(labels: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {clean(label).lower(): field for field, pair in labels.items() for label in pair}


def _map_headers(headers: Sequence[str], wanted: dict[str, tuple[str, str]], what: str) -> dict[str, int]:
    """field → column index; LayoutChangedError naming every expected header that is missing."""
    by_label = _label_index(wanted)
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = by_label.get(clean(header).rstrip(":：").strip().lower())
        if field is not None and field not in columns:
            columns[field] = index
    missing = [f"{pair[0]!r} ({field})" for field, pair in wanted.items() if field not in columns]
    if missing:
        raise LayoutChangedError(
            f"{what}: expected column(s) {', '.join(missing)} not found in headers {list(headers)}; "
            "the page layout changed"
        )
    return columns


def _grid_rows(table: Tag) -> tuple[list[str], list[list[Tag]]]:
    """The header texts and the data rows (cells) of an ASP.NET GridView, pager row left out."""
    rows = table.find_all("tr", recursive=False) or table.select(":scope > tbody > tr, :scope > thead > tr")
    headers: list[str] = []
    data: list[list[Tag]] = []
    for row in rows:
        cells = row.find_all(["th", "td"], recursive=False)
        if not headers and cells and all(cell.name == "th" for cell in cells):
            headers = [text_of(cell) for cell in cells]
        elif "pgr" in (row.get("class") or []) or row.find("table") is not None:
            continue  # the pager: a nested table of page links
        elif cells:
            data.append(cells)
    return headers, data


def parse_results(content: bytes, context: ParseContext) -> list[Observation]:
    """One observation per row of the results grid (this page only; paging is the bot's job)."""
    what = "sandbox results page"
    text = decode_page(content)
    document = BeautifulSoup(text, "lxml")
    _require_kind(document, text, "results", what)
    table = document.find("table", id="gvResults")
    headers, rows = _grid_rows(table)
    columns = _map_headers(headers, RESULT_HEADERS, what)
    observations = []
    for cells in rows:
        container_no = text_of(cells[columns["container_no"]]) if cells else ""
        if not container_no:
            raise LayoutChangedError(f"{what}: a result row has no container number")
        if len(cells) == 2 and cells[1].get("colspan"):
            # The portal's own words for a number it does not know (or refuses as invalid).
            fields = {"container_no": container_no, "not_found": text_of(cells[1])}
        elif len(cells) == len(headers):
            fields = {field: text_of(cells[index]) for field, index in columns.items()}
        else:
            raise LayoutChangedError(
                f"{what}: row of {container_no} has {len(cells)} cells for {len(headers)} columns"
            )
        observations.append(context.observe(fields, parser=RESULTS_PARSER))
    return observations


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def read_pager(content: bytes) -> Pager:
    """Which results page this is and how many there are (a grid without a pager row has one)."""
    document = _soup(content)
    table = document.find("table", id="gvResults")
    if table is None:
        raise LayoutChangedError("sandbox results page: table#gvResults not found; the page layout changed")
    pager = next(
        (row for row in table.find_all("tr", recursive=False) if "pgr" in (row.get("class") or [])), None
    )
    if pager is None:
        return Pager(1, 1)
    current = pager.find("span")
    numbers = [int(text) for text in (text_of(link) for link in pager.find_all("a")) if text.isdigit()]
    page = int(text_of(current)) if current is not None and text_of(current).isdigit() else 1
    return Pager(page=page, pages=max([page, *numbers]))


# Detail --------------------------------------------------------------------------------------


def parse_detail(content: bytes, context: ParseContext) -> list[Observation]:
    """The container-detail page: one observation, or a "not found" one naming the number asked for."""
    what = "sandbox detail page"
    text = decode_page(content)
    document = BeautifulSoup(text, "lxml")
    _require_kind(document, text, "detail", what)
    table = document.find("table", id="tblDetail")
    if table is None:
        message = text_of(document.find(id="lblMessage"))
        form = document.find("form", id="form1")
        query = parse_qs(urlsplit(str(form.get("action", "")) if form else "").query)
        container_no = clean((query.get("cntr") or [""])[0])
        if not container_no:
            raise LayoutChangedError(f"{what}: not-found message without the container number in form#form1")
        return [context.observe({"container_no": container_no, "not_found": message}, parser=DETAIL_PARSER)]
    pairs: dict[str, str] = {}
    for row in table.find_all("tr"):
        label, value = row.find("th"), row.find("td")
        if label is not None and value is not None:
            pairs.setdefault(text_of(label).rstrip(":：").strip(), text_of(value))
    columns = _map_headers(list(pairs), RESULT_HEADERS, what)
    labels = list(pairs)
    fields = {field: pairs[labels[index]] for field, index in columns.items()}
    extra = _label_index(DETAIL_EXTRA_LABELS)
    for label, value in pairs.items():
        field = extra.get(label.lower())
        if field is not None:
            fields[field] = value
    return [context.observe(fields, parser=DETAIL_PARSER)]


# Vessels -------------------------------------------------------------------------------------


def parse_vessels(content: bytes, context: ParseContext) -> list[Observation]:
    """The vessel schedule / berth status grid: one "vessel_call" observation per row."""
    what = "sandbox vessel schedule"
    text = decode_page(content)
    document = BeautifulSoup(text, "lxml")
    _require_kind(document, text, "vessels", what)
    headers, rows = _grid_rows(document.find("table", id="gvVessels"))
    columns = _map_headers(headers, VESSEL_HEADERS, what)
    observations = []
    for cells in rows:
        if len(cells) != len(headers):
            raise LayoutChangedError(f"{what}: a row has {len(cells)} cells for {len(headers)} columns")
        fields = {field: text_of(cells[index]) for field, index in columns.items()}
        observations.append(context.observe(fields, parser=VESSELS_PARSER, subject="vessel_call"))
    return observations


# Export --------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(str(value))


def parse_export(content: bytes, context: ParseContext) -> list[Observation]:
    """The "Export to Excel" workbook: every container of the search, one observation per row."""
    what = "sandbox export workbook"
    if not isinstance(content, bytes | bytearray):
        raise BadInputError(f"{what}: expected bytes, got {type(content).__name__}")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(bytes(content)))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError) as error:
        raise BadInputError(f"{what}: not a readable .xlsx ({error})") from None
    container_labels = {clean(label).lower() for label in RESULT_HEADERS["container_no"]}
    header_at = next(
        (
            index
            for index, row in enumerate(rows)
            if any(_cell_text(v).lower() in container_labels for v in row)
        ),
        None,
    )
    if header_at is None:
        raise LayoutChangedError(f"{what}: no header row with {RESULT_HEADERS['container_no'][0]!r}")
    headers = [_cell_text(value) for value in rows[header_at]]
    columns = _map_headers(headers, RESULT_HEADERS, what)
    others = [index for field, index in columns.items() if field not in ("container_no", "status")]
    observations = []
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        values = [_cell_text(value) for value in row] + [""] * max(0, len(headers) - len(row))
        container_no = values[columns["container_no"]]
        if not container_no:
            continue  # a blank line at the end of the sheet
        reference = f"{context.source_ref}#row={offset}"
        if not any(values[index] for index in others):
            # Unknown and invalid numbers: the message stands in the Status column, the rest is blank.
            fields = {"container_no": container_no, "not_found": values[columns["status"]]}
        else:
            fields = {field: values[index] for field, index in columns.items()}
        observations.append(context.observe(fields, parser=EXPORT_PARSER, source_ref=reference))
    return observations


PAGES: dict[str, Callable[[bytes, ParseContext], list[Observation]]] = {
    "results": parse_results,
    "detail": parse_detail,
    "vessels": parse_vessels,
    "export": parse_export,
}
