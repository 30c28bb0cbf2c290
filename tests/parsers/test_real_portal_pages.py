"""The portal-family parsers against the real captured pages in ../shared/real-portal-pages.

Every sample with an expected.json must parse to exactly the reference fields (same keys, same
values and JSON types), apart from the documented departures below; every sample without one has
a stated outcome here, so a new capture forces a decision instead of passing by default.
"""

from __future__ import annotations

import json
import random
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import parsers.portals as portals
from parsers.portals import families, parse_page, resolve_family
from quaysync.errors import AccountLocked, BadInputError, LayoutChangedError, LoginRejected
from quaysync.model import Observation, ParseContext

REPO = Path(__file__).resolve().parents[2]
REAL_PAGES = REPO.parent / "shared" / "real-portal-pages"
INDEX: list[dict[str, str]] = json.loads((REAL_PAGES / "index.json").read_text())
CONTEXT = ParseContext(
    source="portal:real-pages", source_ref="real-portal-pages", observed_at=datetime(2022, 4, 1, tzinfo=UTC)
)
MINE = {family: pages for family, pages in families().items() if family != "sandbox"}  # sandbox: another room

# Pages that list more containers than the reference run asked about (a watch list, a report of
# a long inquiry): the reference keeps only the asked ones, so each of them must be among ours.
LISTS_MORE = {("gpa", "container"), ("voyagecontrol", "listed_traced_containers")}

# Where we knowingly differ from the reference, and why.
DEVIATIONS = {
    # The page states "Last Free Day: 02/15/2021"; the reference spider read a fixed table
    # position that missed it and recorded null. We report what the page states.
    "y178/container/01_basic/sample.html": {"last_free_day": "02/15/2021"},
}

# What each sample without an expected.json yields: [] ("none"), not-found observations for the
# numbers the page names, the containers it states, or the error it must raise.
OUTCOMES: dict[str, tuple[str, object]] = {
    "apm_e425/container/04_data_not_found/sample.json": ("none", None),
    "apm_n775/container/04_data_not_found/sample.json": ("none", None),
    "c324/container/02_data_not_found/sample.json": ("none", None),
    # Byte-identical to 01_basic: the page shows its own match; the caller compares numbers.
    "cargomanager_f057/container/02_container_no_mismatch/sample.html": ("data", ["FCIU9186874"]),
    "cargomanager_f057/container/03_data_not_found/sample.html": ("none", None),
    "ets/container/04_container_no_error/sample.json": ("none", None),
    "ets/login/01_basic/sample.json": ("none", None),
    "ets/main_page/01_basic/sample.html": ("none", None),
    "fenix/listed_traced_containers/01_first_and_exist/sample.json": ("none", None),
    "fenix/listed_traced_containers/02_first_and_not_exist/sample.json": ("none", None),
    "fenix/login/01_only_container/sample.json": ("none", None),
    "fenix/login/02_container_and_mbl_no/sample.json": ("none", None),
    # A customsStatus block never seen from the portal: reading customs would be a guess.
    "fenix/search_mbl/e01_unexpected_format/sample.json": ("raises", LayoutChangedError),
    "gpa_l737/container/e01_invalid_container_no/sample.html": ("none", None),
    "gpa_l737/login/e01_login_fail/sample.html": ("raises", AccountLocked),
    "pct/search_container/e01_invalid_container_no/sample.html": ("not_found", ["EMCU608509"]),
    # Blank layout without a banner: the page names no container.
    "poha_s787/container/e01_invalid_container_no/sample.html": ("none", None),
    "poha_s787/container/e02_container_no_not_meet/sample.html": ("data", ["QQQQQQQQQQQ"]),
    # This capture is a Tideworks page filed under portsamerica: not a Ports America layout.
    "portsamerica_y773/search_container/e01_invalid_container_no/sample.html": ("raises", LayoutChangedError),
    # The hub lists the number with an all-null record: it names it but states nothing.
    "ptp_e005/container/e01_invalid_container_no/sample.json": ("none", None),
    "scspa_o054/container/01_basic/sample.html": (
        "data",
        ["FCIU9155148", "FSCU8053140", "HDMU4748456", "TCNU7907787"],
    ),
    "stg_y292/container/02_multi_containers/sample.html": ("data", ["OOLU6258622", "OOLU6258622"]),
    "stg_y292/container/e01_data_not_found/sample.html": ("none", None),
    "tideworks_a295/login/01_basic/sample.html": ("none", None),
    "tideworks_a295/search_container/01_basic/sample.html": ("data", ["MEDU7322906"]),
    "tideworks_a295/search_container/02_invalid_container_no/sample.html": ("not_found", ["TCNU7329755"]),
    "tideworks_l239/login/01_basic/sample.html": ("none", None),
    "tideworks_l239/search_container/01_basic/sample.html": ("data", ["TGHU6027388"]),
    "tideworks_l239/search_container/02_invalid_container_no/sample.html": ("not_found", ["ZCSU7745227"]),
    "tideworks_q795/login/01_basic/sample.html": ("none", None),
    "tideworks_q795/search_container/01_basic/sample.html": ("data", ["TRHU2178921"]),
    "tideworks_q795/search_container/02_invalid_container_no/sample.html": ("not_found", ["BMOU2408903"]),
    # "No record is found." with only the search box echoing the query (which may be a B/L).
    "tms_y309/container_availability/e01_invalid_container_no/sample.html": ("none", None),
    "trapac_m029/main/e01_invalid_container_no/sample.html": ("not_found", ["KOCU442706"]),
    "trapac_y258/main/e01_invalid_container_no/sample.html": ("not_found", ["KOCU442706"]),
    "v136/container/03_data_not_found/sample.json": ("not_found", ["TCNU5087312"]),
    "v136/login/01_basic/sample.html": ("none", None),
    # The watch list states every traced container that has a status; which one was asked is
    # not in the bytes (02 is byte-identical to 03, whose reference keeps TCNU1794174).
    "voyagecontrol_y257/listed_traced_containers/01_first_and_exist/sample.json": (
        "data",
        ["TCNU1794174", "TGHU6651727", "TRHU4822709"],
    ),
    "voyagecontrol_y257/listed_traced_containers/02_first_and_not_exist/sample.json": (
        "data",
        ["TCNU1794174", "TRHU4822709"],
    ),
    "voyagecontrol_y257/login/01_basic/sample.json": ("none", None),
    "wac8/container/03_data_not_found/sample.json": ("not_found", ["BMOU6053191"]),
    "wac8/container/e01_invalid_container_no/sample.json": ("not_found", ["WHLU7414414"]),
    "wan2/container/01_data_not_found/sample.html": ("none", None),
    "y178/container/e01_invalid_container_no/sample.html": ("none", None),
    "z165/container/03_data_not_found/sample.html": ("none", None),
    # The server page before its grid is drawn: "var result = [];".
    "z705/search_container/e01_invalid_container_no/sample.html": ("none", None),
    # A zero-byte capture: neither a result nor a "not found" statement.
    "z952/search_container/e01_invalid_container_no/sample.html": ("raises", LayoutChangedError),
}

WITH_EXPECTED = [entry for entry in INDEX if "expected" in entry]
WITHOUT_EXPECTED = [entry for entry in INDEX if "expected" not in entry]


def _read(path: str) -> bytes:
    return (REAL_PAGES / path).read_bytes()


def _parse(entry: dict[str, str], content: bytes | None = None) -> list[Observation]:
    return parse_page(
        entry["family"], entry["page"], _read(entry["path"]) if content is None else content, CONTEXT
    )


def _typed(fields: object) -> str:
    """JSON text keeps types apart (true ≠ 1, 0.0 ≠ 0), which == on dicts does not."""
    return json.dumps(fields, sort_keys=True)


def _expected_fields(entry: dict[str, str]) -> list[dict[str, object]]:
    items = json.loads((REAL_PAGES / entry["expected"]).read_text())["items"]
    return [{**item["fields"], **DEVIATIONS.get(entry["path"], {})} for item in items]


def test_index_lists_the_captured_pages() -> None:
    assert len(INDEX) >= 90
    for entry in INDEX:
        assert (REAL_PAGES / entry["path"]).is_file(), entry["path"]


@pytest.mark.parametrize("entry", WITH_EXPECTED, ids=[e["path"] for e in WITH_EXPECTED])
def test_sample_parses_to_its_expected_fields(entry: dict[str, str]) -> None:
    observations = _parse(entry)
    expected = _expected_fields(entry)
    family = resolve_family(entry["family"])
    for observation in observations:
        assert observation.parser.startswith(f"{family}.{entry['page']}/")
        assert (observation.source, observation.source_ref) == (CONTEXT.source, CONTEXT.source_ref)
    got = [dict(observation.fields) for observation in observations]
    if (family, entry["page"]) in LISTS_MORE:
        by_number = {fields["container_no"]: fields for fields in got}
        assert len(by_number) == len(got), "a container listed twice with the same data counts once"
        for fields in expected:
            assert _typed(by_number.get(fields["container_no"])) == _typed(fields)
    else:
        assert [_typed(fields) for fields in got] == [_typed(fields) for fields in expected]


def test_every_sample_without_expected_has_a_stated_outcome() -> None:
    assert sorted(OUTCOMES) == sorted(entry["path"] for entry in WITHOUT_EXPECTED)


@pytest.mark.parametrize("entry", WITHOUT_EXPECTED, ids=[e["path"] for e in WITHOUT_EXPECTED])
def test_sample_without_expected_yields_its_stated_outcome(entry: dict[str, str]) -> None:
    kind, detail = OUTCOMES[entry["path"]]
    if kind == "raises":
        with pytest.raises(detail):  # type: ignore[call-overload]
            _parse(entry)
        return
    observations = _parse(entry)
    if kind == "none":
        assert observations == []
    elif kind == "not_found":
        assert [o.fields.get("container_no") for o in observations] == detail
        for observation in observations:
            assert set(observation.fields) == {"container_no", "not_found"}
            assert observation.fields["not_found"]
    else:
        assert [o.fields.get("container_no") for o in observations] == detail
        assert all("not_found" not in o.fields for o in observations)


def test_deviation_is_what_the_page_states() -> None:
    page = _read("y178/container/01_basic/sample.html").decode()
    lfd_row = page[page.index("Last Free Day:") :][:200]
    assert "02/15/2021" in lfd_row
    expected = json.loads((REAL_PAGES / "y178/container/01_basic/expected.json").read_text())
    assert expected["items"][0]["fields"]["last_free_day"] is None


def test_mismatched_cargomanager_page_is_returned_as_stated() -> None:
    basic = _parse(
        {
            "family": "cargomanager_f057",
            "page": "container",
            "path": "cargomanager_f057/container/01_basic/sample.html",
        }
    )
    mismatch = _parse(
        {
            "family": "cargomanager_f057",
            "page": "container",
            "path": "cargomanager_f057/container/02_container_no_mismatch/sample.html",
        }
    )
    assert [o.fields for o in mismatch] == [o.fields for o in basic]


def test_tideworks_search_row_agrees_with_the_detail_page() -> None:
    shared = ("container_no", "ready_for_pick_up", "available", "container_spec", "carrier", "vessel",
              "carrier_release", "customs_release", "last_free_day", "holds")  # fmt: skip
    for terminal in ("tideworks_a295", "tideworks_q795"):
        search = parse_page(
            terminal, "search_container", _read(f"{terminal}/search_container/01_basic/sample.html"), CONTEXT
        )
        detail = parse_page(
            terminal, "container_detail", _read(f"{terminal}/container_detail/01_basic/sample.html"), CONTEXT
        )
        assert len(search) == len(detail) == 1
        assert {k: search[0].fields[k] for k in shared} == {k: detail[0].fields[k] for k in shared}


def test_list_pages_without_reference_read_their_columns() -> None:
    scspa = parse_page("scspa", "container", _read("scspa_o054/container/01_basic/sample.html"), CONTEXT)
    assert dict(scspa[2].fields) == {
        "container_no": "HDMU4748456",
        "carrier": "HYU",
        "vessel": "MEISHAN BRIDGE / 0015E",
        "discharge_date": "",
        "available": "UNAVAILABLE",
        "holds": "ENTRY REQ \\ NO EIR",
        "gate_out_date": "",
    }
    stg = parse_page("stg", "container", _read("stg_y292/container/02_multi_containers/sample.html"), CONTEXT)
    assert [(o.fields["mbl_no"], o.fields["vessel"]) for o in stg] == [
        ("OOLU2681547221", "COSCO SHIPPING DENAL"),
        ("OOLU2561512130", "OOCL CANADA"),
    ]


def test_bill_of_lading_page_observes_the_bill() -> None:
    [bill] = parse_page(
        "fenix", "search_mbl", _read("fenix/search_mbl/02_with_freight_release/sample.json"), CONTEXT
    )
    assert bill.subject == "bill_of_lading"
    assert bill.bill_of_lading == "146000297601"


# --- one parser per family reads every terminal of that family --------------------------------


def _terminals() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for entry in WITH_EXPECTED:
        found.setdefault(resolve_family(entry["family"]), set()).add(entry["family"])
    return found


@pytest.mark.parametrize("family", sorted(_terminals()))
def test_family_parser_reads_all_its_terminals_and_unseen_ones(family: str) -> None:
    for entry in WITH_EXPECTED:
        if resolve_family(entry["family"]) != family:
            continue
        expected = sorted(_typed(f) for f in _expected_fields(entry))
        # The same bytes as if they came from a terminal of the family that is not in the folder.
        for name in (entry["family"], family, f"{family}_zz99"):
            got = sorted(
                _typed(dict(o.fields)) for o in parse_page(name, entry["page"], _read(entry["path"]), CONTEXT)
            )
            if (family, entry["page"]) in LISTS_MORE:
                assert set(expected) <= set(got)
            else:
                assert got == expected


def test_families_with_several_terminals_are_covered() -> None:
    terminals = _terminals()
    assert terminals["apm"] == {"apm_e425", "apm_n775"}
    assert terminals["tideworks"] == {"tideworks_a295", "tideworks_l239", "tideworks_q795"}
    assert terminals["trapac"] == {"trapac_m029", "trapac_y258"}


def test_no_parser_keys_on_a_captured_terminal() -> None:
    codes = {name.partition("_")[2] for name in {entry["family"] for entry in INDEX} if "_" in name}
    assert codes
    for module in Path(portals.__file__).parent.glob("*.py"):
        if module.name == "sandbox.py":
            continue
        source = module.read_text().lower()
        assert not [code for code in codes if code in source], module.name


# --- layout changes and bad input ---------------------------------------------------------------


def _swap(old: str, new: str) -> Callable[[bytes], bytes]:
    def mutate(content: bytes) -> bytes:
        assert old.encode() in content, f"mutation anchor {old!r} missing from the sample"
        return content.replace(old.encode(), new.encode())

    return mutate


def _json_rename(old: str, new: str) -> Callable[[bytes], bytes]:
    return _swap(f'"{old}"', f'"{new}"')


# family → (sample, page, mutation that breaks what the parser relies on)
MUTILATIONS = {
    "apm": (
        "apm_e425/container/01/sample.json",
        "container",
        _json_rename("ContainerAvailabilityResults", "Results"),
    ),
    "c324": (
        "c324/container/01_basic/sample.json",
        "container",
        _json_rename("CustomReleaseStatus", "Customs"),
    ),
    "cargomanager": (
        "cargomanager_f057/container/01_basic/sample.html",
        "container",
        _swap("cfsdetails", "details"),
    ),
    "ets": (
        "ets/container/01_without_demurrage/sample.json",
        "container",
        _json_rename("PO_USA_STATUS", "PO_US"),
    ),
    "fenix": (
        "fenix/search_mbl/01_without_freight_release/sample.json",
        "search_mbl",
        _json_rename("Line Op", "Line"),
    ),
    "gpa": ("gpa_l737/container/01_basic/sample.html", "container", _swap("Custom Status", "Customs")),
    "pct": (
        "pct/container_detail/01_basic/sample.html",
        "container_detail",
        _swap("Vessel/Voyage:", "Ship:"),
    ),
    "poha": (
        "poha_s787/container/01_basic_available/sample.html",
        "container",
        _swap("CUSTOMS data", "CUST data"),
    ),
    "portsamerica": (
        "portsamerica_y773/search_container/01_basic/sample.html",
        "search_container",
        _swap("Freight Status", "Line Status"),
    ),
    "propassva": (
        "propassva_n195/container/01_basic/sample.json",
        "container",
        _json_rename("unitinfo", "unit"),
    ),
    "ptp": (
        "ptp_e005/container/01_basic/sample.json",
        "container",
        _json_rename("drayunitactivity", "activity"),
    ),
    "scspa": ("scspa_o054/container/01_basic/sample.html", "container", _swap("RELEASE SUMMARY", "RELEASE")),
    "stg": (
        "stg_y292/container/01_basic/sample.html",
        "container",
        _swap("Master Bill Number", "Master Bill"),
    ),
    "tideworks": (
        "tideworks_l239/container_detail/01_basic/sample.html",
        "container_detail",
        _swap("Container - ", "Unit "),
    ),
    "tms": (
        "tms_y309/container_availability/01_basic/sample.html",
        "container_availability",
        _swap(">LFD<", ">Free<"),
    ),
    "trapac": (
        "trapac_y258/main/01_basic/sample.html",
        "main",
        _swap('colspan="3">Demurrage', 'colspan="3">Fees'),
    ),
    "v136": ("v136/container/01_basic/sample.json", "container", _swap('"CUSTOMS HOLD;NO",', "")),
    "voyagecontrol": (
        "voyagecontrol_y257/listed_traced_containers/03_not_first_and_exist/sample.json",
        "listed_traced_containers",
        _swap('"name": "CONTAINER_STATUS_OnHold"', '"name": "OnHold"'),
    ),
    "wac8": ("wac8/container/01_basic/sample.json", "container", _json_rename("listOfFlag", "flags")),
    "wan2": (
        "wan2/container_detail/01_basic/sample.html",
        "container_detail",
        _swap("Vessel Name:", "Ship:"),
    ),
    "y178": ("y178/container/01_basic/sample.html", "container", _swap("Customs Released:", "Customs:")),
    "z165": ("z165/container/01_basic/sample.html", "container", _swap("MBL NO.", "BL")),
    "z705": (
        "z705/search_container/01_no_lfd/sample.html",
        "search_container",
        _swap("grid1_lstFreeDt", "grid1_x"),
    ),
    "z952": (
        "z952/search_container/02_with_lfd/sample.html",
        "search_container",
        _swap("grid1_custHold", "grid1_x"),
    ),
}


def test_every_family_has_a_mutilation_test() -> None:
    assert sorted(MUTILATIONS) == sorted(MINE)


@pytest.mark.parametrize("family", sorted(MUTILATIONS))
def test_mutilated_sample_raises_layout_changed(family: str) -> None:
    path, page, mutate = MUTILATIONS[family]
    original = _read(path)
    assert parse_page(family, page, original, CONTEXT), "the intact sample must parse"
    with pytest.raises(LayoutChangedError) as raised:
        parse_page(family, page, mutate(original), CONTEXT)
    assert f"{family}." in str(raised.value)


_ALL_PAGES = [(family, page) for family, pages in MINE.items() for page in pages]


@pytest.mark.parametrize(("family", "page"), _ALL_PAGES)
def test_unrelated_page_raises_layout_changed(family: str, page: str) -> None:
    for content in (
        b"<html><body><h1>Welcome</h1><p>Nothing to see.</p></body></html>",
        b'{"message": "hi"}',
    ):
        with pytest.raises(LayoutChangedError):
            parse_page(family, page, content, CONTEXT)


@pytest.mark.parametrize(("family", "page"), _ALL_PAGES)
def test_garbage_bytes_raise_bad_input(family: str, page: str) -> None:
    garbage = random.Random(6346).randbytes(4096)
    with pytest.raises(BadInputError):
        parse_page(family, page, garbage, CONTEXT)


def test_unknown_family_or_page_names_the_known_ones() -> None:
    with pytest.raises(BadInputError, match="tideworks"):
        parse_page("nosuchportal", "container", b"", CONTEXT)
    with pytest.raises(BadInputError, match="container_detail"):
        parse_page("tideworks_a295", "nosuchpage", b"", CONTEXT)


def test_family_names_resolve_with_or_without_terminal() -> None:
    assert resolve_family("tideworks") == "tideworks"
    assert resolve_family("tideworks_a295") == "tideworks"
    assert resolve_family("Z952") == "z952"
    with pytest.raises(BadInputError):
        resolve_family("a295")


# --- the registry ---------------------------------------------------------------------------------


def test_every_family_module_is_registered() -> None:
    registered = families()
    for module in Path(portals.__file__).parent.glob("[!_]*.py"):
        text = module.read_text()
        if "\nFAMILY = " in text and "\nPAGES = " in text:
            family = text.split("\nFAMILY = ", 1)[1].split("\n", 1)[0].strip().strip("\"'")
            assert family in registered, module.name


def test_a_module_dropped_into_the_package_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "demo_portal.py").write_text(
        textwrap.dedent(
            """
            FAMILY = "demoportal"

            def parse_home(content, context):
                return [context.observe({"container_no": content.decode()}, parser="demoportal.home/1")]

            PAGES = {"home": parse_home}
            """
        )
    )
    monkeypatch.setattr(portals, "__path__", [*portals.__path__, str(tmp_path)])
    monkeypatch.setattr(portals, "_REGISTRY", None)
    try:
        assert families()["demoportal"] == ["home"]
        [observation] = parse_page("demoportal_x1", "home", b"MSCU1234566", CONTEXT)
        assert observation.container_number == "MSCU1234566"
    finally:
        sys.modules.pop("parsers.portals.demo_portal", None)


def test_wrongly_shaped_member_is_a_layout_change_not_a_crash() -> None:
    flags_as_text = _swap('"listOfFlag": [', '"listOfFlag": "x", "was": [')(
        _read("wac8/container/01_basic/sample.json")
    )
    with pytest.raises(LayoutChangedError, match=r"wac8\.container"):
        parse_page("wac8", "container", flags_as_text, CONTEXT)
    holds_as_objects = _swap('"Holds": []', '"Holds": [{"code": "CUS"}]')(
        _read("apm_e425/container/01/sample.json")
    )
    with pytest.raises(LayoutChangedError, match="Holds"):
        parse_page("apm", "container", holds_as_objects, CONTEXT)


def test_refused_login_is_reported_not_read_as_empty() -> None:
    with pytest.raises(LoginRejected, match="bad password"):
        parse_page("ets", "login", b'{"success": false, "msg": "bad password"}', CONTEXT)
