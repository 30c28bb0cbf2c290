#!/usr/bin/env python3
"""quaysync — the one command-line entry point. `python run.py --help` lists every command."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from quaysync.cli import STATE

# Each room adds its commands through `register(app)`.
COMMAND_MODULES = (
    "worker.cli",  # run, run-now, runs, pause, resume, doctor
    "api.cli",  # status, events, ask, api-key
    "bots.cli",  # scrape, record
    "mailbox.cli",  # mail
    "sync.cli",  # parse-page, problems
    "sync.sheets_cli",  # import, import-links, export
    "sync.rules_cli",  # notifications, hotspots
)

app = typer.Typer(
    name="run.py",
    help="quaysync: container status from terminal portals and carrier mail, kept fresh.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", envvar="QUAYSYNC_CONFIG", help="config.yaml to use (default: the checkout's)"
    ),
]


@app.callback()
def main(config: ConfigOption = None) -> None:
    STATE.use(config)


for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register(app)


if __name__ == "__main__":
    app()
