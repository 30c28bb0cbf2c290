"""IMAP readers: connections, watermarks, routing mail to parsers, commit-then-move, quarantine.

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
