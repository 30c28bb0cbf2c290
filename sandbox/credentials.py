"""Generated credentials for the embedded default, kept in the secrets file (mode 0600).

`python -m sandbox.credentials var/secrets.yaml` adds any missing sandbox key with a random
value and never changes existing ones; config.yaml refers to them as secret:NAME.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import yaml

SANDBOX_KEYS = ("sandbox_portal_password", "sandbox_mail_password")


def ensure_credentials(path: Path) -> list[str]:
    """Add missing sandbox secrets to `path`; the names added."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    values = dict(existing or {})
    added = [key for key in SANDBOX_KEYS if not values.get(key)]
    for key in added:
        values[key] = secrets.token_urlsafe(18)
    if added or not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            yaml.safe_dump(values, handle, sort_keys=True)
    os.chmod(path, 0o600)
    return added


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/secrets.yaml")
    created = ensure_credentials(target)
    print(f"{target}: {'added ' + ', '.join(created) if created else 'sandbox credentials present'}")
