"""A real IMAP server on loopback for the sandbox mailbox and the tests (pymap, in-memory backend).

pymap runs on asyncio; we give it an event loop of its own in a daemon thread so the caller stays
synchronous. Mail is delivered straight into the backend (the way an MTA would drop it), which
wakes IDLE-ing clients exactly as a real delivery does.

What pymap's dict backend speaks (checked against pymap 0.36.7): IMAP4rev1, LITERAL+, ID, BINARY,
UIDPLUS (UID EXPUNGE, APPENDUID/COPYUID), MOVE, CHILDREN, APPENDLIMIT, IDLE, OBJECTID, MULTIAPPEND;
CREATE/DELETE/RENAME of folders (not of INBOX). Authentication is PLAIN/LOGIN without TLS on
loopback. Options can withdraw IDLE or MOVE so clients' fallbacks can be tested against a server
that lacks them.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from argparse import Namespace
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import Config as DictConfig
from pymap.backend.dict import Identity, Login
from pymap.backend.dict.mailbox import MailboxData, MailboxSet
from pymap.concurrent import Subsystem
from pymap.config import BackendCapability
from pymap.exceptions import InvalidAuth
from pymap.imap import IMAPServer
from pymap.parsing.commands import Commands
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials.flag import Flag
from pymap.user import Passwords, UserMetadata
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials, ExternalVerificationRequired
from pysasl.creds.server import ServerCredentials
from pysasl.hashing import BuiltinHash
from pysasl.mechanism.login import LoginMechanism
from pysasl.mechanism.oauth import OAuth2Mechanism
from pysasl.mechanism.plain import PlainMechanism

_T = TypeVar("_T")
_START_TIMEOUT = 10.0
_CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class MailServerOptions:
    """How to run the sandbox IMAP server. `port=0` picks a free port."""

    password: str
    username: str = "ops"
    host: str = "127.0.0.1"
    port: int = 0
    folders: tuple[str, ...] = ("Processed", "Quarantine")  # created at start, besides INBOX
    idle: bool = True  # False: no IDLE capability, the command is refused
    move: bool = True  # False: no MOVE capability, MOVE / UID MOVE are refused
    oauth2_token: str | None = None  # also accept AUTHENTICATE XOAUTH2 with this bearer token


class _SandboxConfig(DictConfig):
    """pymap's dict-backend config with capabilities that can be withdrawn for tests."""

    def __init__(self, args: Namespace, *, idle: bool, move: bool, xoauth2: bool, **extra: Any) -> None:
        super().__init__(args, **extra)
        self._idle = idle
        self._move = move
        self._xoauth2 = xoauth2

    @property
    def tls_auth(self) -> SASLAuth:
        # What loopback clients may use (pymap offers its TLS mechanisms to localhost).
        mechanisms = [PlainMechanism(), LoginMechanism()]
        if self._xoauth2:
            mechanisms.append(OAuth2Mechanism())
        return SASLAuth(mechanisms)

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=self._idle, object_id=True, multi_append=True)

    @property
    def login_capability(self) -> list[bytes]:
        capability = list(super().login_capability)
        return capability if self._move else [name for name in capability if name != b"MOVE"]

    @property
    def greeting(self) -> bytes:
        # pymap's own greeting asks DNS for this host's name (socket.getfqdn), which can stall.
        return b"Server ready: sandbox carrier mailbox"

    @property
    def commands(self) -> Commands:
        commands = Commands()
        if not self._idle:
            commands.deregister(b"IDLE")
        if not self._move:
            commands.deregister(b"MOVE")
            commands.deregister(b"UID MOVE")
        return commands


class _CoalescingWriter:
    """A StreamWriter that sends each response whole, at `drain()`.

    pymap writes a response in pieces; asyncio sends each piece at once, so a line and its CRLF
    can arrive in separate TCP segments. imapclient's `idle_check` then reads a half line and
    aborts (mjs/imapclient#519). Real servers usually send whole lines; so does the sandbox.
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += data

    def writelines(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self._pending += line

    def _flush(self) -> None:
        if self._pending:
            self._writer.write(bytes(self._pending))
            self._pending.clear()

    async def drain(self) -> None:
        self._flush()
        await self._writer.drain()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


class _WholeResponseServer(IMAPServer):
    async def __call__(self, reader: asyncio.StreamReader, writer: Any, sock_info: Any) -> None:
        await super().__call__(reader, _CoalescingWriter(writer), sock_info)  # type: ignore[arg-type]


class RunningMailServer:
    """A started server. Use as a context manager, or call `stop()`."""

    def __init__(self, options: MailServerOptions) -> None:
        self.options = options
        self.host = options.host
        self.port = options.port
        self.username = options.username
        self.password = options.password
        self._loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-imap-cpu")
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._server: asyncio.Server | None = None
        self._mailboxes: MailboxSet | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-imap", daemon=True)
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    def _start(self) -> None:
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"the sandbox IMAP server did not start within {_START_TIMEOUT:.0f}s")
        if self._startup_error is not None:
            self._thread.join(_START_TIMEOUT)
            raise RuntimeError(f"the sandbox IMAP server failed to start: {self._startup_error}")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._boot())
        except BaseException as error:  # reported to the starting thread
            self._startup_error = error
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _boot(self) -> None:
        options = self.options
        args = Namespace(
            host=None,
            port=str(options.port),
            debug=False,
            cert=None,
            key=None,
            tls=False,
            passlib_cfg=None,
            proxy_protocol=None,
            inherited_sockets=None,
            demo_data=False,
            demo_user=options.username,
            demo_password=options.password,
        )
        config = _SandboxConfig.from_args(
            args,
            idle=options.idle,
            move=options.move,
            xoauth2=options.oauth2_token is not None,
            invalid_user_sleep=0.0,
            # pysasl's default 500,000 PBKDF2 rounds cost 0.3 s per login; the password only
            # lives in this process's memory, so fewer rounds protect as much.
            hash_context=BuiltinHash(rounds=10_000),
            cpu_subsystem=Subsystem.for_threading(self._executor),
        )
        login = await _dict_login(config, options.oauth2_token)
        config.apply_context()
        async with login.demo_user_identity.new_session() as session:
            self._mailboxes = session.mailbox_set
        for folder in options.folders:
            await self._mailboxes.add_mailbox(folder)
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(
            _WholeResponseServer(login, config)
        )
        self._server = await asyncio.start_server(callback, options.host, options.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks(self._loop) if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        await self._loop.shutdown_asyncgens()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_START_TIMEOUT)
        self._executor.shutdown(wait=True)

    def __enter__(self) -> RunningMailServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests and the seeder do ------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._stopped:
            coroutine.close()
            raise RuntimeError("the sandbox IMAP server is stopped")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_CALL_TIMEOUT)

    async def _folder(self, folder: str) -> MailboxData:
        assert self._mailboxes is not None
        try:
            return await self._mailboxes.get_mailbox(folder)
        except KeyError:
            raise KeyError(f"no folder {folder!r} on the sandbox IMAP server") from None

    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        *,
        flags: Iterable[str] = (),
        received_at: datetime | None = None,
    ) -> int:
        """Append one message (as an MTA delivery would); returns its UID in `folder`."""

        async def append() -> int:
            mailbox = await self._folder(folder)
            message = AppendMessage(
                raw, received_at or datetime.now(UTC), frozenset(Flag(flag.encode()) for flag in flags)
            )
            return (await mailbox.append(message, recent=True)).uid

        return self._call(append())

    def create_folder(self, folder: str) -> None:
        assert self._mailboxes is not None
        self._call(self._mailboxes.add_mailbox(folder))

    def uid_validity(self, folder: str = "INBOX") -> int:
        async def read() -> int:
            return (await self._folder(folder)).uid_validity

        return self._call(read())

    def messages(self, folder: str = "INBOX") -> dict[int, tuple[bytes, frozenset[str]]]:
        """UID → (raw bytes, flags) of every message in `folder`, for tests to inspect."""

        async def read() -> dict[int, tuple[bytes, frozenset[str]]]:
            found: dict[int, tuple[bytes, frozenset[str]]] = {}
            async for message in (await self._folder(folder)).messages():
                content = message._content  # the dict backend keeps the parsed literal here
                raw = bytes(content) if content is not None else b""
                flags = frozenset(flag.value.decode() for flag in message.permanent_flags)
                found[message.uid] = (raw, flags)
            return found

        return self._call(read())

    def reset_uid_validity(self, folder: str = "INBOX", *, keep_messages: bool = True) -> int:
        """Recreate `folder` with a new UIDVALIDITY (as a server restore or migration does).

        With `keep_messages` the same messages come back under new UIDs, which is what makes a
        client's watermark meaningless. Returns the new UIDVALIDITY.
        """

        async def reset() -> int:
            assert self._mailboxes is not None
            old = await self._folder(folder)
            kept = [message async for message in old.messages()] if keep_messages else []
            while True:
                fresh = MailboxData(old._content_cache, old._thread_cache)
                if fresh.uid_validity != old.uid_validity:
                    break
            for message in kept:
                content = message._content
                literal = bytes(content) if content is not None else b""
                await fresh.append(
                    AppendMessage(literal, message.internal_date, frozenset(message.permanent_flags))
                )
            if folder.upper() == "INBOX":
                self._mailboxes._inbox = fresh
            else:
                self._mailboxes._set[folder] = fresh
            # Sessions that had the old folder selected are told it changed under them.
            old._updated.set()
            return fresh.uid_validity

        return self._call(reset())


class _SandboxLogin(Login):
    """The dict backend's login, also accepting one XOAUTH2 bearer token for its one user."""

    def __init__(self, config: DictConfig, oauth2_token: str | None) -> None:
        super().__init__(config)
        self._oauth2_token = oauth2_token

    async def authenticate(self, credentials: ServerCredentials) -> Identity:
        if isinstance(credentials, ExternalCredentials):
            token = ""
            try:
                credentials.verify(None)  # always raises, carrying the bearer token
            except ExternalVerificationRequired as required:
                token = required.token or ""
            expected = self._oauth2_token
            if expected is None or credentials.authzid != self.config.demo_user:
                raise InvalidAuth()
            if not hmac.compare_digest(token.encode(), expected.encode()):
                raise InvalidAuth()
            return Identity(credentials.authzid, self, None, frozenset())
        return await super().authenticate(credentials)


async def _dict_login(config: DictConfig, oauth2_token: str | None) -> Login:
    """The dict backend's login with its one user, built as `DictBackend.init` does."""
    login = _SandboxLogin(config, oauth2_token)
    hashed = await Passwords(config).hash_password(config.demo_password)
    await login.demo_user_identity.set(UserMetadata(config, config.demo_user, password=hashed))
    return login


def start_mail_server(options: MailServerOptions) -> RunningMailServer:
    """Start the IMAP server on `options.host`; returns once it accepts connections."""
    server = RunningMailServer(options)
    server._start()
    return server
