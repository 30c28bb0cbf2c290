"""Portal-family page parsers and their registry.

Each public module in this package reads the pages of one portal family (the terminal software:
tideworks, apm, trapac, ...) and registers itself with two module-level names:

    FAMILY = "tideworks"
    PAGES = {"container_detail": parse_container_detail, ...}

where each page parser is `(content: bytes, context: ParseContext) -> list[Observation]`. Adding a
portal is dropping a module here; modules whose name starts with "_" are shared helpers.

`parse_page` is the one entry point. Its contract, for every family:
- each container the page states → one Observation whose `fields` are the page's own words (raw
  strings; JSON portals' booleans and numbers as given), under the vocabulary of
  `quaysync.model.FIELDS` plus the few extra keys the reference expectations use (hazardous,
  service, demurrage_status, owed, full_empty);
- a login / home page → [] (or a BlockedError when the page says the account is blocked);
- a page saying the container is unknown → one observation {"container_no", "not_found"} when the
  page names the container, [] when it does not;
- a page whose structure is not the family's → LayoutChangedError naming what is missing;
- bytes that are not text → BadInputError.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

from quaysync.errors import BadInputError, LayoutChangedError
from quaysync.model import Observation, ParseContext

PageParser = Callable[[bytes, ParseContext], list[Observation]]

_REGISTRY: dict[str, dict[str, PageParser]] | None = None


def _load_module(name: str) -> ModuleType | None:
    module = importlib.import_module(f"{__name__}.{name}")
    family = getattr(module, "FAMILY", None)
    pages = getattr(module, "PAGES", None)
    if not isinstance(family, str) or not isinstance(pages, dict):
        return None  # not a family module (a helper without the underscore, say)
    return module


def _registry() -> dict[str, dict[str, PageParser]]:
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, dict[str, PageParser]] = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_"):
                continue
            module = _load_module(info.name)
            if module is None:
                continue
            if module.FAMILY in found:
                raise RuntimeError(f"two portal modules register family {module.FAMILY!r}")
            found[module.FAMILY] = dict(module.PAGES)
        _REGISTRY = found
    return _REGISTRY


def families() -> dict[str, list[str]]:
    """Every registered family with its page names, sorted."""
    return {family: sorted(pages) for family, pages in sorted(_registry().items())}


def resolve_family(family: str) -> str:
    """'tideworks' or 'tideworks_<terminal code>' → 'tideworks'; unknown → BadInputError."""
    registry = _registry()
    name = family.strip().lower()
    if name in registry:
        return name
    base, _, terminal = name.rpartition("_")
    if base in registry and terminal:
        return base
    raise BadInputError(f"unknown portal family {family!r}; known families: {', '.join(sorted(registry))}")


def parse_page(family: str, page: str, content: bytes, context: ParseContext) -> list[Observation]:
    """Read one saved portal page of `family` (see the module docstring for the contract)."""
    name = resolve_family(family)
    pages = _registry()[name]
    parser = pages.get(page)
    if parser is None:
        raise BadInputError(f"family {name!r} has no page {page!r}; known pages: {', '.join(sorted(pages))}")
    try:
        return parser(content, context)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
        # A member of an unexpected type or shape deep in a page (a list where a string was, a
        # missing sub-key): the page is not what the parser knows, so nothing is guessed.
        raise LayoutChangedError(f"{name}.{page}: unexpected page structure ({error!r})") from error


__all__ = ["PageParser", "families", "parse_page", "resolve_family"]
