"""Header aliases: which column header (English or Chinese) names which field of the vocabulary.

Matching is case-, width-, space- and punctuation-insensitive ("Container No." = "CONTAINER NO"
= "container_no" = full-width "Ｃｏｎｔａｉｎｅｒ　Ｎｏ．"). A bilingual header ("箱号 Container No.",
"ETA\n(预计到港)") matches through any of its parts. Ambiguous words are left out on purpose
("Date", "Arrival", "Reference"): an unmapped column is still kept verbatim under its own header
text, so nothing is lost, while a wrong mapping would put a date into the wrong field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

from quaysync.model import FIELDS

_ALIASES: dict[str, tuple[str, ...]] = {
    "container_no": (
        "container", "container no", "container number", "container #", "container id", "cntr",
        "cntr no", "cntr number", "ctnr", "ctnr no", "ctn no", "cont no", "box no", "equipment",
        "equipment no", "equipment number", "equipment id", "unit no", "unit nbr", "unit number",
        "unit id", "箱号", "柜号", "集装箱号", "集装箱编号", "货柜号", "箱號", "櫃號", "貨櫃號", "集裝箱號",
    ),
    "mbl_no": (
        "b/l", "b/l no", "b/l number", "bl", "bl no", "bl number", "bill of lading",
        "bill of lading no", "bill of lading number", "mbl", "mbl no", "mb/l", "master b/l",
        "master bl", "master bill of lading", "obl", "ocean b/l", "bol", "bol no", "bol number",
        "提单号", "提单", "提單號", "主提单号", "主单号", "船东提单号",
    ),
    "vessel": (
        "vessel", "vessel name", "ship", "ship name", "vsl", "vsl name", "mother vessel",
        "vessel/voyage", "船名", "船舶", "船名/航次", "船名航次", "船名航次号",
    ),
    "voyage": ("voyage", "voyage no", "voyage number", "voy", "voy no", "航次", "航次号"),
    "eta": (
        "eta", "eta date", "estimated arrival", "estimated time of arrival", "预计到港",
        "预计到港时间", "预计到港日期", "预抵", "预抵时间", "预计抵港", "预到时间", "预计到达", "預計到港",
    ),
    "ata": (
        "ata", "actual arrival", "actual time of arrival", "实际到港", "实际到港时间", "实到时间",
        "实际抵港", "實際到港",
    ),
    "etd": ("etd", "estimated departure", "预计离港", "预计开船"),
    "atd": ("atd", "actual departure", "实际离港", "实际开船"),
    "status": (
        "status", "container status", "cntr status", "current status", "status description",
        "state", "状态", "箱状态", "集装箱状态", "当前状态", "动态", "最新动态", "箱动态", "狀態",
    ),
    "available": ("available", "availability", "avail", "可提", "可提柜", "是否可提", "可提状态"),
    "ready_for_pick_up": ("ready for pick up", "ready for pickup", "ready to pick up", "ready"),
    "last_free_day": (
        "last free day", "last free date", "lfd", "free time", "free time expires",
        "free time expiry", "free until", "port lfd", "terminal lfd", "storage lfd",
        "免费期", "免柜期", "免费期至", "免堆期", "免费堆存期", "免费截止", "免费截止日", "免費期",
    ),
    "line_last_free_day": (
        "line lfd", "line last free day", "carrier lfd", "line free time", "detention lfd",
        "免箱期", "用箱期", "免用箱期",
    ),
    "discharge_date": (
        "discharge", "discharge date", "discharged", "discharge time", "discharged date",
        "discharged on", "卸船时间", "卸船日期", "卸货时间", "卸船",
    ),
    "customs_release": (
        "customs", "customs status", "customs release", "customs hold", "customs cleared",
        "海关", "海关状态", "海关放行", "报关状态", "通关状态", "清关状态", "海關",
    ),
    "carrier_release": ("carrier release", "line release", "船公司放行"),
    "freight_release": ("freight release", "freight status", "freight", "运费状态"),
    "holds": ("holds", "hold", "hold status", "扣留", "扣留状态"),
    "usda_hold": ("usda", "usda hold"),
    "line_hold": ("line hold", "carrier hold", "ssl hold"),
    "other_holds": ("other holds", "other hold"),
    "tmf": ("tmf", "tmf hold", "tmf status"),
    "inspection": ("inspection", "exam", "customs exam", "查验", "查验状态", "是否查验"),
    "appointment_date": (
        "appointment", "appointment date", "appointment time", "appt", "appt date",
        "pick-up appointment", "pickup appointment", "pick-up", "pickup", "pick up",
        "提柜", "提柜预约", "提箱预约", "预约时间", "预约提柜时间",
    ),
    "appointment_ref": ("appointment no", "appointment number", "appointment ref", "appt no", "预约号"),
    "gate_out_date": (
        "gate out", "gate out date", "out gate", "outgate", "picked up", "pick-up date",
        "pickup date", "提柜时间", "提柜日期", "提箱时间", "出闸时间",
    ),
    "gate_in_date": ("gate in", "gate in date", "in gate", "ingate", "进闸时间", "进场时间"),
    "empty_return_date": (
        "empty return", "empty returned", "empty return date", "还箱时间", "还空时间", "回空时间",
    ),
    "load_date": ("load date", "loading date", "loaded", "装船时间"),
    "yard_location": (
        "yard location", "location", "yard", "yard position", "block", "stack",
        "堆场位置", "场位", "箱位", "堆位",
    ),
    "cy_location": ("cy", "cy location", "container yard", "堆场", "提柜地点", "提箱地点"),
    "demurrage": (
        "demurrage", "demurrage fee", "demurrage charges", "dem", "storage charges", "storage fee",
        "滞箱费", "滞期费", "超期费", "堆存费",
    ),
    "fees": (
        "fees", "fee", "charges", "total fees", "amount due", "total due",
        "费用", "总费用", "应付费用", "费用合计",
    ),
    "container_spec": (
        "size/type", "size type", "type", "size", "container type", "cntr type", "equipment type",
        "iso type", "iso code", "箱型", "尺寸", "箱型尺寸", "尺寸箱型", "柜型", "箱尺寸",
    ),
    "carrier": (
        "carrier", "line", "shipping line", "ocean carrier", "steamship line", "ssl", "line operator",
        "operator", "船公司", "承运人", "船东", "航运公司",
    ),
    "terminal": ("terminal", "terminal name", "facility", "码头", "码头名称", "作业码头", "碼頭"),
    "order_ref": (
        "po", "po no", "po number", "purchase order", "order", "order no", "order number",
        "order ref", "customer ref", "订单号", "订单", "采购单号", "客户单号",
    ),
    "customer": ("customer", "customer name", "consignee", "client", "客户", "客户名称", "收货人", "客戶"),
    "weight": ("weight", "gross weight", "weight kg", "kgs", "vgm", "重量", "毛重", "箱重"),
    "chassis_no": ("chassis", "chassis no", "车架号"),
    "port_of_loading": ("pol", "port of loading", "loading port", "起运港", "装货港"),
    "port_of_discharge": ("pod", "port of discharge", "discharge port", "卸货港", "目的港"),
    "berth": ("berth", "泊位"),
    "vessel_status": ("vessel status", "船舶状态"),
    "empty_full": ("f/e", "full/empty", "empty/full", "e/f", "laden/empty", "空重", "空/重", "重/空"),
    "event_code": ("event code", "status code"),
    "event_time": ("event time", "event date", "status date", "status time", "动态时间", "状态时间"),
    "location": ("current location", "地点", "当前位置"),
}  # fmt: skip

assert set(_ALIASES) <= set(FIELDS), set(_ALIASES) - set(FIELDS)

FIELD_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(_ALIASES)

# Everything that is neither a letter nor a digit (in any script) is noise for matching.
_NOISE = re.compile(r"[\W_]+")
# Where a bilingual header splits: line breaks, slashes, brackets, and script changes (CJK ↔ Latin).
_PART_BREAKS = re.compile(r"[\n\r/|()（）\[\]【】:：,，;；]+")
_SCRIPT_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")


def normalize_header(text: str) -> str:
    """The matching key of a header: NFKC (full width → ASCII), case-folded, letters and digits only."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).casefold())


class HeaderMatcher:
    """Maps header text to a field name, given aliases (the defaults plus any extra ones)."""

    def __init__(self, aliases: Mapping[str, Sequence[str]]) -> None:
        self._by_key: dict[str, str] = {}
        for field_name, words in aliases.items():
            # The field's own name always matches ("container_no", "last_free_day").
            for word in (field_name, *words):
                self._by_key.setdefault(normalize_header(word), field_name)
        self._by_key.pop("", None)

    def field_for(self, header: str) -> str | None:
        if not header:
            return None
        found = self._by_key.get(normalize_header(header))
        if found is not None:
            return found
        # A bilingual or annotated header: the first part that matches decides.
        for chunk in _PART_BREAKS.split(header):
            for part in (chunk, *_SCRIPT_RUNS.findall(chunk)):
                key = normalize_header(part)
                if key and key in self._by_key:
                    return self._by_key[key]
        return None

    def is_alias_of(self, text: str, field_name: str) -> bool:
        return self.field_for(text) == field_name


@lru_cache(maxsize=1)
def default_matcher() -> HeaderMatcher:
    return HeaderMatcher(FIELD_ALIASES)


def matcher_for(extra_aliases: Mapping[str, Sequence[str]] | None) -> HeaderMatcher:
    """The default matcher, or one where `extra_aliases` (a mail template's own words) come first."""
    if not extra_aliases:
        return default_matcher()
    merged: dict[str, list[str]] = {name: list(words) for name, words in extra_aliases.items()}
    for name, words in FIELD_ALIASES.items():
        merged.setdefault(name, []).extend(words)
    return HeaderMatcher(merged)
