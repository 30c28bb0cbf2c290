"""What the portal prints, in English and in Chinese: column labels, status words, date formats.

The English pages print local times the way US terminals do ("11/05/2026 14:30"), the Chinese
pages the way Chinese terminals do ("2026-11-05 14:30"); neither names a zone (the terminal's
zone, America/Los_Angeles, is implied). Both v1 (the classic layout) and v2 (a redesign with
renamed headers) are described here so the templates stay free of wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Language = Literal["en", "zh"]
Layout = Literal["v1", "v2"]

# Result columns in page order: (field key, English v1, Chinese v1, English v2, Chinese v2).
RESULT_COLUMNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("container_no", "Container No.", "箱号", "Unit #", "单元编号"),
    ("carrier", "Line", "船公司", "Carrier", "承运人"),
    ("container_spec", "Size/Type", "箱型", "Equip", "设备"),
    ("vessel", "Vessel", "船名", "Ship", "船舶"),
    ("voyage", "Voyage", "航次", "Trip", "行程"),
    ("mbl_no", "B/L No.", "提单号", "BOL", "运单"),
    ("status", "Status", "状态", "State", "当前"),
    ("available", "Available", "提箱状态", "Ready", "就绪"),
    ("customs_release", "Customs", "海关", "Customs Status", "关务"),
    ("freight_release", "Freight/Line", "船公司放行", "Line Status", "航线"),
    ("usda_hold", "USDA", "检疫", "Ag (USDA)", "农业"),
    ("tmf", "TMF", "TMF", "Fee (TMF)", "费用"),
    ("holds", "Holds", "扣留项目", "Hold Codes", "扣留代码"),
    ("last_free_day", "Last Free Day", "免费期截止", "Free Until", "免费至"),
    ("demurrage", "Demurrage", "滞期费", "Charges", "费用合计"),
    ("yard_location", "Yard Location", "堆场位置", "Position", "位置"),
    ("appointment_date", "Appointment", "提箱预约", "Appt", "预约"),
    ("discharge_date", "Discharged", "卸船时间", "Off Vessel", "离船"),
    ("gate_out_date", "Gate Out", "出闸时间", "Out Gate", "出场"),
)  # fmt: skip

# The detail page adds these rows after the result columns: (key, English, Chinese).
DETAIL_EXTRA: tuple[tuple[str, str, str], ...] = (
    ("weight", "Gross Weight", "毛重"),
    ("empty_return_date", "Empty Returned", "还空时间"),
    ("terminal", "Terminal", "码头"),
)

# Vessel schedule columns: (key, English v1, Chinese v1, English v2, Chinese v2).
VESSEL_COLUMNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("vessel", "Vessel", "船名", "Ship Name", "船舶名称"),
    ("voyage", "Voyage", "航次", "Trip No", "行程号"),
    ("carrier", "Line", "船公司", "Operator", "经营人"),
    ("berth", "Berth", "泊位", "Dock", "码头位"),
    ("eta", "ETA", "预计到港", "Arrive (est)", "预抵"),
    ("ata", "ATA", "实际到港", "Arrived", "已抵"),
    ("etd", "ETD", "预计离港", "Depart (est)", "预离"),
    ("vessel_status", "Status", "状态", "Call State", "动态"),
)  # fmt: skip

WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "yes": "Yes", "no": "No",
        "on_vessel": "On Vessel", "in_yard": "In Yard", "delivered": "Delivered",
        "empty_returned": "Empty Returned",
        "customs_RELEASED": "Released", "customs_HOLD": "Hold", "customs_INSPECTION": "Exam",
        "release_RELEASED": "Released", "release_HOLD": "Hold", "not_applicable": "N/A",
        "hold_CUSTOMS": "CUSTOMS", "hold_FREIGHT": "FREIGHT", "hold_USDA": "USDA", "hold_TMF": "TMF",
        "no_holds": "None",
        "vessel_EXPECTED": "Expected", "vessel_WORKING": "Working", "vessel_BERTHED": "Berthed",
        "vessel_DEPARTED": "Departed",
        "not_found": "Container not found at this terminal",
        "invalid": "Invalid container number",
    },
    "zh": {
        "yes": "可提", "no": "不可提",
        "on_vessel": "未卸船", "in_yard": "已卸船", "delivered": "已提箱", "empty_returned": "已还空箱",
        "customs_RELEASED": "海关放行", "customs_HOLD": "扣留", "customs_INSPECTION": "查验",
        "release_RELEASED": "已放行", "release_HOLD": "扣留", "not_applicable": "不适用",
        "hold_CUSTOMS": "海关", "hold_FREIGHT": "运费", "hold_USDA": "检疫", "hold_TMF": "码头费",
        "no_holds": "无",
        "vessel_EXPECTED": "预抵", "vessel_WORKING": "作业中", "vessel_BERTHED": "已靠泊",
        "vessel_DEPARTED": "已离港",
        "not_found": "本码头无此箱记录",
        "invalid": "箱号无效",
    },
}  # fmt: skip

# Page texts. Keys are used by the templates as `t.key`.
TEXTS: dict[Language, dict[str, str]] = {
    "en": {
        "terminal": "Sandbox Container Terminal",
        "portal": "Terminal Operations Portal",
        "login_title": "Sign In",
        "username": "User Name:",
        "password": "Password:",
        "login_button": "Log In",
        "login_failed": "Invalid user name or password.",
        "account_locked": "Your account has been locked after too many failed sign-in attempts. "
        "Contact the terminal help desk to unlock it.",
        "menu_search": "Container Inquiry",
        "menu_vessels": "Vessel Schedule",
        "menu_logout": "Log Out",
        "menu_language": "中文",
        "signed_in_as": "Signed in as",
        "search_title": "Container Availability Inquiry",
        "search_hint": "Enter up to {max} container numbers, one per line.",
        "search_button": "Search",
        "export_button": "Export to Excel",
        "too_many": "Too many container numbers: you entered {count}; the limit is {max} per search.",
        "no_numbers": "Please enter at least one container number.",
        "summary": "{found} of {total} containers found. Page {page} of {pages}.",
        "detail_title": "Container Detail",
        "detail_not_found": "Container {number} was not found at this terminal.",
        "back_to_search": "Back to search",
        "vessels_title": "Vessel Schedule / Berth Status",
        "as_of": "As of",
        "captcha_title": "Security Check",
        "captcha_prompt": "Please type the characters shown in the image to continue.",
        "captcha_wrong": "The characters you entered did not match. Please try again.",
        "captcha_button": "Verify",
        "expired_title": "Session Expired",
        "expired_text": "Your session has expired. Please log in again.",
        "login_again": "Log in again",
        "maintenance_title": "Scheduled Maintenance",
        "maintenance_text": "The portal is unavailable due to scheduled maintenance. Please try again later.",
        "first": "First", "prev": "Prev", "next": "Next", "last": "Last",
    },
    "zh": {
        "terminal": "沙盒集装箱码头",
        "portal": "码头业务查询系统",
        "login_title": "用户登录",
        "username": "用户名：",
        "password": "密码：",
        "login_button": "登录",
        "login_failed": "用户名或密码错误。",
        "account_locked": "登录失败次数过多，您的账户已被锁定。请联系码头客服解锁。",
        "menu_search": "箱货查询",
        "menu_vessels": "船期/泊位",
        "menu_logout": "退出",
        "menu_language": "English",
        "signed_in_as": "当前用户",
        "search_title": "集装箱提箱查询",
        "search_hint": "每次最多输入 {max} 个箱号，每行一个。",
        "search_button": "查询",
        "export_button": "导出Excel",
        "too_many": "箱号过多：您输入了 {count} 个，每次查询最多 {max} 个。",
        "no_numbers": "请至少输入一个箱号。",
        "summary": "共 {total} 个箱号，找到 {found} 个。第 {page} 页，共 {pages} 页。",
        "detail_title": "集装箱详情",
        "detail_not_found": "本码头无箱号 {number} 的记录。",
        "back_to_search": "返回查询",
        "vessels_title": "船期表 / 泊位动态",
        "as_of": "更新时间",
        "captcha_title": "安全验证",
        "captcha_prompt": "请输入图片中的字符以继续。",
        "captcha_wrong": "验证码错误，请重新输入。",
        "captcha_button": "验证",
        "expired_title": "会话已过期",
        "expired_text": "您的会话已过期，请重新登录。",
        "login_again": "重新登录",
        "maintenance_title": "系统维护",
        "maintenance_text": "系统正在进行例行维护，暂时无法使用，请稍后再试。",
        "first": "首页", "prev": "上一页", "next": "下一页", "last": "末页",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Labels:
    """Everything one page variant (language x layout) prints."""

    language: Language
    layout: Layout
    texts: dict[str, str] = field(repr=False)
    words: dict[str, str] = field(repr=False)

    @property
    def charset(self) -> str:
        return "GBK" if self.language == "zh" else "utf-8"

    def result_headers(self) -> list[tuple[str, str]]:
        column = {("en", "v1"): 1, ("zh", "v1"): 2, ("en", "v2"): 3, ("zh", "v2"): 4}[
            (self.language, self.layout)
        ]
        return [(entry[0], entry[column]) for entry in RESULT_COLUMNS]

    def vessel_headers(self) -> list[tuple[str, str]]:
        column = {("en", "v1"): 1, ("zh", "v1"): 2, ("en", "v2"): 3, ("zh", "v2"): 4}[
            (self.language, self.layout)
        ]
        return [(entry[0], entry[column]) for entry in VESSEL_COLUMNS]

    def detail_extra(self) -> list[tuple[str, str]]:
        column = 1 if self.language == "en" else 2
        return [(entry[0], entry[column]) for entry in DETAIL_EXTRA]

    def timestamp(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.strftime("%m/%d/%Y %H:%M" if self.language == "en" else "%Y-%m-%d %H:%M")

    def day(self, value: date | None) -> str:
        if value is None:
            return ""
        return value.strftime("%m/%d/%Y" if self.language == "en" else "%Y-%m-%d")

    def money(self, usd: int) -> str:
        return f"${usd:,.2f}" if self.language == "en" else f"USD {usd:,.2f}"


def labels_for(language: Language, layout: Layout) -> Labels:
    return Labels(language=language, layout=layout, texts=TEXTS[language], words=WORDS[language])
