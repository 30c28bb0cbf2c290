"""The unified model's input side: what a parser reads from a page, a mail or a file.

An `Observation` is one source's statement about one container (or B/L, or vessel call) at one
moment. Its `fields` keep what the source wrote, verbatim (raw strings, the source's own date
formats and words), under the field vocabulary below; sync/ normalizes them into events and the
current container status. Parsers build observations through a `ParseContext`, which carries what
they cannot know from the bytes alone (which source, where the bytes came from, when).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import orjson

SubjectKind = Literal["container", "bill_of_lading", "vessel_call"]
# What a source wrote in one field: text as written, or a JSON scalar where the page is JSON.
FieldValue = str | bool | int | float | None

# The raw field vocabulary. The first group is the vocabulary of the captured real portal pages
# (../shared/real-portal-pages/*/expected.json); the second covers what mail, EDI and the
# vessel schedule add. Values are the source's own strings; a key absent or None means
# "the source said nothing", an empty string means "the source showed an empty cell".
PORTAL_FIELDS = (
    "container_no",
    "available",
    "ready_for_pick_up",
    "customs_release",
    "carrier_release",
    "freight_release",
    "holds",
    "last_free_day",
    "discharge_date",
    "appointment_date",
    "gate_out_date",
    "vessel",
    "voyage",
    "carrier",
    "mbl_no",
    "container_spec",
    "cy_location",
    "yard_location",
    "demurrage",
    "chassis_no",
    "tmf",
    "weight",
)
EXTRA_FIELDS = (
    "status",  # a free-text status word or phrase ("Discharged", "已卸船", "可提")
    "usda_hold",
    "line_hold",
    "other_holds",
    "line_last_free_day",
    "fees",  # total fees due, as written ("$245.00")
    "appointment_ref",
    "gate_in_date",
    "empty_return_date",
    "load_date",
    "inspection",
    "terminal",  # terminal or facility name/code
    "location",  # UN/LOCODE of the place the statement is about
    "port_of_loading",
    "port_of_discharge",
    "eta",
    "ata",
    "etd",
    "atd",
    "berth",
    "vessel_status",
    "event_code",  # a code the source states itself (EDIFACT, DCSA): DISC, GTOT, ...
    "event_classifier",  # ACT / EST / PLN as the source states it
    "event_time",
    "empty_full",
    "order_ref",
    "customer",
    "not_found",  # the source's own words for "this container is unknown here"
)
FIELDS = PORTAL_FIELDS + EXTRA_FIELDS


@dataclass(frozen=True, slots=True)
class Observation:
    """One source's statement about one subject at one moment, with its raw fields verbatim."""

    source: str  # "portal:NAME", "mail:NAME", "import:NAME"
    source_ref: str  # URL, Message-ID (+ attachment and row), file path (+ sheet and row)
    observed_at: datetime  # timezone-aware, UTC
    fields: Mapping[str, FieldValue]
    subject: SubjectKind = "container"
    parser: str = ""  # "family.page/version" of the parser that read it
    time_zone: str | None = None  # IANA zone the source's local times are in, when known
    # Where a field's name follows a captured convention rather than its meaning (one portal's
    # "gate_out_date" column is really its current state), the vocabulary field to read it as;
    # None: not a fact to normalize. The raw fields stay as the source wrote them.
    meanings: Mapping[str, str | None] | None = None

    @property
    def container_number(self) -> str | None:
        value = self.fields.get("container_no")
        return None if value is None else str(value)

    @property
    def bill_of_lading(self) -> str | None:
        value = self.fields.get("mbl_no")
        return None if value is None else str(value)

    def content_hash(self) -> str:
        """Identity of what was said (source, subject and fields), not of when it was seen."""
        fields = self.fields
        # Most sources name every column every time; copy only when some say nothing (None).
        if type(fields) is dict and None not in fields.values():
            said = fields
        else:
            said = {name: value for name, value in fields.items() if value is not None}
        try:
            # orjson: ~4x faster than repr() here, and every observation is hashed on ingest
            text = orjson.dumps([self.source, self.subject, said], option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # an integer past 64 bits, say
            text = repr((self.source, self.subject, sorted(said.items()))).encode()
        return hashlib.blake2b(text, digest_size=16).hexdigest()

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "source_ref": self.source_ref,
            "observed_at": self.observed_at.isoformat(),
            "subject": self.subject,
            "parser": self.parser,
            "time_zone": self.time_zone,
            "fields": dict(self.fields),
            **({"meanings": dict(self.meanings)} if self.meanings else {}),
        }


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser needs besides the bytes: who is speaking, from where, and when."""

    source: str
    source_ref: str
    observed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    time_zone: str | None = None

    def observe(
        self,
        fields: Mapping[str, FieldValue],
        *,
        parser: str,
        subject: SubjectKind = "container",
        source_ref: str | None = None,
        meanings: Mapping[str, str | None] | None = None,
    ) -> Observation:
        return Observation(
            source=self.source,
            source_ref=source_ref or self.source_ref,
            observed_at=self.observed_at,
            fields=dict(fields),
            subject=subject,
            parser=parser,
            time_zone=self.time_zone,
            meanings=meanings,
        )
