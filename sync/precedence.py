"""Which source wins when sources disagree, and per field "what each source said last".

Every status field keeps, per source, the value that source stated most recently, with the hash
of the observation that said it: `field_sources[field][source] = [value, at, content_hash]`.
`freshness[source] = [at, content_hash]` is the source's latest statement about the container.
An entry whose hash is still the source's latest was last said at the freshness time — so a
source repeating its latest snapshot (most traffic) only moves `freshness`, and the entries stay.

The effective value comes from the strongest source (config `sync.source_precedence`, fnmatch
patterns, first match wins); among equals, the most recent statement. Each source's entry is
"latest by time" and the choice is a fixed order, so the result does not depend on the order
observations arrive in: an older observation never overwrites a newer one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

FieldSources = dict[str, dict[str, list[Any]]]  # field → source → [value, at ISO, content hash]
Freshness = dict[str, list[str]]  # source → [at ISO, content hash]

UNCHANGED, TIME_ONLY, VALUE = 0, 1, 2


@dataclass
class Precedence:
    patterns: Sequence[str] = ("portal:*", "mail:*", "import:*")
    _cache: dict[str, int] = field(default_factory=dict, repr=False)

    def rank(self, source: str) -> int:
        """Lower is stronger; sources matching no pattern come last."""
        cached = self._cache.get(source)
        if cached is None:
            cached = next(
                (index for index, pattern in enumerate(self.patterns) if fnmatchcase(source, pattern)),
                len(self.patterns),
            )
            self._cache[source] = cached
        return cached


def said_at(entry: list[Any], source: str, freshness: Freshness) -> str:
    """When a source last said an entry's value (ISO UTC strings compare as moments)."""
    latest = freshness.get(source)
    return latest[0] if latest is not None and entry[2] == latest[1] else entry[1]


def _order_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def record(
    sources: FieldSources,
    freshness: Freshness,
    name: str,
    source: str,
    value: Any,
    at: str,
    content_hash: str,
) -> int:
    """Note that `source` said `value` for `name` at `at`: UNCHANGED, TIME_ONLY or VALUE."""
    by_source = sources.get(name)
    if by_source is None:
        sources[name] = {source: [value, at, content_hash]}
        return VALUE
    previous = by_source.get(source)
    if previous is None:
        by_source[source] = [value, at, content_hash]
        return VALUE
    latest = freshness.get(source)  # said_at(), inline: called for every field of every statement
    previous_at = latest[0] if latest is not None and previous[2] == latest[1] else previous[1]
    if at < previous_at:
        return UNCHANGED
    if at == previous_at and (previous[0] == value or _order_key(value) <= _order_key(previous[0])):
        return UNCHANGED  # same moment, two values: the larger wins, whatever the arrival order
    by_source[source] = [value, at, content_hash]
    return TIME_ONLY if previous[0] == value else VALUE


TIED = "tied"  # freshness[source][2]: another snapshot of the source has the same moment


def advance_freshness(
    sources: FieldSources, freshness: Freshness, source: str, at: str, content_hash: str
) -> bool:
    """Make a later statement the source's latest; True when the source's freshness changed.

    Two different statements at the same moment: the larger hash counts as the later, in any
    order, and the latest is marked TIED — repeating it later is then not a mere refresh (the
    events of the two tie-break their own way; see sync.status.plan_restatements).
    """
    latest = freshness.get(source)
    tied = latest is not None and at == latest[0] and content_hash != latest[1]
    if latest is not None and (at, content_hash) <= (latest[0], latest[1]):
        if tied and TIED not in latest:
            freshness[source] = [*latest, TIED]
            return True
        return False
    if latest is not None and latest[1] != content_hash:
        # Entries of the previous latest statement were last said at its freshness time: pin it.
        for by_source in sources.values():
            entry = by_source.get(source)
            if entry is not None and entry[2] == latest[1]:
                entry[1] = latest[0]
    freshness[source] = [at, content_hash, TIED] if tied else [at, content_hash]
    return True


def effective(
    sources: FieldSources, freshness: Freshness, name: str, precedence: Precedence
) -> tuple[Any, dict[str, Any] | None]:
    """(winning value, disagreement {source: value} or None) for one field."""
    statements = sources.get(name)
    if not statements:
        return None, None
    if len(statements) == 1:
        return next(iter(statements.values()))[0], None
    strongest = min(precedence.rank(source) for source in statements)
    best = max(
        (source for source in statements if precedence.rank(source) == strongest),
        key=lambda source: (said_at(statements[source], source, freshness), source),
    )
    winner = statements[best][0]
    if any(statement[0] != winner for statement in statements.values()):
        return winner, {source: statement[0] for source, statement in sorted(statements.items())}
    return winner, None
