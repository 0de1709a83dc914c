"""Roster files: CSV (the skeleton's columns plus optional ones) and YAML (the full shape);
every bad row is reported with its line; nothing is returned unless all rows are valid."""

from __future__ import annotations

import pytest

from oncoroute_matcher.domain.roster_file import RosterError, parse_csv, parse_file

pytestmark = pytest.mark.unit

HEADER = "id,name,email,roles,tumor_groups,max_active,languages,regions,institution,timezone"


def test_csv_reports_every_bad_row_with_its_line() -> None:
    text = (f"{HEADER}\n"
            "a,A,a@example.org,haematologist,haematologic,5,en,GB,X,UTC\n"
            "b,B,not-an-email,haematologist,haematologic,5,en,GB,X,UTC\n"
            "c,C,,haematologist,haematologic,-1,en,GB,X,Mars/Olympus\n"
            "a,A2,,haematologist,haematologic,5,en,GBR,X,UTC\n")
    with pytest.raises(RosterError) as info:
        parse_csv(text)
    msg = str(info.value)
    assert "line 3: email" in msg
    assert "line 4: max_active" in msg and "line 4: timezone" in msg
    assert "line 5: regions" in msg
    assert "line 5: id 'a' appears twice (first on line 2)" not in msg  # row 5 was invalid


def test_csv_duplicate_ids_and_extra_cells() -> None:
    text = (f"{HEADER}\na,A,,haematologist,haematologic,5,en,GB,X,UTC\n"
            "a,A,,haematologist,haematologic,5,en,GB,X,UTC\n")
    with pytest.raises(RosterError, match="line 3: id 'a' appears twice"):
        parse_csv(text)
    with pytest.raises(RosterError, match="line 2: more cells"):
        parse_csv(f"{HEADER}\na,A,,haematologist,haematologic,5,en,GB,X,UTC,extra\n")


def test_csv_header_names_missing_and_unknown_columns() -> None:
    with pytest.raises(RosterError, match=r"line 1: .*missing \['timezone'\].*unknown \['tz'\]"):
        parse_csv(HEADER.replace("timezone", "tz") + "\n")


def test_csv_optional_columns_and_lists() -> None:
    [s] = parse_csv(f"{HEADER},phone,cancer_types,working_hours,on_call\n"
                    "a,A,,haematologist;pathologist,haematologic,5,en;HI,gb,X,Europe/London,"
                    "+44 20 7946 0000,C92.4:expert;C92,mon-fri 08:00-18:00,yes\n")
    assert s.roles == ["haematologist", "pathologist"] and s.languages == ["en", "hi"]
    assert s.regions == ["GB"] and s.cancer_types == {"C92.4": "expert", "C92": "general"}
    assert s.working_hours == "mon-fri 08:00-18:00" and s.on_call and s.active


def test_yaml_full_shape() -> None:
    [s] = parse_file("roster.yaml", """
specialists:
  - id: sp-101
    name: Dr Mei Chen
    email: mei.chen@example.org
    roles: [haematologist]
    tumor_groups: [haematologic]
    cancer_types: [{code: C92.4, level: expert}]
    max_active: 4
    languages: [en, zh]
    regions: [GB, SG]
    institution: National Cancer Centre
    timezone: Asia/Singapore
    working_hours: mon-fri 09:00-18:00
    on_call: true
""")
    assert s.cancer_types == {"C92.4": "expert"} and s.on_call
    assert s.expertise("C92.41") == "expert" and s.expertise("C92.0") is None


def test_yaml_reports_each_bad_item_with_its_line() -> None:
    text = """specialists:
  - {id: ok, name: OK, roles: [pathologist], tumor_groups: [breast], max_active: 3}
  - id: bad
    name: Bad
    roles: [pathologist]
    tumor_groups: [breast]
    max_active: lots
  - just a string
  - {id: hrs, name: H, roles: [pathologist], tumor_groups: [breast], max_active: 1,
     working_hours: "weekdays 9-5"}
"""
    with pytest.raises(RosterError) as info:
        parse_file("r.yml", text)
    msg = str(info.value)
    assert "line 3: max_active" in msg and "line 8: each specialist is a mapping" in msg
    assert "line 9: working_hours" in msg


def test_yaml_must_have_a_specialists_list() -> None:
    with pytest.raises(RosterError, match="specialists"):
        parse_file("r.yaml", "- a\n- b\n")
