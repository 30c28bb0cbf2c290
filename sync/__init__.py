"""Normalize + merge: observations in, events and the current container status out.

from sync import IngestSettings, ingest

settings = IngestSettings.from_patterns(config.sync.source_precedence)
with store.session() as session:
    report = ingest(session, observations, settings=settings)
"""

from sync.ingest import IngestReport, IngestSettings, Problem, ingest

__all__ = ["IngestReport", "IngestSettings", "Problem", "ingest"]
