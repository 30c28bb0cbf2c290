"""config.yaml: the embedded default loads, secrets are references, wrong input names its path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from quaysync.config import load_config, parse_config
from quaysync.errors import ConfigError
from quaysync.secrets import REDACTOR, SecretsResolver
from tests.conftest import REPO

PORTAL = {
    "name": "terminal",
    "family": "sandbox",
    "base_url": "http://127.0.0.1:1/",
    "accounts": [{"username": "ops", "password": "${PORTAL_PASSWORD}"}],
}
ENV = {"PORTAL_PASSWORD": "correct horse battery"}


def problems_of(document: dict, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(document, Path("/tmp"), environ=ENV if environ is None else environ)
    return raised.value.problems


def test_the_embedded_default_loads(tmp_path: Path) -> None:
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secrets.yaml").write_text(
        "sandbox_portal_password: p0rtal-pass\nsandbox_mail_password: m4il-pass\n"
    )
    config = load_config(tmp_path / "config.yaml")
    assert config.sandbox.enabled
    assert config.sources.portals[0].accounts[0].password.get_secret_value() == "p0rtal-pass"
    assert config.store_url == f"sqlite:///{tmp_path}/var/quaysync.db"
    assert str(config.sources.portals[0].schedule) == "1m"
    assert config.rules and config.notifications.channels


def test_the_schedule_error_names_its_path() -> None:
    second = {**PORTAL, "name": "other", "schedule": "every 5 minutes"}
    assert problems_of({"sources": {"portals": [PORTAL, second]}}) == [
        "sources.portals[1].schedule: 'every 5 minutes' is not a cron expression or interval "
        "(e.g. '*/5 * * * *', '5m', 'every 2h')"
    ]


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("*/5 * * * *", True),
        ("5m", True),
        ("every 2h", True),
        ("1h30m", True),
        ("61 * * * *", False),
        ("0.5s", False),
    ],
)
def test_schedules(schedule: str, ok: bool) -> None:
    document = {"sources": {"portals": [{**PORTAL, "schedule": schedule}]}}
    if ok:
        assert str(parse_config(document, Path("/tmp"), environ=ENV).sources.portals[0].schedule) == schedule
    else:
        assert problems_of(document)[0].startswith("sources.portals[0].schedule: ")


def test_an_unknown_key_lists_what_was_expected() -> None:
    [problem] = problems_of({"sources": {"portals": [{**PORTAL, "shedule": "5m"}]}})
    assert problem.startswith("sources.portals[0].shedule: unknown key (expected one of: accounts, ")
    assert "schedule" in problem


def test_inline_secrets_are_refused_without_echoing_them() -> None:
    account = {"username": "ops", "password": "hunter2-inline"}
    [problem] = problems_of({"sources": {"portals": [{**PORTAL, "accounts": [account]}]}})
    assert problem == (
        "sources.portals[0].accounts[0].password: "
        "secrets are given by reference (${ENV_VAR} or secret:NAME), never inline"
    )
    assert "hunter2" not in problem


def test_missing_environment_variable() -> None:
    [problem] = problems_of({"sources": {"portals": [PORTAL]}}, environ={})
    assert (
        problem == "sources.portals[0].accounts[0].password: environment variable PORTAL_PASSWORD is not set"
    )


def test_secrets_file_references_and_redaction(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump({"terminal_password": "s3cr3t-from-file"}))
    account = {"username": "ops", "password": "secret:terminal_password"}
    document = {"secrets_file": "secrets.yaml", "sources": {"portals": [{**PORTAL, "accounts": [account]}]}}
    config = parse_config(document, tmp_path, environ={})
    password = config.sources.portals[0].accounts[0].password
    assert password.get_secret_value() == "s3cr3t-from-file"
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in str(password)
    assert REDACTOR.mask("login with s3cr3t-from-file failed") == "login with ******** failed"


def test_secrets_are_masked_in_their_encoded_forms_too() -> None:
    SecretsResolver(environ={"SPECIAL": "p@ss word&<x>"}).resolve("${SPECIAL}")
    for form in (
        "p@ss word&<x>",
        "p%40ss%20word%26%3Cx%3E",
        "p%40ss+word%26%3Cx%3E",
        "p@ss word&amp;&lt;x&gt;",
    ):
        assert REDACTOR.mask(f"before {form} after") == "before ******** after"


def test_a_missing_secret_name_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("other: x\n")
    resolver = SecretsResolver(tmp_path / "secrets.yaml", environ={})
    with pytest.raises(ValueError, match="'terminal_password' is not in the secrets file"):
        resolver.resolve("secret:terminal_password")


def test_several_problems_are_reported_together() -> None:
    document = {
        "store": {"url": "mysql://x"},
        "sources": {"portals": [{**PORTAL, "time_zone": "Mars/Base", "concurrency": 0}]},
    }
    problems = problems_of(document)
    assert "store.url: expected a sqlite:/// or postgresql:// URL" in problems
    assert any(
        p.startswith("sources.portals[0].time_zone: 'Mars/Base' is not an IANA time zone") for p in problems
    )
    assert any(p.startswith("sources.portals[0].concurrency: ") for p in problems)


def test_a_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
