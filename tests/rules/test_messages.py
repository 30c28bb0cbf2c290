"""Templates render in both languages with the right numbers, and dates in the container's local time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from quaysync.errors import ConfigError
from sync.messages import LANGUAGES, render_message, template_names
from sync.rules import RuleEngine, config_problems
from tests.rules.conftest import make_config

DELAY = {
    "container_number": "MSKU1234565",
    "bill_of_lading": "MEDU1234567890",
    "order_refs": ["PO-7731", "PO-7732"],
    "customer": "ACME Trading",
    "vessel": "MSC PAMELA",
    "voyage": "123E",
    "first_eta": "2026-11-20T00:00:00+00:00",
    "current_eta": "2026-11-23T06:00:00+00:00",
    "delay_hours": 78.0,
    "overdue": False,
    "checked_at": "2026-11-19T00:00:00+00:00",
}


def test_the_delay_message_in_chinese_states_shanghai_time() -> None:
    message = render_message("customer", "vessel_delayed", "zh", DELAY, time_zone="Asia/Shanghai")
    assert message.subject == "【船期延误通知】柜号 MSKU1234565：MSC PAMELA 预计到港推迟约 3.2 天（78 小时）"
    assert "尊敬的ACME Trading：" in message.text
    assert "原预计到港：2026年11月20日（周五） 08:00（Asia/Shanghai）" in message.text
    assert "最新预计到港：2026年11月23日（周一） 14:00（Asia/Shanghai）" in message.text
    assert "订单号 PO-7731、PO-7732" in message.text
    assert "备用方案" in message.text and "改配下一班船期" in message.text


def test_the_delay_message_in_english_states_los_angeles_time() -> None:
    message = render_message("customer", "vessel_delayed", "en", DELAY, time_zone="America/Los_Angeles")
    assert (
        message.subject == "Vessel delay: container MSKU1234565 now expected about 3.2 days (78 hours) later"
    )
    assert "Original ETA:  Thu 19 Nov 2026 16:00 (America/Los_Angeles)" in message.text
    assert "Current ETA:   Sun 22 Nov 2026 22:00 (America/Los_Angeles)" in message.text
    assert "Alternative plan:" in message.text and "next sailing" in message.text


def test_a_delay_under_two_days_is_told_in_hours_and_an_overdue_vessel_says_so() -> None:
    values = {**DELAY, "delay_hours": 30.4, "overdue": True}
    english = render_message("customer", "vessel_delayed", "en", values, time_zone="Asia/Shanghai")
    chinese = render_message("customer", "vessel_delayed", "zh", values, time_zone="Asia/Shanghai")
    assert (
        "30 hours later" in english.subject and "Not yet arrived as of Thu 19 Nov 2026 08:00" in english.text
    )
    assert (
        "推迟30 小时" in chinese.subject
        and "截至 2026年11月19日（周四） 08:00（Asia/Shanghai），船舶仍未到港" in chinese.text
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_alternative_plan_from_config_replaces_the_default(language: str, tmp_path: Path) -> None:
    plan = {"en": "We will truck it from Ningbo instead.", "zh": "我们将改从宁波港拖车送货。"}
    message = render_message(
        "customer", "vessel_delayed", language, {**DELAY, "alternative_plan": plan[language]}, time_zone="UTC"
    )
    assert plan[language] in message.text
    assert "next sailing" not in message.text and "改配下一班船期" not in message.text


def test_free_time_reminders_state_days_money_and_hours() -> None:
    values = {
        "container_number": "MSKU1234565",
        "bill_of_lading": None,
        "customer": "ACME",
        "last_free_day": "2026-11-25",
        "deadline": "2026-11-26T08:00:00+00:00",
        "hours_left": -26.2,
        "demurrage": "1245.5",
    }
    english = render_message("customer", "lfd_reminder", "en", values, time_zone="America/Los_Angeles")
    assert english.subject == "Free time for container MSKU1234565 has ended"
    assert (
        "Last free day:  Wed 25 Nov 2026 (free time ends Thu 26 Nov 2026 00:00 (America/Los_Angeles))"
        in english.text
    )
    assert "Past free time: 26 hours; demurrage may apply (currently 1,245.50)" in english.text
    chinese = render_message(
        "customer", "lfd_reminder", "zh", {**values, "hours_left": 30}, time_zone="America/Los_Angeles"
    )
    assert chinese.subject == "【免费期提醒】柜号 MSKU1234565 免费期将于 2026年11月25日（周三） 结束"
    assert "剩余时间：30 小时" in chinese.text


STAFF_FACTS: dict[str, dict[str, Any]] = {
    "milestone": {
        "milestone": "DISC",
        "milestone_name": "discharged",
        "milestone_name_zh": "已卸船",
        "milestone_at": "2026-11-18T17:30:00+00:00",
    },
    "eta_slip": {
        **{key: DELAY[key] for key in ("first_eta", "current_eta", "delay_hours", "checked_at")},
        "overdue": True,
    },
    "lfd_within": {"last_free_day": "2026-11-25", "deadline": "2026-11-26T08:00:00+00:00", "hours_left": 5.0},
    "hold_longer": {
        "facet": "customs",
        "hold_state": "hold",
        "since": "2026-11-18T02:00:00+00:00",
        "held_hours": 50,
    },
    "stale": {"last_news": "2026-11-18T02:00:00+00:00", "silent_hours": 30},
    "not_found": {"not_found": {"portal:t": "No record found"}},
    "source_blocked": {
        "source": "portal:t",
        "account": "ops",
        "block_kind": "captcha",
        "block_reason": "",
        "action": "solve the CAPTCHA in a browser",
        "since": "2026-11-18T02:00:00+00:00",
    },
    "layout_changed": {"source": "portal:t", "run_id": 3, "since": "2026-11-18T02:00:00+00:00"},
    "problem": {
        "source": "mail:x",
        "source_ref": "<m1@x>",
        "problem_kind": "quarantined",
        "problem_reason": "no template",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["alert", "review"])
@pytest.mark.parametrize("condition", sorted(STAFF_FACTS))
def test_staff_messages_render_for_every_condition(condition: str, template: str, language: str) -> None:
    container = {
        "container_number": "MSKU1234565",
        "lifecycle": "DISCHARGED",
        "available": True,
        "tracking": "active",
        "terminal": "T1",
        "yard_location": "A1",
        "vessel_name": "MSC PAMELA",
        "voyage": "1",
        "vessel_ata": None,
        "vessel_eta": "2026-11-20T00:00:00+00:00",
        "last_free_day": "2026-11-25",
        "holds": {"customs": "hold"},
        "size_type": "40HC",
    }
    values = {
        **STAFF_FACTS[condition],
        "rule": "r1",
        "light": "red",
        "reason": "because",
        "condition": condition,
        "subject": "MSKU1234565",
        "kind": template,
        "alert_id": 7,
        "container": container,
        "links": {"orders": ["PO-1"], "bill_of_lading": "MEDU1", "customers": ["ACME"]},
        "last_events": [
            {
                "at": "2026-11-18T17:30:00+00:00",
                "code": "DISC",
                "classifier": "ACT",
                "facility": "T1",
                "source": "portal:t",
            }
        ],
        "tried": ["portal:t: last statement 2026-11-18T02:00:00+00:00"],
        "evidence": ["var/evidence/a.png"],
    }
    message = render_message("staff", template, language, values, time_zone="Asia/Shanghai")
    assert "MSKU1234565" in message.subject
    assert "PO-1" in message.text and "var/evidence/a.png" in message.text
    moments = [
        value
        for value in STAFF_FACTS[condition].values()
        if isinstance(value, str) and value.endswith("+00:00")
    ]
    for moment in moments:  # every moment is shown in local (Shanghai) time, 8 h ahead of UTC
        assert shanghai(moment, language) in message.text
    if condition == "source_blocked":
        assert "solve the CAPTCHA in a browser" in message.text


def shanghai(moment: str, language: str) -> str:
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo("Asia/Shanghai"))
    if language == "zh":
        weekday = "一二三四五六日"[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日（周{weekday}） {local:%H:%M}（Asia/Shanghai）"
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} (Asia/Shanghai)"


def test_every_customer_template_exists_in_both_languages() -> None:
    assert template_names("customer") == ["available_for_pickup", "lfd_reminder", "vessel_delayed"]
    with pytest.raises(ValueError, match="no customer template 'nope'"):
        render_message("customer", "nope", "en", {})
    with pytest.raises(ValueError, match="unknown language"):
        render_message("customer", "vessel_delayed", "fr", DELAY)


def test_rules_naming_unknown_channels_or_templates_are_refused(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        [
            {"name": "a", "when": "stale", "notify": ["nowhere"]},
            {"name": "a", "when": "eta_slip", "hours": 48, "customer_template": "vessel_delayd"},
        ],
        smtp_port=2525,
    )
    assert config_problems(config) == [
        "rules[0].notify[0]: unknown channel 'nowhere' (channels: ops-mail)",
        "rules[1].name: rule 'a' is defined twice",
        "rules[1].customer_template: no template 'vessel_delayd'"
        " (known: available_for_pickup, lfd_reminder, vessel_delayed)",
    ]
    with pytest.raises(ConfigError, match=r"rules\[0\].notify\[0\]"):
        RuleEngine(config)


def test_the_documented_example_configuration_is_valid(tmp_path: Path) -> None:
    import yaml

    from quaysync.config import parse_config

    readme_path = Path(__file__).resolve().parents[2] / "sync" / "rules" / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    example = readme.split("```yaml", 1)[1].split("```", 1)[0]
    config = parse_config(yaml.safe_load(example), tmp_path)
    assert config_problems(config) == []
    assert [rule.name for rule in config.rules][:1] == ["vessel-delayed"]
    RuleEngine(config)
