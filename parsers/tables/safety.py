"""Checks applied to attachment bytes BEFORE any reader opens them.

What is checked, and why:
- Size: the whole input (`max_bytes`, 20 MB by default) and the cells a grid may hold.
- The format comes from the bytes (magic), never from the file name.
- xlsx/xlsm are zip archives. From the central directory alone (nothing decompressed yet): the
  number of entries, the sum of declared uncompressed sizes, the compression ratio of each entry
  (above 1 MB; small entries cannot make a bomb), the compression method (stored/deflate only),
  encryption flags and duplicate names. Then every entry is inflated with a hard cap at its
  declared size: an entry that inflates beyond what it declares (a forged header), ends early or
  fails its CRC is rejected, so the declared sizes the first checks trusted are proven true.
- XML entity bombs ("billion laughs") and external entities: any XML part with a DOCTYPE or
  ENTITY declaration is rejected; nothing legitimate in an xlsx has one. XML we parse in Python
  (SpreadsheetML 2003) goes through defusedxml as well.
- Sparse-sheet bombs: calamine allocates the whole rectangle between the first and the last used
  cell, so two cells at A1 and XFD1048576 (a 2 KB file) would ask for 17 billion cells and abort
  the process. Each worksheet's largest row number and column are read from the XML and the
  rectangle is bounded (MAX_SHEET_CELLS).
- Macro-enabled workbooks (xlsm) are read for cell values only; calamine never runs VBA.
- Zip entry names (`../../etc/passwd`) are irrelevant: nothing is ever extracted to disk, entries
  are read in memory by name, and attachment file names are only hints, never paths.
- Legacy xls (OLE2): the size limit applies; an encrypted workbook or an OLE2 file that is not a
  workbook (a Word document, an Outlook message) is rejected by name. BIFF grids are bounded by
  the format itself (65,536 rows × 256 columns).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from typing import Literal

from quaysync.errors import BadInputError

MAX_INPUT_BYTES = 20_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_UNCOMPRESSED_BYTES = 200_000_000
MAX_COMPRESSION_RATIO = 100
RATIO_GRACE_BYTES = 1_000_000  # entries smaller than this may compress as well as they like
MAX_SHEET_CELLS = 10_000_000  # rows × columns of a worksheet's used rectangle
MAX_TABLE_CELLS = 10_000_000  # cells of a CSV or HTML grid

Format = Literal["xlsx", "xls", "html", "spreadsheetml", "text"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Formats people attach by mistake, named so the rejection says what the file really is.
_OTHER_MAGICS = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"{\\rtf", "an RTF document"),
    (b"\x09\x08\x10\x00\x00\x06\x05\x00", "a BIFF8 stream without its OLE2 container"),
)
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|table|meta|style|div)\b", re.I | re.S
)
_SPREADSHEETML = b"urn:schemas-microsoft-com:office:spreadsheet"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def check_size(content: bytes, max_bytes: int = MAX_INPUT_BYTES) -> None:
    if not content:
        raise BadInputError("empty file: 0 bytes")
    if len(content) > max_bytes:
        raise BadInputError(
            f"file too big: {human_size(len(content))} exceeds the {human_size(max_bytes)} limit"
        )


def sniff_format(content: bytes) -> Format:
    """What the bytes are, by their magic. Raises BadInputError for what is not a table at all."""
    head = content[:8]
    if head.startswith(_ZIP_MAGICS):
        return "xlsx"
    if head == OLE2_MAGIC:
        return "xls"
    for magic, what in _OTHER_MAGICS:
        if head.startswith(magic):
            raise BadInputError(f"not a spreadsheet: the bytes are {what}")
    start = content[:4096]
    for bom in _BOMS:
        if start.startswith(bom):
            start = start[len(bom) :]
            break
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start[:64]:
        # UTF-16 text: decode a little to look at it like the rest.
        try:
            start = content[:4096].decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return "text"
    stripped = start.lstrip()
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<?mso-application"):
        if _SPREADSHEETML in start:
            return "spreadsheetml"
        if _HTML_START.match(re.sub(rb"^<\?xml[^>]*>", b"", stripped)):
            return "html"  # XHTML
        raise BadInputError("not a spreadsheet: an XML document that is neither SpreadsheetML nor HTML")
    if _HTML_START.match(start):
        return "html"
    return "text"


# --- xlsx: zip checks -----------------------------------------------------------------------------

_XML_SUFFIXES = (".xml", ".rels", ".vml")
WORKSHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
# Literal prefixes keep these scans fast (tens of ms for 50 MB); the slower, prefix- and
# attribute-order-tolerant pattern runs only when the fast one did not account for every row.
# Every "<row" is one match, its number b"" when it is not written first as r="N" (one pass
# both reads the numbers and proves that no row went unaccounted for).
_ROW_NUMBER = re.compile(rb'<row(?: r="(\d+)")?')
_ANY_ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d+)\"")
# Cell references with two or three column letters (column AA and beyond): single-letter columns
# are at most Z (26), which the rectangle bound assumes anyway.
_WIDE_CELL = re.compile(rb' r="([A-Z]{2,3})\d')
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)


@dataclass
class XlsxReport:
    """What the checks learned, kept for the reader (no second decompression needed)."""

    kind: str  # "xlsx" or "xlsm"
    parts: dict[str, bytes] = field(default_factory=dict)  # every inflated part (keep_parts=True)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _identify_zip(names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return "an Excel binary workbook (.xlsb), which is not supported"
    if "word/document.xml" in names:
        return "a Word document (.docx), not a spreadsheet"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation, not a spreadsheet"
    if "mimetype" in names and "content.xml" in names:
        return "an OpenDocument file (.ods/.odt), which is not supported"
    return "a zip archive that is not an Excel workbook (no xl/workbook.xml)"


def inspect_xlsx(content: bytes, *, keep_parts: bool = False) -> XlsxReport:
    """Every xlsx check; raises BadInputError with the reason. See the module docstring."""
    try:
        archive = zipfile.ZipFile(BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, struct.error) as error:
        raise BadInputError(
            f"xlsx rejected: not a readable zip archive (truncated or corrupt: {error})"
        ) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise BadInputError(f"xlsx rejected: {len(infos)} zip entries exceed the limit of {MAX_ZIP_ENTRIES}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise BadInputError(f"xlsx rejected: the zip holds two entries named {duplicate!r}")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise BadInputError(
            f"xlsx rejected: declared uncompressed size {human_size(declared)} exceeds the "
            f"{human_size(MAX_UNCOMPRESSED_BYTES)} limit"
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise BadInputError(f"xlsx rejected: entry {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadInputError(
                f"xlsx rejected: entry {info.filename!r} uses compression method {info.compress_type} "
                "(only stored and deflate are allowed)"
            )
        if info.file_size > RATIO_GRACE_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise BadInputError(
                    f"xlsx rejected: entry {info.filename!r} compresses {ratio:.0f}:1 "
                    f"({human_size(info.compress_size)} → {human_size(info.file_size)}), "
                    f"above the {MAX_COMPRESSION_RATIO}:1 limit"
                )
    name_set = set(names)
    if "xl/workbook.xml" not in name_set:
        raise BadInputError(f"not a spreadsheet: {_identify_zip(name_set)}")
    report = XlsxReport(kind="xlsm" if "xl/vbaProject.bin" in name_set else "xlsx")
    for info in infos:
        data = _inflate(content, info)
        name = info.filename
        if name.lower().endswith(_XML_SUFFIXES):
            reject_xml_declarations(data, f"xlsx part {name!r}")
        if WORKSHEET_PART.match(name):
            _check_sheet_extent(data, name)
        if keep_parts:
            report.parts[name] = data
    return report


def _inflate(content: bytes, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, never more than it declares; proves size, end of stream and CRC."""
    offset = info.header_offset
    header = content[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise BadInputError(
            f"xlsx rejected: entry {info.filename!r} has no local header (truncated or corrupt zip)"
        )
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    raw = content[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise BadInputError(f"xlsx rejected: entry {info.filename!r} is cut short (truncated zip)")
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as error:
            raise BadInputError(f"xlsx rejected: entry {info.filename!r} is corrupt ({error})") from None
        if len(data) > info.file_size:
            raise BadInputError(
                f"xlsx rejected: entry {info.filename!r} inflates beyond its declared "
                f"{human_size(info.file_size)} (forged zip header)"
            )
        if not inflater.eof:
            raise BadInputError(f"xlsx rejected: entry {info.filename!r} is cut short (truncated zip)")
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise BadInputError(f"xlsx rejected: entry {info.filename!r} fails its size/CRC check (corrupt zip)")
    return data


def reject_xml_declarations(data: bytes, what: str) -> None:
    """Entity bombs and external entities live in DOCTYPE/ENTITY declarations: refuse any."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        # XML may be UTF-16 (or UTF-32): look at its characters, not its bytes.
        encoding = "utf-32" if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") else "utf-16"
        if data[:2] not in (b"\xff\xfe", b"\xfe\xff") and encoding == "utf-16":
            encoding = "utf-16-be" if data[:1] == b"\x00" else "utf-16-le"
        data = data.decode(encoding, errors="replace").encode("utf-8")
    # "!" is rare in XML while "<" is everywhere: finding "!" first is several times faster.
    position = data.find(b"!")
    while position != -1:
        if position and data[position - 1] == 0x3C and _DECLARATION.match(data, position - 1):
            raise BadInputError(
                f"{what} rejected: XML with a DOCTYPE/ENTITY declaration (possible entity bomb)"
            )
        position = data.find(b"!", position + 1)


def _check_sheet_extent(data: bytes, name: str) -> None:
    rows = _ROW_NUMBER.findall(data)
    if b"" in rows or (not rows and b":row" in data):
        rows = _ANY_ROW_NUMBER.findall(data)
    # Rows without numbers are placed one after another: count them (over-counting is safe).
    max_row = max(map(int, rows)) if rows else data.count(b"row")
    wide = _WIDE_CELL.findall(data)
    max_column = max(26, *map(_column_number, set(wide))) if wide else 26
    if max_row * max_column > MAX_SHEET_CELLS:
        raise BadInputError(
            f"xlsx rejected: worksheet {name!r} spans {max_row:,} rows × {max_column:,} columns, "
            f"above the {MAX_SHEET_CELLS:,}-cell limit"
        )


# --- legacy xls -------------------------------------------------------------------------------------


def inspect_ole2(content: bytes) -> None:
    """An OLE2 container must hold a workbook stream, and must not be an encrypted package."""
    if "EncryptedPackage".encode("utf-16-le") in content:
        raise BadInputError("encrypted workbook: password-protected files cannot be read")
    if "Workbook".encode("utf-16-le") in content or "Book".encode("utf-16-le") in content:
        return
    if "WordDocument".encode("utf-16-le") in content:
        raise BadInputError("not a spreadsheet: an OLE2 Word document (.doc)")
    if "__substg1.0_".encode("utf-16-le") in content:
        raise BadInputError("not a spreadsheet: an Outlook message (.msg)")
    raise BadInputError("not a spreadsheet: an OLE2 file without a Workbook stream")
