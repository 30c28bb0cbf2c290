"""What `run.py run` prints for a person when it has started (logs go to stderr as JSON lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from quaysync.secrets import REDACTOR

if TYPE_CHECKING:
    from worker.service import Worker

KEY_NAME = "sandbox-default"


def ensure_api_key(worker: Worker) -> tuple[str | None, str]:
    """(a new token to show once, or None; a line about API keys).

    Only the embedded default creates a key by itself (a newcomer should see data at once); a real
    deployment is told how to create one.
    """
    config = worker.config
    if not config.api.require_api_key:
        return None, "API keys are off (api.require_api_key: false)"
    from api.auth import create_key
    from store.tables_api import ApiKeyRow

    with worker.store.session() as session:
        active = session.execute(select(ApiKeyRow.name).where(ApiKeyRow.revoked_at.is_(None))).scalars().all()
        if active:
            return (
                None,
                f"API keys: {len(active)} active (`run.py api-key list`; new: `run.py api-key create NAME`)",
            )
        if not config.sandbox.enabled:
            return None, "no API key yet: create one with `run.py api-key create NAME`"
        token = create_key(session, KEY_NAME)
    return (
        token,
        f"API key {KEY_NAME!r} created for you; shown this once (more: `run.py api-key create NAME`)",
    )


def banner(worker: Worker) -> str:
    config = worker.config
    token, key_line = ensure_api_key(worker)
    lines = ["", "quaysync is running.  Ctrl-C (or SIGTERM) stops it.", ""]
    url = worker.api_url
    if url is not None:
        lines.append(f"  API            {url}    (docs {url}docs)")
        board = f"{url}board" + (f"?key={token}" if token else "")
        lines.append(f"  status board   {board}")
    else:
        lines.append("  API            off (api.enabled: false or --no-api)")
    if token:
        lines.append(f"  API key        {token}")
        lines.append(f"                 curl -H 'Authorization: Bearer {token}' {url}containers")
    lines.append(f"                 {key_line}")
    sandbox = worker.sandbox
    if sandbox is not None:
        if sandbox.portal is not None:
            secrets = config.path(config.secrets_file) if config.secrets_file else "the config"
            lines.append(f"  sandbox portal {sandbox.portal.url}   (user ops; passwords in {secrets})")
        if sandbox.mail_server is not None:
            lines.append(f"  sandbox IMAP   {sandbox.mail_server.host}:{sandbox.mail_server.port}")
        if sandbox.smtp_sinks:
            lines.append(f"  sent mail      {sandbox.outbox_folder}/NNNN.eml")
    lines.append(f"  store          {worker.store.url}")
    lines.append(f"  evidence       {config.data_path / 'evidence'}/run-<id>/")
    lines.append("  logs           stderr, JSON lines (logging.json: false for plain text)")
    lines.append("")
    lines.append(
        "  see it work    run.py runs · run.py sources · run.py status CONTAINER · /health · /metrics"
    )
    lines.append("")
    # The token is shown on purpose (once); anything else secret is masked.
    text = "\n".join(lines)
    if token:
        return "\n".join(REDACTOR.mask(line) if token not in line else line for line in text.splitlines())
    return REDACTOR.mask(text)
