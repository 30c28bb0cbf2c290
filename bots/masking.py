"""Secrets out of evidence and recordings: HTML snapshots, HAR files and Playwright trace zips.

What is masked (replaced by `quaysync.secrets.MASK`):
- every secret registered with `REDACTOR` (passwords from config, in plain, URL- and HTML-encoded forms);
- the values of the session's cookies (the caller passes them: they are as good as a password);
- in HAR entries (and the trace's network log, which holds HAR entries): `Cookie` and `Set-Cookie`
  header values, `cookies[].value`, and form fields whose name says password.

Only the secret text changes; everything else is kept byte for byte, so a masked HAR still replays
(a form posted with the password field typed as the mask matches the recorded post).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quaysync.secrets import MASK, REDACTOR

_PASSWORD_FIELD = re.compile(r"(^|&)([^=&]*(?:pass|pwd)[^=&]*)=([^&]*)", re.IGNORECASE)
_COOKIE_PAIR = re.compile(r"(^|;\s*)([^=;\s]+)=([^;]*)")
_BINARY_SUFFIXES = (".png", ".jpeg", ".jpg", ".webp", ".gif", ".woff", ".woff2", ".xlsx", ".zip")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"PK\x03\x04")


class Masker:
    """REDACTOR's secrets plus the extra values of one browser session (cookies)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        values = sorted({value for value in extra if len(value) >= 4}, key=len, reverse=True)
        self._extra = re.compile("|".join(re.escape(value) for value in values)) if values else None

    def text(self, text: str) -> str:
        masked = REDACTOR.mask(text)
        return self._extra.sub(MASK, masked) if self._extra is not None else masked

    def bytes(self, blob: bytes) -> bytes:
        return self.text(blob.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    # HAR ---------------------------------------------------------------------------------------

    def har_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        for side in ("request", "response"):
            message = entry.get(side)
            if not isinstance(message, dict):
                continue
            for header in message.get("headers") or []:
                name = str(header.get("name", "")).lower()
                if name in ("cookie", "set-cookie") and isinstance(header.get("value"), str):
                    header["value"] = _mask_cookie_header(header["value"], name == "set-cookie")
            for cookie in message.get("cookies") or []:
                if isinstance(cookie, dict) and cookie.get("value"):
                    cookie["value"] = MASK
        post = (entry.get("request") or {}).get("postData")
        if isinstance(post, dict):
            if isinstance(post.get("text"), str):
                post["text"] = _PASSWORD_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}", post["text"])
            for parameter in post.get("params") or []:
                name = str(parameter.get("name", "")).lower()
                if ("pass" in name or "pwd" in name) and parameter.get("value"):
                    parameter["value"] = MASK
        return entry

    def har_document(self, document: dict[str, Any]) -> dict[str, Any]:
        for entry in (document.get("log") or {}).get("entries") or []:
            self.har_entry(entry)
        return json.loads(self.text(json.dumps(document, ensure_ascii=False)))

    def har_file(self, path: Path) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(
            json.dumps(self.har_document(document), ensure_ascii=False, indent=1), encoding="utf-8"
        )

    # Playwright traces -----------------------------------------------------------------------

    def trace_zip(self, path: Path) -> None:
        """Rewrite a trace zip with every text member masked (the network log structurally too)."""
        temporary = path.with_suffix(".masking")
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                blob = source.read(info)
                if info.filename.endswith(".network"):
                    blob = self._network_log(blob)
                if not _is_binary(info.filename, blob):
                    blob = self.bytes(blob)
                target.writestr(info, blob)
        temporary.replace(path)

    def _network_log(self, blob: bytes) -> bytes:
        lines = []
        for line in blob.decode("utf-8", "surrogateescape").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                lines.append(line)
                continue
            snapshot = event.get("snapshot") if isinstance(event, dict) else None
            if isinstance(snapshot, dict):
                self.har_entry(snapshot)
            lines.append(json.dumps(event, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def _mask_cookie_header(value: str, set_cookie: bool) -> str:
    """`Cookie: a=1; b=2` → every value masked; `Set-Cookie` (one per line) keeps its attributes."""
    if not set_cookie:
        return _COOKIE_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}", value)
    lines = []
    for line in value.split("\n"):
        first, sep, rest = line.partition(";")
        name, equals, _secret = first.partition("=")
        lines.append(f"{name}={MASK}{sep}{rest}" if equals else line)
    return "\n".join(lines)


def _is_binary(name: str, blob: bytes) -> bool:
    return name.lower().endswith(_BINARY_SUFFIXES) or blob[:4].startswith(_IMAGE_MAGIC)
