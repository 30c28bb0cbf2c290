"""Imports: order ↔ B/L ↔ container links and watchlists from ERP / WMS exports and analysts' sheets.

    import_file(config, store, path, source=None)        one file, by hand (`run.py import FILE`)
    run_import_source(config, source, store, trigger=)   a configured source's new/changed files
    read_import(filename, content, ...)                  pure: bytes → observations + bad rows

See reading.py for what a sheet may look like and importer.py for how it reaches the store.
"""

from sync.imports.importer import (
    FILE_SOURCE,
    ImportResult,
    import_file,
    known_digest,
    run_import_source,
    source_files,
    source_name,
)
from sync.imports.reading import (
    IMPORT_ALIASES,
    LINK_FIELDS,
    WATCHLIST_FIELDS,
    ImportReading,
    RowIssue,
    read_import,
    split_container_cell,
)

__all__ = [
    "FILE_SOURCE",
    "IMPORT_ALIASES",
    "LINK_FIELDS",
    "WATCHLIST_FIELDS",
    "ImportReading",
    "ImportResult",
    "RowIssue",
    "import_file",
    "known_digest",
    "read_import",
    "run_import_source",
    "source_files",
    "source_name",
    "split_container_cell",
]
