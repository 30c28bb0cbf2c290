"""sync.events pieces that stand on their own (the merge is tested through ingest)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from sync.events import EVENT_NAMESPACE, event_uuid


@given(st.text(max_size=80))
def test_event_uuid_is_the_rfc_4122_name_based_uuid(name: str) -> None:
    # event ids are public (the DCSA API serves them): the fast path must give uuid5's text exactly
    assert event_uuid(name) == str(uuid.uuid5(EVENT_NAMESPACE, name))
