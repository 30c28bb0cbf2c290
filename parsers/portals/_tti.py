"""TTI/WUT "Container Information" jqGrid, shared by the Z705 and Z952 terminals.

The rendered grid tags every cell with `aria-describedby="grid1_<column id>"` (cntrNo, avlbFlg,
custHold, ...): cells are read by those ids, so column order and hidden columns do not matter.
The server page without its rendered grid carries the same data as `var result = [...]`; an
empty result there names nothing (→ []).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag

from quaysync.errors import LayoutChangedError
from quaysync.model import Observation, ParseContext

from ._common import Fields, decode, observe_all, text_of

_EMPTY_RESULT = re.compile(r"var\s+result\s*=\s*\[\s*\]\s*;")
_REQUIRED = ("cntrNo", "avlbFlg", "custHold", "cusmHold", "lctnNm", "eqHoldRsn", "lstFreeDt",
             "tmlPrivCntrTpszCdNm")  # fmt: skip


def _cells(row: Tag) -> dict[str, str]:
    cells = {}
    for cell in row.find_all("td", attrs={"aria-describedby": True}, recursive=False):
        column = str(cell["aria-describedby"]).removeprefix("grid1_")
        cells[column] = text_of(cell)
    return cells


def _container(cells: dict[str, str]) -> Fields:
    return {
        "container_no": cells["cntrNo"],
        "ready_for_pick_up": cells["avlbFlg"],
        "available": cells["avlbFlg"],
        "customs_release": cells["custHold"],  # headed "Customs Status"
        "carrier_release": cells["cusmHold"],  # headed "Freight Status"
        "appointment_date": cells.get("exstApntDt"),  # only some terminals show "Appt Time"
        "last_free_day": cells["lstFreeDt"],
        "container_spec": cells["tmlPrivCntrTpszCdNm"],
        "holds": cells["eqHoldRsn"],
        "cy_location": cells["lctnNm"],
        "yard_location": cells["lctnNm"],
    }


def grid_parser(family: str) -> Callable[[bytes, ParseContext], list[Observation]]:
    parser = f"{family}.search_container/1"

    def parse(content: bytes, context: ParseContext) -> list[Observation]:
        text = decode(content, what=parser)
        if not text.strip():
            # Nothing to read: not a "no result" statement either, so no guess is made.
            raise LayoutChangedError(f"{parser}: empty page (neither the grid nor its result data)")
        grid = BeautifulSoup(text, "lxml").select_one("table#grid1")
        if grid is None:
            if _EMPTY_RESULT.search(text):
                return []
            raise LayoutChangedError(f"{parser}: container grid 'table#grid1' not found")
        records = []
        for row in grid.select("tr.jqgrow"):
            cells = _cells(row)
            missing = [column for column in _REQUIRED if column not in cells]
            if missing:
                raise LayoutChangedError(f"{parser}: grid column(s) {', '.join(missing)} not found")
            records.append(_container(cells))
        return observe_all(context, records, parser=parser)

    return parse
