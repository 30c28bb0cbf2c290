"""Carrier and terminal mail: raw message → MailMessage → a template's observations (pure).

message = read_message(raw, max_message_bytes=..., max_attachment_bytes=...)  # BadInputError
template = choose_template(message, mailbox.routes)    # None → quarantine as "needs template"
reading = read_mail(template, message, context)        # BadInputError / LayoutChangedError
reading.observations, reading.problems
"""

from parsers.email.message import MESSAGE_PARSER, Attachment, MailMessage, display_name, read_message
from parsers.email.routing import choose_template, route_matches
from parsers.email.templates import TEMPLATES, MailProblem, MailReading, Template, get_template, read_mail

__all__ = [
    "MESSAGE_PARSER",
    "TEMPLATES",
    "Attachment",
    "MailMessage",
    "MailProblem",
    "MailReading",
    "Template",
    "choose_template",
    "display_name",
    "get_template",
    "read_mail",
    "read_message",
    "route_matches",
]
