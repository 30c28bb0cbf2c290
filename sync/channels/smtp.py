"""Mail over SMTP (smtplib): plain, STARTTLS or implicit TLS, with optional login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from quaysync.config import ChannelOptions
from quaysync.secrets import REDACTOR
from sync.outbox import DeliveryError


def build_mail(
    channel: ChannelOptions, recipients: list[str], title: str, text: str, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = channel.mail_from or ""
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    # Stable per outbox item: a re-sent mail (at-least-once delivery) is recognisable as a repeat.
    message["Message-ID"] = f"<{message_id}@quaysync>"
    message.set_content(text)  # UTF-8 where needed (Chinese text), quoted-printable/base64 by the library
    return message


def send_mail(channel: ChannelOptions, recipients: list[str], message: EmailMessage) -> None:
    """Hand one message to the channel's SMTP server; DeliveryError when it cannot take it now."""
    if not recipients:
        raise DeliveryError(f"channel {channel.name!r}: no recipients")
    assert channel.smtp_host is not None
    timeout = channel.timeout.total_seconds()
    try:
        if channel.smtp_security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                channel.smtp_host, channel.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout)
        with server:
            if channel.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if channel.smtp_username:
                password = channel.smtp_password.get_secret_value() if channel.smtp_password else ""
                server.login(channel.smtp_username, password)
            server.send_message(message, to_addrs=recipients)
    except (OSError, smtplib.SMTPException) as error:
        where = f"{channel.smtp_host}:{channel.smtp_port}"
        raise DeliveryError(REDACTOR.mask(f"channel {channel.name!r} (smtp {where}): {error}")) from error
