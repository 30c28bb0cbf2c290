"""CSV / TSV → a Table: encoding detection and delimiter sniffing.

Encodings, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); the caller's hint (a MIME
charset) when it decodes cleanly; UTF-16 without a BOM (NUL bytes in every other position);
strict UTF-8; then charset-normalizer. Chinese legacy encodings (GB2312, GBK, HZ) are decoded as
GB18030, their superset, so a GBK file with a character outside GB2312 still reads.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import charset_normalizer

from quaysync.errors import BadInputError

from .model import Table
from .safety import MAX_TABLE_CELLS

_BOM_ENCODINGS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CHINESE = {"gb2312", "gbk", "gb18030", "hz", "hz_gb_2312", "hz-gb-2312", "cp936"}
_DELIMITERS = ("\t", ",", ";", "|")
_SAMPLE_LINES = 50


def _utf16_without_bom(content: bytes) -> str | None:
    sample = content[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > half * 0.3 and even_nuls < half * 0.05:
        return "utf-16-le"
    if even_nuls > half * 0.3 and odd_nuls < half * 0.05:
        return "utf-16-be"
    return None


def decode_text(content: bytes, encoding_hint: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with; BadInputError for binary or undecodable bytes."""
    for bom, encoding in _BOM_ENCODINGS:
        if content.startswith(bom):
            return _strict(content, encoding), encoding
    if encoding_hint:
        hint = encoding_hint.strip().lower()
        hint = "gb18030" if hint in _CHINESE else hint
        try:
            return content.decode(hint), hint
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong MIME charset is common: detect instead
    utf16 = _utf16_without_bom(content)
    if utf16:
        return _strict(content, utf16), utf16
    if b"\x00" in content[:65536]:
        raise BadInputError("not a spreadsheet: binary content (NUL bytes) of no known format")
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _reads_as_chinese(content):
        return content.decode("gb18030"), "gb18030"
    best = charset_normalizer.from_bytes(content[:200_000]).best()
    if best is None:
        raise BadInputError("not a spreadsheet: binary content, no text encoding fits")
    encoding = best.encoding.lower()
    if encoding.replace("-", "_") in _CHINESE or encoding in _CHINESE:
        encoding = "gb18030"
    return content.decode(encoding, errors="replace"), encoding


def _reads_as_chinese(content: bytes) -> bool:
    """GBK bytes that decode cleanly into mostly Chinese characters are GBK.

    Detectors guess short GBK samples ("箱号,状态") as Shift-JIS or Big5; Chinese carriers and
    ports are exactly where our legacy-encoded files come from, so GB18030 is tried first and kept
    when nearly everything non-ASCII it yields is a CJK ideograph or CJK punctuation.
    """
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        return False
    foreign = [char for char in text if ord(char) > 0x7F]
    chinese = sum(1 for char in foreign if "\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f"
                  or "\uff00" <= char <= "\uffef")  # fmt: skip
    return bool(foreign) and chinese >= 0.9 * len(foreign)


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise BadInputError(f"text is not valid {encoding}: {error.reason} at byte {error.start}") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the sample lines most consistently (a title line above is fine)."""
    lines = [line for line in text.splitlines()[: _SAMPLE_LINES * 2] if line.strip()][:_SAMPLE_LINES]
    best, best_score = ",", 0.0
    for delimiter in _DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        used = [count for count in counts if count]
        if not used:
            continue
        mode, agreeing = Counter(used).most_common(1)[0]
        # Lines that agree on the column count, weighted by how many columns that gives.
        score = agreeing / len(lines) * (1 + min(mode, 20) / 20)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_delimited(content: bytes, *, encoding_hint: str | None = None) -> Table:
    text, _encoding = decode_text(content, encoding_hint)
    if "\x00" in text:
        raise BadInputError("not a spreadsheet: text with NUL characters")
    if not text.strip():
        raise BadInputError("empty table: the text has no cells")
    delimiter = sniff_delimiter(text)
    rows: list[list[str]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells += len(row)
            if cells > MAX_TABLE_CELLS:
                raise BadInputError(f"text table rejected: more than {MAX_TABLE_CELLS:,} cells")
            rows.append(row)
    except csv.Error as error:
        raise BadInputError(
            f"malformed {'TSV' if delimiter == chr(9) else 'CSV'} at row {len(rows) + 1}: {error}"
        ) from None
    return Table(name="tsv" if delimiter == "\t" else "csv", rows=rows)
