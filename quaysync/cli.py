"""What every room's commands share: the loaded config, the opened store, output, and errors.

Each room has a `cli.py` with `register(app)` adding its commands; run.py puts them together.
Read commands take `--json`; bad input ends with a clear message and a non-zero exit:
1 for failures, 2 for bad input or configuration.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from quaysync.config import Config, load_config
from quaysync.errors import BadInputError, ConfigError, QuaysyncError
from quaysync.secrets import REDACTOR

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliState:
    config_path: Path | None = None
    _config: Config | None = None

    def use(self, config_path: Path | None) -> None:
        """Read this config file (lazily) for the commands of this invocation."""
        self.config_path = config_path
        self._config = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


STATE = CliState()


def config() -> Config:
    return STATE.config


@contextmanager
def opened_store() -> Iterator[Any]:
    """The configured store, migrated, disposed afterwards."""
    from store import open_store

    store = open_store(config().store_url)
    try:
        yield store
    finally:
        store.dispose()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return str(value)


def print_json(document: Any) -> None:
    sys.stdout.write(
        REDACTOR.mask(json.dumps(document, ensure_ascii=False, default=_default, indent=2)) + "\n"
    )


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table of plain text: what sources wrote is shown as written, never read as Rich markup."""
    table = Table(title=escape(title), show_lines=False)
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if cell is None else REDACTOR.mask(str(cell))) for cell in row))
    console.print(table)


def abort(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {REDACTOR.mask(message)}", highlight=False)
    raise typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn quaysync's errors into a message and an exit code instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            abort(str(error), 2)
        except BadInputError as error:
            abort(f"{error.kind}: {error}", 2)
        except QuaysyncError as error:
            abort(f"{error.kind}: {error}", 1)

    return wrapper
