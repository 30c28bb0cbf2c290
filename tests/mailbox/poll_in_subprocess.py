"""`python poll_in_subprocess.py CONFIG MAILBOX`: one poll, for the crash test to kill mid-way.

The crash test sets QUAYSYNC_MAIL_CRASH_AFTER_COMMIT so that the process ends with os._exit right
after a mail's commit and before its move — as a kill at that moment would.
"""

from __future__ import annotations

import json
import sys

from mailbox import poll_mailbox
from quaysync.config import load_config
from store import open_store


def main(config_path: str, mailbox_name: str) -> int:
    config = load_config(config_path)
    mailbox = next(item for item in config.sources.mailboxes if item.name == mailbox_name)
    store = open_store(config.store_url)
    try:
        result = poll_mailbox(config, mailbox, store, trigger="manual")
    finally:
        store.dispose()
    print(json.dumps(result.counts()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
