"""Decoding text whose declared charset cannot be trusted (carrier mail, CSV exports).

Chinese carrier mail is often labelled GB2312 while holding GBK characters, labelled ISO-8859-1
while holding GBK or UTF-8, or not labelled at all. We decode with the declared charset where it
fits, read GB2312/GBK as GB18030 (their superset), and otherwise try the likely encodings and
charset-normalizer, accepting only text that looks like text.
"""

from __future__ import annotations

import codecs
import unicodedata

from charset_normalizer import from_bytes

from quaysync.errors import BadInputError

# Labels mail software writes that Python does not know, or knows as a narrower codec.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "ms936": "gb18030",
    "gb_2312-80": "gb18030", "euc-cn": "gb18030", "x-euc-cn": "gb18030", "chinese": "gb18030",
    "csgb2312": "gb18030", "gb2312-80": "gb18030", "big5-hkscs": "big5hkscs", "x-big5": "big5",
    "ks_c_5601-1987": "cp949", "iso-8859-8-i": "iso-8859-8", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}  # fmt: skip
# Labels that say nothing about the bytes: decide from the bytes.
_UNINFORMATIVE = {"unknown-8bit", "x-unknown", "x-user-defined", "unknown", "default", "binary"}
# Single-byte labels that decode anything, so a wrong label never fails on its own.
_PERMISSIVE = {codecs.lookup(name).name for name in ("iso-8859-1", "windows-1252", "us-ascii", "iso-8859-15")}


def codec_for(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or uninformative."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    if name in _UNINFORMATIVE:
        return None
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _plausible(text: str) -> bool:
    """Text a person wrote: almost no control, private-use or unassigned characters."""
    if not text:
        return True
    odd = 0
    for char in text:
        if char in "\r\n\t\f":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Co", "Cn", "Cs"):
            odd += 1
    return odd <= max(1, len(text) // 200)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"
               for char in text)  # fmt: skip


def _strict(payload: bytes, codec: str) -> str | None:
    try:
        return payload.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_text(payload: bytes, declared: str | None, *, what: str = "text") -> tuple[str, str | None]:
    """Decode `payload`; returns (text, note) where note says when the declared charset was wrong.

    Raises BadInputError when no charset gives plausible text.
    """
    if payload.startswith(codecs.BOM_UTF8):
        return payload[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), None
    codec = codec_for(declared)
    if codec is not None and codec not in _PERMISSIVE:
        text = _strict(payload, codec)
        if text is not None and _plausible(text):
            return text, None
    elif codec is not None:
        # A permissive label fits any bytes; trust it only when the bytes are plain ASCII or
        # nothing better fits (UTF-8 or GBK mislabelled as Latin-1 is common in carrier mail).
        if payload.isascii():
            return payload.decode("ascii"), None
        guessed = _guess(payload)
        if guessed is not None and (guessed[1] == "utf-8" or _has_cjk(guessed[0])):
            return guessed[0], f"{what} declared {declared} but is {guessed[1]}"
        return payload.decode(codec, "replace"), None
    guessed = _guess(payload)
    if guessed is None:
        label = f"declared {declared}" if declared else "no charset declared"
        raise BadInputError(f"{what} is not decodable text ({label}, and no charset fits the bytes)")
    text, found = guessed
    if declared and codec_for(declared) != found:
        return text, f"{what} declared {declared} but is {found}"
    return text, None


def _guess(payload: bytes) -> tuple[str, str] | None:
    """Decode bytes of unknown charset: UTF-8, then GB18030 (Chinese), then charset-normalizer."""
    if payload.isascii():
        return payload.decode("ascii"), "ascii"
    for codec in ("utf-8", "gb18030", "big5"):
        text = _strict(payload, codec)
        if text is not None and _plausible(text) and (codec == "utf-8" or _has_cjk(text)):
            return text, codec
    match = from_bytes(payload).best()
    if match is None:
        return None
    text = str(match)
    if not _plausible(text):
        return None
    return text, codecs.lookup(match.encoding).name


def repair_header(value: str) -> str:
    """Undo the surrogate escapes the email parser leaves for raw 8-bit bytes in a header."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    guessed = _guess(raw)
    return guessed[0] if guessed is not None else raw.decode("utf-8", "replace")


__all__ = ["codec_for", "decode_text", "repair_header"]
