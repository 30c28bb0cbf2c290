"""IMAP readers: connections, watermarks, routing mail to parsers, commit-then-move, quarantine.

    poll_mailbox(config, mailbox, store, *, trigger, progress=None) -> PollResult   one pass now
    watch_mailbox(config, mailbox, store, stop_event, *, on_pass=None, state=None)  until stopped
    reprocess_quarantine(config, mailbox, store, *, reason=None) -> ReprocessResult
    quarantined_rows(store, mailbox_name, *, reason=None) -> [MailMessageRow]
    check_routes(config)   route templates exist (ConfigError naming the key)

imap.py (one connection), reading.py (raw mail → outcome, pure), records.py (rows, watermarks),
poller.py (search, fetch, commit, move), moves.py (moves left due), watcher.py (IDLE / schedule),
reprocess.py, cli.py (`run.py mail ...`).

This package's name is the design's, and it is also the name of a standard-library module that
libraries we run in-process use (aiosmtpd.handlers, pymap's maildir backend). Because the checkout
comes first on sys.path, this package would hide the standard module from them; so it also carries
the standard module's public names, and `import mailbox` keeps working for them.
"""

import importlib.util as _importlib_util
import sysconfig as _sysconfig
from pathlib import Path as _Path

_spec = _importlib_util.spec_from_file_location(
    "_stdlib_mailbox", _Path(_sysconfig.get_paths()["stdlib"]) / "mailbox.py"
)
assert _spec is not None and _spec.loader is not None
_stdlib_mailbox = _importlib_util.module_from_spec(_spec)
_spec.loader.exec_module(_stdlib_mailbox)
globals().update({name: getattr(_stdlib_mailbox, name) for name in _stdlib_mailbox.__all__})

# quaysync's own API, imported on first use: libraries that only want the standard module above
# must not pull in the store, sync and the parsers.
_API = {
    "ImapOptions": "mailbox.imap",
    "MailPoller": "mailbox.poller",
    "poll_mailbox": "mailbox.poller",
    "PollProgress": "mailbox.result",
    "PollResult": "mailbox.result",
    "ReprocessResult": "mailbox.reprocess",
    "quarantined_rows": "mailbox.reprocess",
    "reprocess_quarantine": "mailbox.reprocess",
    "check_routes": "mailbox.reading",
    "watch_mailbox": "mailbox.watcher",
    "WatchState": "mailbox.watcher",
}


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'mailbox' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
