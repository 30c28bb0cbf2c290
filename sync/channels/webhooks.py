"""HTTP channels: a generic JSON webhook (optionally HMAC-signed), and chat groups' incoming webhooks.

Body shapes, as the services document them:
  wecom     {"msgtype": "text", "text": {"content": ...}}        content at most 2048 bytes;
            the reply is {"errcode": 0, "errmsg": "ok"} — any other errcode is a failure
  dingtalk  {"msgtype": "text", "text": {"content": ...}}        reply errcode 0 on success; with a
            signing secret, the URL gets &timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of
            "<ms>\\n<secret>" keyed by the secret>
  slack     {"text": ...}                                       reply 200 "ok"
  webhook   the outbox payload itself, with X-Quaysync-Id and, given a secret,
            X-Quaysync-Signature: sha256=<hex HMAC-SHA256 of the body>
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

import httpx

from quaysync.config import ChannelOptions
from quaysync.secrets import REDACTOR
from sync.outbox import DeliveryError

WECOM_TEXT_BYTES = 2048
DINGTALK_TEXT_CHARS = 18000


def _clip_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode("utf-8", "ignore") + "…"


def chat_text(payload: dict[str, Any]) -> str:
    return f"{payload.get('title', '')}\n\n{payload.get('text', '')}".strip()


def body_for(channel: ChannelOptions, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the channel's service expects."""
    if channel.kind == "wecom":
        return {"msgtype": "text", "text": {"content": _clip_bytes(chat_text(payload), WECOM_TEXT_BYTES)}}
    if channel.kind == "dingtalk":
        return {"msgtype": "text", "text": {"content": chat_text(payload)[:DINGTALK_TEXT_CHARS]}}
    if channel.kind == "slack":
        return {"text": f"*{payload.get('title', '')}*\n{payload.get('text', '')}"}
    return payload


def dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def post(channel: ChannelOptions, url: str, payload: dict[str, Any]) -> None:
    """POST one message; DeliveryError when the service does not take it."""
    body = json.dumps(body_for(channel, payload), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "quaysync"}
    secret = channel.secret.get_secret_value() if channel.secret else None
    if channel.kind == "webhook":
        headers["X-Quaysync-Id"] = str(payload.get("id", ""))
        if secret:
            headers["X-Quaysync-Signature"] = (
                "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            )
    if channel.kind == "dingtalk" and secret:
        url = dingtalk_signed(url, secret, int(time.time() * 1000))
    where = f"channel {channel.name!r} ({channel.kind})"
    try:
        with httpx.Client(timeout=channel.timeout.total_seconds(), follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        # the error text may quote the URL, which carries the robot's key
        raise DeliveryError(
            REDACTOR.mask(f"{where}: {type(error).__name__}: {error}").replace(url, "<url>")
        ) from error
    if response.status_code >= 300:
        raise DeliveryError(f"{where}: HTTP {response.status_code} {REDACTOR.mask(response.text[:200])}")
    if channel.kind in ("wecom", "dingtalk"):
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError(f"{where}: not a JSON answer: {response.text[:200]!r}") from None
        if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
            raise DeliveryError(
                f"{where}: errcode {answer.get('errcode') if isinstance(answer, dict) else '?'}: {answer}"
            )
