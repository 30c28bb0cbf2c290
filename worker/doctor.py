"""`run.py doctor`: can this installation do its job? One check per line, each with a clear verdict.

    config           config.yaml valid (rules and mail routes too)
    secrets file     readable by its owner only
    store            reachable, and at the migrations' heads
    browser          Chromium launches and opens a page
    portal NAME      its login page answers ("cannot connect" vs. an HTTP error), then each account
                     logs in ("login rejected" vs. CAPTCHA / locked / maintenance); an account a
                     person must unblock is not tried (a wrong password retried locks it)
    mailbox NAME     the IMAP server answers and the login works (same distinction)
    smtp CHANNEL     the mail server of each smtp channel answers

Verdicts: ok, warn (works, but look), fail (this will not work), skip (not checked, says why).
With the embedded default and no worker running, the sandbox portal is served for the check.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from quaysync.aio import run_sync
from quaysync.config import Config, MailboxSource, PortalSource
from quaysync.errors import (
    AccountLocked,
    BlockedError,
    CaptchaRequired,
    ConfigError,
    LoginRejected,
    MaintenanceWindow,
    PortalError,
    QuaysyncError,
)
from quaysync.secrets import REDACTOR

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass
class Check:
    name: str
    verdict: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "detail": REDACTOR.mask(self.detail)}


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return REDACTOR.mask(text)


# -- config, secrets, store ----------------------------------------------------------------------


def check_config(config: Config) -> Check:
    from mailbox import check_routes
    from sync.rules.checks import config_problems

    problems = list(config_problems(config))
    try:
        check_routes(config)
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        return Check("config", FAIL, "; ".join(str(problem) for problem in problems))
    counts = (
        f"{len(config.sources.portals)} portal(s), {len(config.sources.mailboxes)} mailbox(es), "
        f"{len(config.sources.imports)} import(s), {len(config.exports)} export(s), "
        f"{len(config.rules)} rule(s)"
    )
    return Check("config", OK, f"valid: {counts}")


def check_secrets(config: Config) -> Check | None:
    if config.secrets_file is None:
        return None
    path = config.path(config.secrets_file)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as error:
        return Check("secrets file", FAIL, f"{path}: {error.strerror}")
    if mode & 0o077:
        return Check("secrets file", WARN, f"{path} is mode {mode:o}: others can read it; chmod 600 {path}")
    return Check("secrets file", OK, f"{path} (mode {mode:o})")


def _sqlite_path(url: str) -> Path | None:
    prefix = url.split(":///", 1)
    if url.startswith("sqlite") and len(prefix) == 2 and prefix[1] and prefix[1] != ":memory:":
        return Path(prefix[1])
    return None


def check_store(config: Config) -> Check:
    from store import open_store

    url = config.store_url
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return Check("store", WARN, f"no store yet at {path}: the first `run.py run` creates it")
    try:
        store = open_store(url, migrate=False)
    except Exception as error:
        return Check("store", FAIL, f"cannot open: {_short(error)}")
    try:
        current = store.current_revisions()
        expected = store.expected_revisions()
    except Exception as error:
        return Check("store", FAIL, f"cannot connect to {store.url}: {_short(error)}")
    finally:
        store.dispose()
    heads = ", ".join(sorted(expected))
    if current == expected:
        return Check("store", OK, f"{store.url}: migrated (heads {heads})")
    if not current:
        return Check("store", WARN, f"{store.url}: empty; `run.py run` migrates it (to {heads})")
    return Check(
        "store",
        WARN,
        f"{store.url}: at {', '.join(sorted(current))}, this code expects {heads}; `run.py run` migrates it",
    )


# -- portals and the browser ---------------------------------------------------------------------


def check_login_page(portal: PortalSource) -> Check:
    import httpx

    name = f"portal {portal.name}: login page"
    started = time.monotonic()
    try:
        response = httpx.get(portal.base_url, timeout=portal.timeout.total_seconds(), follow_redirects=True)
    except httpx.ConnectError as error:
        return Check(name, FAIL, f"cannot connect to {portal.base_url}: {_short(error)}")
    except httpx.TimeoutException:
        return Check(name, FAIL, f"cannot connect to {portal.base_url}: no answer within {portal.timeout}")
    except httpx.HTTPError as error:
        return Check(name, FAIL, f"cannot connect to {portal.base_url}: {_short(error)}")
    seconds = time.monotonic() - started
    if response.status_code >= 500:
        return Check(name, FAIL, f"{portal.base_url} answers HTTP {response.status_code} (portal error)")
    if response.status_code >= 400:
        return Check(name, WARN, f"{portal.base_url} answers HTTP {response.status_code}")
    return Check(name, OK, f"{portal.base_url} answers HTTP {response.status_code} in {seconds:.2f} s")


def _login_verdict(error: BaseException) -> tuple[str, str]:
    if isinstance(error, LoginRejected):
        return FAIL, f"login rejected: {error.message}"
    if isinstance(error, CaptchaRequired):
        return FAIL, f"CAPTCHA required: {error.message}"
    if isinstance(error, AccountLocked):
        return FAIL, f"account locked: {error.message}"
    if isinstance(error, MaintenanceWindow):
        return WARN, f"portal in maintenance: {error.message}"
    if isinstance(error, BlockedError):
        return FAIL, f"blocked: {error.message}"
    if isinstance(error, PortalError):
        return FAIL, f"cannot sign in (portal error): {error.message}"
    if isinstance(error, QuaysyncError):
        return FAIL, f"{error.kind}: {error.message}"
    return FAIL, f"unexpected {type(error).__name__}: {_short(error)}"


async def _browser_checks(config: Config, logins: list[tuple[PortalSource, Any]]) -> list[Check]:
    """The browser check, then a login per (portal, account) on a fresh context (no saved session)."""
    from bots.browser import BrowserPool
    from bots.families import bot_class
    from bots.tab import Tab

    checks = []
    try:
        pool = BrowserPool(config.browser)
        browser = await pool.browser()
        context = await pool.new_context()
        page = await context.new_page()
        await page.goto("about:blank")
        await context.close()
        checks.append(Check("browser", OK, f"Chromium {browser.version} launches"))
    except Exception as error:
        with contextlib.suppress(Exception):
            await pool.close()
        checks.append(Check("browser", FAIL, f"cannot launch Chromium: {_short(error)} (run scripts/setup)"))
        for portal, account in logins:
            checks.append(Check(f"portal {portal.name}: login as {account.username}", SKIP, "no browser"))
        return checks
    try:
        for portal, account in logins:
            name = f"portal {portal.name}: login as {account.username}"
            context = await pool.new_context()
            try:
                bot = bot_class(portal.family)(portal)
                page = await context.new_page()
                tab = Tab(page, timeout_seconds=portal.timeout.total_seconds(), label="doctor")
                REDACTOR.register(account.password.get_secret_value())
                await bot.login(tab, account.username, account.password.get_secret_value())
                checks.append(Check(name, OK, "login works"))
            except Exception as error:
                verdict, detail = _login_verdict(error)
                checks.append(Check(name, verdict, detail))
            finally:
                with contextlib.suppress(Exception):
                    await context.close()
    finally:
        await pool.close()
    return checks


def check_portals(config: Config, store: Any | None) -> list[Check]:
    from bots.blocked import blocked_accounts
    from bots.sandbox_host import embedded_sandbox, is_embedded

    portals = [portal for portal in config.sources.portals if portal.enabled]
    checks: list[Check] = []
    logins: list[tuple[PortalSource, Any]] = []
    order: list[tuple[str, Any]] = []  # ("check", Check) or ("login", index)
    with contextlib.ExitStack() as stack:
        for portal in portals:
            effective = portal
            note = ""
            if is_embedded(config, portal) and not _answers(config.sandbox.host, config.sandbox.portal_port):
                effective = stack.enter_context(embedded_sandbox(config, portal, private=True))
                note = " (embedded sandbox, served for this check: `run.py run` serves it)"
            page = check_login_page(effective)
            page.detail += note
            order.append(("check", page))
            blocked: dict[str, dict[str, Any]] = {}
            if store is not None:
                with contextlib.suppress(Exception), store.session() as session:
                    blocked = blocked_accounts(session, portal.name)
            for account in portal.accounts:
                name = f"portal {portal.name}: login as {account.username}"
                if account.username in blocked:
                    entry = blocked[account.username]
                    order.append(
                        (
                            "check",
                            Check(
                                name,
                                WARN,
                                f"blocked ({entry.get('kind')}) since {entry.get('since')}, not tried: "
                                f"{entry.get('action')}",
                            ),
                        )
                    )
                elif page.verdict == FAIL:
                    order.append(("check", Check(name, SKIP, "not tried: the login page cannot be reached")))
                else:
                    order.append(("login", len(logins)))
                    logins.append((effective, account))
        browser_checks = run_sync(_browser_checks(config, logins))
    checks.append(browser_checks[0])
    login_checks = browser_checks[1:]
    for kind, item in order:
        checks.append(item if kind == "check" else login_checks[item])
    return checks


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# -- mailboxes and SMTP --------------------------------------------------------------------------


def check_mailbox(config: Config, mailbox: MailboxSource, store: Any | None) -> Check:
    from mailbox.imap import ConnectionLost, ImapOptions, ImapRefused, connect
    from worker.control import blocked_entries

    name = f"mailbox {mailbox.name}"
    where = f"{mailbox.host}:{mailbox.port}"
    sandbox = config.sandbox
    embedded = sandbox.enabled and mailbox.host == sandbox.host and mailbox.port == sandbox.imap_port
    if embedded and not _answers(mailbox.host, mailbox.port):
        return Check(name, SKIP, f"the embedded sandbox mailbox ({where}) is served by `run.py run`")
    if store is not None:
        with contextlib.suppress(Exception), store.session() as session:
            blocked = blocked_entries(session, f"mail:{mailbox.name}")
            if blocked:
                entry = next(iter(blocked.values()))
                return Check(
                    name, WARN, f"blocked since {entry.get('since')}, not tried: {entry.get('action')}"
                )
    try:
        session = connect(mailbox, ImapOptions(timeout=10.0))
    except LoginRejected as error:
        return Check(name, FAIL, f"login rejected: {error.message}")
    except ConnectionLost as error:
        return Check(name, FAIL, f"cannot connect: {error.message}")
    except ImapRefused as error:
        return Check(name, FAIL, f"refused: {error.message}")
    except Exception as error:
        return Check(name, FAIL, f"cannot connect to {where}: {_short(error)}")
    try:
        idle = "with IDLE" if session.has_idle else "no IDLE (polled on its schedule)"
        return Check(name, OK, f"{where}: login works, {idle}")
    finally:
        session.close()


def check_smtp(config: Config, channel: Any) -> Check:
    name = f"smtp {channel.name}"
    where = f"{channel.smtp_host}:{channel.smtp_port}"
    local = channel.smtp_host in ("127.0.0.1", "localhost", "::1")
    if config.sandbox.enabled and local and not _answers(channel.smtp_host, channel.smtp_port):
        return Check(name, SKIP, f"the sandbox's SMTP sink ({where}) is served by `run.py run`")
    try:
        factory = smtplib.SMTP_SSL if channel.smtp_security == "tls" else smtplib.SMTP
        with factory(channel.smtp_host, channel.smtp_port, timeout=channel.timeout.total_seconds()) as client:
            code, _message = client.ehlo()
            if channel.smtp_security == "starttls":
                client.starttls()
            if channel.smtp_username and channel.smtp_password is not None:
                client.login(channel.smtp_username, channel.smtp_password.get_secret_value())
    except smtplib.SMTPAuthenticationError as error:
        return Check(name, FAIL, f"{where}: login rejected ({error.smtp_code})")
    except (OSError, smtplib.SMTPException) as error:
        return Check(name, FAIL, f"cannot connect to {where}: {_short(error)}")
    return Check(name, OK, f"{where} answers (EHLO {code})")


# -- all of them ---------------------------------------------------------------------------------


def run_checks(config: Config) -> list[Check]:
    checks = [check_config(config)]
    secrets = check_secrets(config)
    if secrets is not None:
        checks.append(secrets)
    store_check = check_store(config)
    checks.append(store_check)
    store = None
    if store_check.verdict == OK:
        from store import open_store

        store = open_store(config.store_url, migrate=False)
    try:
        checks.extend(check_portals(config, store))
        for mailbox in config.sources.mailboxes:
            if mailbox.enabled:
                checks.append(check_mailbox(config, mailbox, store))
        for channel in config.notifications.channels:
            if channel.kind == "smtp":
                checks.append(check_smtp(config, channel))
    finally:
        if store is not None:
            store.dispose()
    return checks


def failed(checks: list[Check]) -> bool:
    return any(check.verdict == FAIL for check in checks)


__all__ = ["FAIL", "OK", "SKIP", "WARN", "Check", "failed", "run_checks"]
