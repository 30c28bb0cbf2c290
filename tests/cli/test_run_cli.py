"""run.py: every command is listed, read commands speak JSON, bad input exits non-zero clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import run
from tests.conftest import REAL_PAGES, REPO

runner = CliRunner()
EXPECTED_COMMANDS = (
    "parse-page",
    "problems",
    "status",
    "events",
    "runs",
    "scrape",
    "mail",
    "import",
    "export",
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'var'}\nstore:\n  url: sqlite:///{tmp_path / 'var' / 'q.db'}\n")
    return path


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "run.py", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    for command in EXPECTED_COMMANDS:
        assert f" {command} " in result.stdout, command


@pytest.mark.parametrize("sample", ["tideworks_a295/container_detail/01_basic", "trapac_y258/main/01_basic"])
def test_parse_page_prints_what_the_page_states(sample: str) -> None:
    folder = REAL_PAGES / sample
    family, page = sample.split("/")[0], sample.split("/")[1]
    result = runner.invoke(
        run.app, ["parse-page", "--family", family, "--page", page, str(folder / "sample.html"), "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    expected = json.loads((folder / "expected.json").read_text())
    assert [observation["fields"] for observation in printed["observations"]] == [
        item["fields"] for item in expected["items"]
    ]


def test_parse_page_rejects_an_unknown_family_with_exit_2() -> None:
    sample = REAL_PAGES / "tideworks_a295/container_detail/01_basic/sample.html"
    result = runner.invoke(run.app, ["parse-page", "--family", "nosuch", "--page", "x", str(sample)])
    assert result.exit_code == 2
    assert "unknown portal family 'nosuch'" in result.output


def test_parse_page_on_a_missing_file() -> None:
    result = runner.invoke(
        run.app, ["parse-page", "--family", "tideworks", "--page", "container_detail", "/nope.html"]
    )
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_problems_json_on_a_fresh_store(config_file: Path) -> None:
    result = runner.invoke(run.app, ["--config", str(config_file), "problems", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_a_broken_config_exits_2_with_the_key_path(tmp_path: Path) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text("store:\n  url: mysql://nope\n")
    result = runner.invoke(run.app, ["--config", str(broken), "problems"])
    assert result.exit_code == 2
    assert "store.url: expected a sqlite:/// or postgresql:// URL" in result.output
