"""One IMAP connection (imapclient), with transport trouble in the error taxonomy.

`connect(mailbox, options)` logs in (TLS, STARTTLS or plain on loopback; password or XOAUTH2) and
returns an `ImapSession` whose calls raise:

- `ConnectionLost` (a PortalError): the socket died, timed out, or the server aborted. The caller
  reconnects with backoff and starts the folder over with a SEARCH (everything is replay-safe).
- `ImapRefused` (a PortalError that is not retried): the server answered NO or BAD to a command.
- `LoginRejected` (a BlockedError): wrong credentials; retrying would only lock the account.

Mail is only ever read with BODY.PEEK: a person reading the same inbox keeps their unread marks.
"""

from __future__ import annotations

import base64
import logging
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientAbortError, IMAPClientError, LoginError

from quaysync.config import MailboxSource
from quaysync.errors import LoginRejected, PortalError
from quaysync.secrets import REDACTOR

log = logging.getLogger(__name__)

_WAKE_RESPONSES = (b"EXISTS", b"RECENT")


class ConnectionLost(PortalError):
    """The connection to the IMAP server failed or dropped: reconnect and search again."""


class ImapRefused(PortalError):
    """The server answered NO or BAD. Reconnecting would not change its answer."""

    retryable = False


@dataclass(frozen=True)
class ImapOptions:
    """How patiently to talk to an IMAP server (the defaults suit real ones; tests shorten them)."""

    timeout: float = 30.0  # connect and every read, seconds
    reconnects: int = 4  # attempts after a failed or dropped connection, with backoff
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    fetch_batch: int = 25  # messages per FETCH
    fetch_batch_bytes: int = 16_000_000  # and at most this many bytes of them
    idle_renew: float = 25 * 60.0  # servers may end an IDLE after 30 minutes (RFC 2177)
    idle_tick: float = 0.25  # how often an IDLE wait looks at the stop event, seconds


@dataclass(frozen=True)
class FolderStatus:
    name: str
    uid_validity: int
    exists: int
    uid_next: int | None


@dataclass(frozen=True)
class MessageFacts:
    """What the server says of a message before we read it."""

    uid: int
    size: int
    received_at: datetime | None  # INTERNALDATE
    flags: frozenset[bytes]


def _mask(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return REDACTOR.mask(text.splitlines()[0] if text else text)


def register_xoauth2_secret(username: str, token: str) -> None:
    """The SASL string carries the token base64-encoded; mask that form in logs too."""
    auth = f"user={username}\1auth=Bearer {token}\1\1"
    REDACTOR.register(base64.b64encode(auth.encode()).decode())


def connect(mailbox: MailboxSource, options: ImapOptions) -> ImapSession:
    """Open, secure and authenticate one connection to `mailbox`'s server."""
    where = f"{mailbox.host}:{mailbox.port}"
    context = ssl.create_default_context()
    try:
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port,
            use_uid=True,
            ssl=mailbox.security == "tls",
            ssl_context=context if mailbox.security == "tls" else None,
            timeout=options.timeout,
        )
    except ssl.SSLCertVerificationError as error:
        raise ImapRefused(
            f"mailbox {mailbox.name}: {where}: TLS certificate not trusted: {_mask(error)}"
        ) from None
    except (OSError, IMAPClientError) as error:
        raise ConnectionLost(f"mailbox {mailbox.name}: cannot connect to {where}: {_mask(error)}") from None
    if mailbox.security == "starttls":
        try:
            client.starttls(context)
        except CapabilityError:
            # Never fall back to sending the credentials in clear.
            _close_quietly(client)
            raise ImapRefused(
                f"mailbox {mailbox.name}: {where} does not offer STARTTLS; not logging in without TLS"
            ) from None
        except ssl.SSLCertVerificationError as error:
            _close_quietly(client)
            raise ImapRefused(
                f"mailbox {mailbox.name}: {where}: TLS certificate not trusted: {_mask(error)}"
            ) from None
        except (OSError, IMAPClientError) as error:
            _close_quietly(client)
            raise ConnectionLost(
                f"mailbox {mailbox.name}: STARTTLS at {where} failed: {_mask(error)}"
            ) from None
    try:
        if mailbox.oauth2_token is not None:
            token = mailbox.oauth2_token.get_secret_value()
            register_xoauth2_secret(mailbox.username, token)
            client.oauth2_login(mailbox.username, token)
        else:
            assert mailbox.password is not None  # the config allows exactly one credential
            client.login(mailbox.username, mailbox.password.get_secret_value())
    except LoginError as error:
        _close_quietly(client)
        raise LoginRejected(
            f"mailbox {mailbox.name}: {where} refused the login of {mailbox.username!r}: {_mask(error)}"
        ) from None
    except (OSError, IMAPClientError) as error:
        _close_quietly(client)
        raise ConnectionLost(f"mailbox {mailbox.name}: cannot log in at {where}: {_mask(error)}") from None
    client.normalise_times = False  # aware INTERNALDATEs, not naive local time
    return ImapSession(mailbox.name, client, options)


def _close_quietly(client: IMAPClient) -> None:
    with suppress(Exception):
        client.shutdown()


class ImapSession:
    """A logged-in connection. Not thread-safe: one user at a time (poller or watcher)."""

    def __init__(self, account: str, client: IMAPClient, options: ImapOptions) -> None:
        self.account = account
        self.client = client
        self.options = options
        self.selected: str | None = None
        self.capabilities = frozenset(client.capabilities())
        self.closed = False

    @property
    def has_move(self) -> bool:
        return b"MOVE" in self.capabilities

    @property
    def has_idle(self) -> bool:
        return b"IDLE" in self.capabilities

    @property
    def has_uidplus(self) -> bool:
        return b"UIDPLUS" in self.capabilities

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        try:
            yield
        except IMAPClientAbortError as error:
            self.closed = True
            raise ConnectionLost(
                f"mailbox {self.account}: {doing}: connection aborted: {_mask(error)}"
            ) from None
        except (OSError, EOFError) as error:  # socket errors and timeouts, ssl errors
            self.closed = True
            raise ConnectionLost(f"mailbox {self.account}: {doing}: {_mask(error) or 'timed out'}") from None
        except IMAPClientError as error:
            raise ImapRefused(
                f"mailbox {self.account}: {doing}: the server refused: {_mask(error)}"
            ) from None

    # -- folders ---------------------------------------------------------------------------

    def ensure_folder(self, name: str) -> None:
        with self._talking(f"look for folder {name!r}"):
            if self.client.folder_exists(name):
                return
        with self._talking(f"create folder {name!r}"):
            self.client.create_folder(name)
        log.info("mailbox %s: created folder %s", self.account, name)

    def select(self, name: str) -> FolderStatus:
        with self._talking(f"select {name!r}"):
            answer = self.client.select_folder(name)
        self.selected = name
        uid_next = answer.get(b"UIDNEXT")
        return FolderStatus(
            name=name,
            uid_validity=int(answer[b"UIDVALIDITY"]),
            exists=int(answer.get(b"EXISTS", 0)),
            uid_next=int(uid_next) if uid_next is not None else None,
        )

    # -- reading ---------------------------------------------------------------------------

    def search_after(self, last_uid: int | None) -> list[int]:
        """UIDs of undeleted messages after `last_uid` (all of them for None), ascending.

        Messages flagged \\Deleted are on their way out (a person's, or our own COPY fallback
        waiting for its EXPUNGE): they are not read.
        """
        criteria: list[Any] = ["UNDELETED"]
        if last_uid is not None:
            criteria += ["UID", f"{last_uid + 1}:*"]
        with self._talking(f"search {self.selected!r}"):
            found = self.client.search(criteria)
        # "n:*" always names the highest UID even when it is below n (RFC 3501 6.4.8).
        return sorted(uid for uid in found if last_uid is None or uid > last_uid)

    def search_message_id(self, message_id: str) -> list[int]:
        with self._talking(f"search {self.selected!r} by Message-ID"):
            return sorted(self.client.search(["UNDELETED", "HEADER", "Message-ID", message_id]))

    def facts(self, uids: Sequence[int]) -> dict[int, MessageFacts]:
        found: dict[int, MessageFacts] = {}
        for chunk in _chunks(list(uids), 500):
            with self._talking(f"fetch sizes in {self.selected!r}"):
                answer = self.client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE", "FLAGS"])
            for uid, item in answer.items():
                received = item.get(b"INTERNALDATE")
                if isinstance(received, datetime):
                    received = received.astimezone(UTC) if received.tzinfo else received.replace(tzinfo=UTC)
                found[uid] = MessageFacts(
                    uid=uid,
                    size=int(item.get(b"RFC822.SIZE", 0)),
                    received_at=received if isinstance(received, datetime) else None,
                    flags=frozenset(item.get(b"FLAGS", ())),
                )
        return found

    def read(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Whole messages, without setting \\Seen."""
        return self._fetch(uids, "BODY.PEEK[]", b"BODY[]")

    def read_headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Only the header sections (for mail over the size limit), without setting \\Seen."""
        return self._fetch(uids, "BODY.PEEK[HEADER]", b"BODY[HEADER]")

    def _fetch(self, uids: Sequence[int], item: str, key: bytes) -> dict[int, bytes]:
        if not uids:
            return {}
        with self._talking(f"fetch {len(uids)} message(s) from {self.selected!r}"):
            answer = self.client.fetch(list(uids), [item])
        return {uid: bytes(parts.get(key) or b"") for uid, parts in answer.items() if key in parts}

    # -- moving ----------------------------------------------------------------------------

    def move(self, uids: Sequence[int], target: str) -> None:
        """Move from the selected folder: MOVE, else COPY + \\Deleted + UID EXPUNGE.

        UIDs that are gone already are no error (a move replayed after a crash).
        """
        if not uids:
            return
        uids = sorted(set(uids))
        doing = f"move {len(uids)} message(s) from {self.selected!r} to {target!r}"
        with self._talking(doing):
            flags = self.client.get_flags(uids)  # what is still there
            present = [uid for uid in uids if uid in flags]
            if not present:
                return
            if self.has_move:
                self.client.move(present, target)
                return
            # Messages already flagged \Deleted were copied by a move that crashed before its
            # EXPUNGE: copy only the others, so the target does not get them twice.
            to_copy = [uid for uid in present if b"\\Deleted" not in flags[uid]]
            if to_copy:
                self.client.copy(to_copy, target)
                self.client.delete_messages(to_copy)
            if self.has_uidplus:
                self.client.uid_expunge(present)
            else:
                # A plain EXPUNGE would also remove what a person flagged \Deleted: leave ours
                # flagged (searches skip them) for the person's own client to expunge.
                log.warning(
                    "mailbox %s: the server has neither MOVE nor UIDPLUS; %d message(s) left "
                    "flagged \\Deleted in %s",
                    self.account,
                    len(present),
                    self.selected,
                )

    # -- waiting ---------------------------------------------------------------------------

    def idle_wait(
        self, stop: threading.Event, timeout: float, idling: threading.Event | None = None
    ) -> str | None:
        """IDLE in the selected folder until new mail is announced, `timeout` passes, or `stop`.

        Returns "idle" (the server announced mail), "schedule" (timed out) or None (stopped).
        The announcement is only a hint: the caller always SEARCHes afterwards.
        """
        deadline = time.monotonic() + timeout
        while True:
            renew_at = min(deadline, time.monotonic() + self.options.idle_renew)
            with self._talking("start IDLE"):
                self.client.idle()
            if idling is not None:
                idling.set()
            woke: str | None = None
            silent_returns = 0
            try:
                while True:
                    if stop.is_set():
                        break
                    remaining = renew_at - time.monotonic()
                    if remaining <= 0:
                        break
                    wait = min(self.options.idle_tick, remaining)
                    started = time.monotonic()
                    with self._talking("wait in IDLE"):
                        # A split response line makes imaplib abort ("unterminated line"):
                        # _talking turns that into ConnectionLost, and the caller reconnects.
                        responses = self.client.idle_check(timeout=wait)
                    if any(_announces_mail(response) for response in responses):
                        woke = "idle"
                        break
                    # imapclient swallows an end of stream here and returns nothing at once:
                    # a socket that is "readable" again and again without a line is closed.
                    early = not responses and time.monotonic() - started < wait / 2
                    silent_returns = silent_returns + 1 if early else 0
                    if silent_returns >= 3:
                        self.closed = True
                        raise ConnectionLost(
                            f"mailbox {self.account}: the server closed the connection in IDLE"
                        )
            finally:
                if idling is not None:
                    idling.clear()
                if not self.closed:
                    with self._talking("end IDLE"):
                        self.client.idle_done()
            if woke or stop.is_set():
                return woke
            if time.monotonic() >= deadline:
                return "schedule"

    def noop(self) -> None:
        with self._talking("NOOP"):
            self.client.noop()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.client.logout()
        except Exception:
            _close_quietly(self.client)


def _announces_mail(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in _WAKE_RESPONSES


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batches(facts: Sequence[MessageFacts], count: int, total_bytes: int) -> Iterator[list[MessageFacts]]:
    """Consecutive groups of at most `count` messages and (unless one alone is bigger) `total_bytes`."""
    batch: list[MessageFacts] = []
    size = 0
    for fact in facts:
        if batch and (len(batch) >= count or size + fact.size > total_bytes):
            yield batch
            batch, size = [], 0
        batch.append(fact)
        size += fact.size
    if batch:
        yield batch
