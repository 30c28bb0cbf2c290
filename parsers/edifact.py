"""UN/EDIFACT container messages (COARRI, CODECO, IFTSTA) → Observations.

pydifact splits the interchange into segments (UNA service characters, release characters, line
breaks after terminators); the mapping below is ours. Files wrapped at a fixed width are rejoined:
EDIFACT data never contains line breaks unless the UNA makes one the segment terminator.

Equipment groups: in COARRI and CODECO every EQD starts one container's group (until the next EQD,
CNT or UNT) and the segments before the first EQD are message-wide. IFTSTA is consignment-first:
CNI (consignment) → STS (status) → EQD (equipment); each EQD under an STS gets that status, and a
status without EQD is reported for the B/L (subject "bill_of_lading"). A value is looked up in
the innermost group first, then outwards (an EQD's own RFF+BM wins over the message's).

| field                      | where it comes from                                                    |
|----------------------------|------------------------------------------------------------------------|
| event_code                 | COARRI BGM 98, 44 → DISC; 270, 46 → LOAD. CODECO BGM 34 → GTIN;         |
|                            | 36 → GTOT. IFTSTA STS code via _STATUS_CODES (unknown: `status` only)  |
| event_classifier           | ACT (COARRI/CODECO report moves done); IFTSTA EST for DTM 132/133      |
| event_time, _format        | COARRI DTM 203, 7 · CODECO DTM 7, 203 (the EQD group) ·                |
|                            | IFTSTA DTM 334, 7, 203, 178, 186, 132, 133 (the STS/EQD group)         |
| status, status_text        | IFTSTA STS code as written, and its text (9010) when sent;             |
|                            | COARRI/CODECO: "BGM nn" when the document code is unknown               |
| container_no               | EQD+CN equipment id, verbatim (other EQD kinds are skipped)            |
| container_spec             | EQD size/type code (45G1)                                              |
| empty_full                 | EQD full/empty indicator: 4 → EMPTY, 5 → LADEN, other codes verbatim   |
| location, terminal         | LOC: COARRI 11 (DISC) / 9 (LOAD), then 165, 175 · CODECO 165, 175 ·    |
|                            | IFTSTA 175, 165; terminal = its related place (…+APMT:TER:ZZZ → APMT)  |
| port_of_loading/_discharge | LOC 9 / LOC 11 in any group; stowage_position: LOC 147 (bay-row-tier)  |
| vessel, vessel_id, voyage  | TDT+20 (main carriage): vessel name (C222/8212) or its id (8213),      |
| carrier                    | voyage (8028), carrier (C040); carrier falls back to NAD+CA            |
| eta, etd, ata, atd         | DTM 132, 133, 178, 186 in any group (each with a _format)              |
| mbl_no, booking_ref        | RFF+BM, RFF+BN (IFTSTA: the CNI consignment reference if no RFF+BM)    |
| weight, seals              | MEA+AAE with G/VGM as "value unit"; SEL seal numbers joined by ", "    |

Dates stay as written ("202611051430") with their EDIFACT format code (102 CCYYMMDD, 203
CCYYMMDDHHMM, 204 with seconds, 303 with a zone): sync turns them into instants.

Malformed interchanges (a syntax error, a segment outside UNH/UNT, a UNT/UNZ count that does not
match, a truncated file) raise BadInputError naming the segment number (counted from 1 in file
order, UNA included). An EQD without a container number is recorded as a problem and the rest read.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydifact.parser import Parser

from quaysync.errors import BadInputError
from quaysync.model import Observation, ParseContext

PARSERS = {"COARRI": "edifact.coarri/1", "CODECO": "edifact.codeco/1", "IFTSTA": "edifact.iftsta/1"}
MAX_EDI_BYTES = 5_000_000

_BGM_EVENTS = {
    # SMDG COARRI 2.x / UNCL 1001: 98 unload container from vessel, 270 load container onto vessel.
    # SMDG COARRI 1.2 (D95B): 44 discharge report, 46 loading report.
    "COARRI": {"98": "DISC", "44": "DISC", "270": "LOAD", "46": "LOAD"},
    # CODECO: 34 gate-in report, 36 gate-out report.
    "CODECO": {"34": "GTIN", "36": "GTOT"},
}
# IFTSTA STS status codes. Ocean carriers send the X12 315 / INTTRA shipment status codes, some
# send DCSA codes directly; only codes with an unambiguous counterpart are mapped.
_STATUS_CODES = {
    "AE": "LOAD",  # loaded on vessel
    "UV": "DISC",  # unloaded from vessel
    "VA": "ARRI",  # vessel arrival
    "VD": "DEPA",  # vessel departure
    "I": "GTIN",  # in-gate
    "OA": "GTOT",  # out-gate
    "AV": "AVPU",  # available for delivery (pick-up)
    "CT": "CUSR",  # customs released
    "CR": "RELS",  # carrier release
    **{code: code for code in (
        "LOAD", "DISC", "GTIN", "GTOT", "PICK", "DROP", "STUF", "STRP", "INSP", "RMVD",
        "ARRI", "DEPA", "HOLD", "RELS", "AVPU", "CUSR", "CUSI",
    )},
}  # fmt: skip
_EMPTY_FULL = {"4": "EMPTY", "5": "LADEN"}
_EVENT_DATES = {
    "COARRI": ("203", "7"),
    "CODECO": ("7", "203"),
    "IFTSTA": ("334", "7", "203", "178", "186", "132", "133"),
}
_ESTIMATES = {"132", "133"}
_VESSEL_DATES = {"132": "eta", "133": "etd", "178": "ata", "186": "atd"}
_LOCATIONS = {
    ("COARRI", "DISC"): ("11", "165", "175"),
    ("COARRI", "LOAD"): ("9", "165", "175"),
    ("COARRI", None): ("165", "175", "11", "9"),
    ("CODECO", None): ("165", "175"),
    ("IFTSTA", None): ("175", "165"),
}
_START = re.compile(r"^(?:UNA.{6}|UNB\W|UNH\W)", re.S)
_SYNTAX = re.compile(rb"UNB.(UNO[A-Z])")
_SYNTAX_ENCODINGS = {"UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2",
                     "UNOE": "iso8859-5", "UNOF": "iso8859-7", "UNOW": "utf-8", "UNOY": "utf-8"}  # fmt: skip

Element = str | list[str]


@dataclass(frozen=True)
class Seg:
    number: int  # 1-based position in the file
    tag: str
    elements: tuple[Element, ...]

    def get(self, element: int, component: int = 0) -> str:
        if element >= len(self.elements):
            return ""
        value = self.elements[element]
        if isinstance(value, list):
            return value[component] if component < len(value) else ""
        return value if component == 0 else ""


@dataclass
class _Group:
    head: Seg | None = None
    segments: list[Seg] = field(default_factory=list)
    children: list[_Group] = field(default_factory=list)

    def all(self, tag: str) -> Iterator[Seg]:
        return (segment for segment in self.segments if segment.tag == tag)


@dataclass
class EdifactProblem:
    segment_number: int
    reason: str


@dataclass
class EdifactReading:
    observations: list[Observation] = field(default_factory=list)
    problems: list[EdifactProblem] = field(default_factory=list)
    message_types: list[str] = field(default_factory=list)  # one per UNH, in order


def looks_like_edifact(content: bytes | str) -> bool:
    if isinstance(content, bytes):
        content = content.removeprefix(b"\xef\xbb\xbf")[:64].decode("latin-1")
    return bool(_START.match(content[:64].lstrip("\ufeff\r\n\t ")))


def _decode(content: bytes) -> str:
    syntax = _SYNTAX.search(content[:200])
    encoding = _SYNTAX_ENCODINGS.get(syntax.group(1).decode() if syntax else "", "utf-8")
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return content.decode("utf-8" if encoding != "utf-8" else "latin-1", errors="replace")


def _segments(text: str) -> Iterator[Seg]:
    text = text.lstrip("\ufeff\r\n\t ")
    terminator = text[8] if text.startswith("UNA") and len(text) > 8 else "'"
    if terminator not in "\r\n":
        text = text.replace("\r", "").replace("\n", "")
    number = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydifact warns about empty segments; we judge ourselves
            for segment in Parser().parse(text):
                number += 1
                elements = tuple(segment.elements)
                yield Seg(number, segment.tag, elements)
    except BadInputError:
        raise
    except Exception as error:  # pydifact raises EDISyntaxError, ValueError, IndexError...
        raise BadInputError(
            f"EDIFACT syntax error in segment {number + 1} (after segment {number}): {error}"
        ) from None


def read_edifact(
    content: bytes | str, context: ParseContext, *, max_bytes: int = MAX_EDI_BYTES
) -> EdifactReading:
    """Observations from a COARRI/CODECO/IFTSTA interchange. BadInputError when malformed."""
    if isinstance(content, bytes):
        if not content.strip():
            raise BadInputError("empty EDIFACT file")
        if len(content) > max_bytes:
            raise BadInputError(f"EDIFACT file too big: {len(content):,} bytes exceed {max_bytes:,}")
        text = _decode(content)
    else:
        text = content
    if not looks_like_edifact(text):
        raise BadInputError("not an EDIFACT interchange: expected UNA, UNB or UNH at the start")
    reading = EdifactReading()
    _Interchange(context, reading).run(_segments(text))
    return reading


class _Interchange:
    """Checks the envelope (UNB/UNZ, UNH/UNT) and hands each message's segments to _Message."""

    def __init__(self, context: ParseContext, reading: EdifactReading) -> None:
        self.context = context
        self.reading = reading

    def run(self, segments: Iterable[Seg]) -> None:
        unb: Seg | None = None
        message: _Message | None = None
        messages_in_interchange = groups = 0
        last = 0
        for segment in segments:
            last = segment.number
            tag = segment.tag
            if tag == "UNA":
                continue
            if tag == "UNB":
                if unb is not None:
                    raise BadInputError(
                        f"segment {segment.number}: UNB before the UNZ of the previous interchange"
                    )
                unb, messages_in_interchange, groups = segment, 0, 0
                continue
            if tag in ("UNG", "UNE"):
                groups += tag == "UNG"
                continue
            if tag == "UNZ":
                if message is not None:
                    raise BadInputError(
                        f"segment {segment.number}: UNZ while message {message.reference} is open"
                    )
                if unb is None:
                    raise BadInputError(f"segment {segment.number}: UNZ without UNB")
                expected = groups or messages_in_interchange
                if segment.get(0) != str(expected):
                    raise BadInputError(
                        f"segment {segment.number}: UNZ counts {segment.get(0)!r} messages, "
                        f"the interchange has {expected}"
                    )
                if segment.get(1) != unb.get(4):
                    raise BadInputError(
                        f"segment {segment.number}: UNZ reference {segment.get(1)!r} "
                        f"differs from UNB's {unb.get(4)!r}"
                    )
                unb = None
                continue
            if tag == "UNH":
                if message is not None:
                    raise BadInputError(
                        f"segment {segment.number}: UNH while message {message.reference} "
                        "has no UNT (truncated?)"
                    )
                message = _Message(segment, self.context)
                self.reading.message_types.append(message.kind)
                messages_in_interchange += 1
                continue
            if message is None:
                raise BadInputError(
                    f"segment {segment.number} ({tag}) is outside a message: no UNH before it"
                )
            if tag == "UNT":
                message.close(segment, self.reading)
                message = None
                continue
            message.feed(segment)
        if message is not None:
            raise BadInputError(
                f"message {message.reference} not closed: UNT missing, input ends after segment {last}"
            )
        if unb is not None:
            raise BadInputError(f"interchange not closed: UNZ missing, input ends after segment {last}")
        if not self.reading.message_types:
            raise BadInputError("EDIFACT interchange without any message (no UNH)")


class _Message:
    def __init__(self, unh: Seg, context: ParseContext) -> None:
        self.reference = unh.get(0) or "?"
        self.kind = unh.get(1).upper()
        if self.kind not in PARSERS:
            shown = self.kind or "(none)"
            raise BadInputError(
                f"segment {unh.number}: EDIFACT message type {shown} is not supported "
                "(COARRI, CODECO, IFTSTA)"
            )
        self.unh = unh
        self.context = context
        self.count = 1  # UNT counts UNH and UNT themselves
        self.header = _Group(head=unh)
        self.consignment: _Group | None = None
        self.status: _Group | None = None
        self.equipment: _Group | None = None
        self.finished: list[tuple[_Group, ...]] = []  # (innermost, ..., header) chains to report
        self.problems: list[EdifactProblem] = []

    # --- grouping -------------------------------------------------------------------------------

    def feed(self, segment: Seg) -> None:
        self.count += 1
        tag = segment.tag
        if self.kind == "IFTSTA":
            if tag == "CNI":
                self._close_status()
                self.consignment = _Group(head=segment)
                return
            if tag == "STS":
                self._close_status()
                self.status = _Group(head=segment)
                return
            if tag == "EQD":
                if self.status is None:  # equipment listed without a status of its own
                    self.status = _Group()
                self.equipment = _Group(head=segment)
                self.status.children.append(self.equipment)
                return
            if tag == "CNT":
                self._close_status()
        else:
            if tag == "EQD":
                self._close_equipment()
                self.equipment = _Group(head=segment)
                return
            if tag == "CNT":
                self._close_equipment()
        scope = self.equipment or self.status or self.consignment or self.header
        scope.segments.append(segment)

    def _close_equipment(self) -> None:
        if self.equipment is not None:
            self.finished.append((self.equipment, self.header))
            self.equipment = None

    def _close_status(self) -> None:
        status, self.equipment = self.status, None
        if status is None:
            return
        outer = (status, self.consignment, self.header) if self.consignment else (status, self.header)
        if status.children:
            self.finished.extend((equipment, *outer) for equipment in status.children)
        else:
            self.finished.append(outer)
        self.status = None

    def close(self, unt: Seg, reading: EdifactReading) -> None:
        self.count += 1
        if self.kind == "IFTSTA":
            self._close_status()
        else:
            self._close_equipment()
        if unt.get(0) != str(self.count):
            raise BadInputError(
                f"segment {unt.number}: UNT counts {unt.get(0)!r} segments, "
                f"message {self.reference} has {self.count}"
            )
        if unt.get(1) != self.reference:
            raise BadInputError(
                f"segment {unt.number}: UNT reference {unt.get(1)!r} differs from UNH's {self.reference!r}"
            )
        for chain in self.finished:
            observation = self._observe(chain)
            if observation is not None:
                reading.observations.append(observation)
        reading.problems.extend(self.problems)

    # --- mapping --------------------------------------------------------------------------------

    @staticmethod
    def _find(chain: tuple[_Group, ...], tag: str, qualifier: str | None = None) -> Seg | None:
        for group in chain:
            candidates = [group.head, *group.segments] if group.head is not None else group.segments
            for segment in candidates:
                if (
                    segment is not None
                    and segment.tag == tag
                    and (qualifier is None or segment.get(0) == qualifier)
                ):
                    return segment
        return None

    def _observe(self, chain: tuple[_Group, ...]) -> Observation | None:
        innermost = chain[0]
        head = innermost.head
        fields: dict[str, str] = {}
        subject = "container"
        anchor = head or self.unh
        if head is not None and head.tag == "EQD":
            if head.get(0) not in ("CN", ""):
                self.problems.append(
                    EdifactProblem(head.number, f"EQD+{head.get(0)} equipment is not a container: skipped")
                )
                return None
            if not head.get(1).strip():
                self.problems.append(EdifactProblem(head.number, "EQD without a container number"))
                return None
            fields["container_no"] = head.get(1)
            _put(fields, "container_spec", head.get(2))
            empty_full = head.get(5)
            if empty_full:
                fields["empty_full"] = _EMPTY_FULL.get(empty_full, empty_full)

        event_code = self._event_code(chain, fields)
        _put(fields, "event_code", event_code)
        local = chain[:-1] if self.kind == "IFTSTA" else chain[:1]  # never the message's own dates
        for qualifier in _EVENT_DATES[self.kind]:
            dtm = self._find(local, "DTM", qualifier)
            if dtm is not None:
                fields["event_time"] = dtm.get(0, 1)
                _put(fields, "event_time_format", dtm.get(0, 2))
                fields["event_classifier"] = "EST" if qualifier in _ESTIMATES else "ACT"
                break
        else:
            if event_code:
                fields["event_classifier"] = "ACT"
        for qualifier, name in _VESSEL_DATES.items():
            dtm = self._find(chain, "DTM", qualifier)
            if dtm is not None:
                fields[name] = dtm.get(0, 1)
                _put(fields, f"{name}_format", dtm.get(0, 2))

        for qualifier in _LOCATIONS.get((self.kind, event_code), _LOCATIONS[(self.kind, None)]):
            loc = self._find(chain, "LOC", qualifier)
            if loc is not None and loc.get(1):
                fields["location"] = loc.get(1)
                _put(fields, "terminal", loc.get(2))
                break
        for qualifier, name in (
            ("9", "port_of_loading"),
            ("11", "port_of_discharge"),
            ("147", "stowage_position"),
        ):
            loc = self._find(chain, "LOC", qualifier)
            if loc is not None:
                _put(fields, name, loc.get(1))

        tdt = self._find(chain, "TDT", "20")
        if tdt is not None:
            _put(fields, "voyage", tdt.get(1))
            _put(fields, "vessel", tdt.get(7, 3) or tdt.get(7, 0))
            _put(fields, "vessel_id", tdt.get(7, 0))
            _put(fields, "carrier", tdt.get(4, 0))
        if "carrier" not in fields:
            nad = self._find(chain, "NAD", "CA")
            if nad is not None:
                _put(fields, "carrier", nad.get(1, 0))

        bill = self._find(chain, "RFF", "BM")
        if bill is not None:
            _put(fields, "mbl_no", bill.get(0, 1))
        elif self.kind == "IFTSTA":
            consignment = next(
                (group.head for group in chain if group.head and group.head.tag == "CNI"), None
            )
            if consignment is not None:
                _put(fields, "mbl_no", consignment.get(1, 0))
        booking = self._find(chain, "RFF", "BN")
        if booking is not None:
            _put(fields, "booking_ref", booking.get(0, 1))

        measure = next(
            (
                seg
                for seg in innermost.all("MEA")
                if seg.get(0) == "AAE" and seg.get(1) in ("G", "VGM", "AAD")
            ),
            None,
        )
        if measure is not None:
            _put(fields, "weight", f"{measure.get(2, 1)} {measure.get(2, 0)}".strip())
        seals = [seg.get(0) for seg in innermost.all("SEL") if seg.get(0)]
        if seals:
            fields["seals"] = ", ".join(seals)

        if "container_no" not in fields:
            if "mbl_no" not in fields:
                self.problems.append(
                    EdifactProblem(anchor.number, "status without equipment or B/L: nothing to report")
                )
                return None
            subject = "bill_of_lading"
        return self.context.observe(
            fields,
            parser=PARSERS[self.kind],
            subject=subject,  # type: ignore[arg-type]
            source_ref=f"{self.context.source_ref}#{self.reference}!S{anchor.number}",
        )

    def _event_code(self, chain: tuple[_Group, ...], fields: dict[str, str]) -> str | None:
        if self.kind == "IFTSTA":
            sts = self._find(chain[:-1], "STS")
            if sts is None:
                return None
            code = sts.get(1, 0)
            _put(fields, "status", code)
            _put(fields, "status_text", sts.get(1, 3))
            return _STATUS_CODES.get(code.upper())
        bgm = self._find(chain, "BGM")
        code = bgm.get(0, 0) if bgm is not None else ""
        event = _BGM_EVENTS[self.kind].get(code)
        if event is None and code:
            fields["status"] = f"BGM {code}"
        return event


def _put(fields: dict[str, str], name: str, value: str | None) -> None:
    if value:
        fields[name] = value
