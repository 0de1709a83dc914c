"""The board's page, style and script are the service's own: nothing from outside (hospital
networks have no internet), every referenced asset served, text never written as HTML."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from oncoroute_sla.entrypoints.board import ASSETS

pytestmark = pytest.mark.unit
BOARD = files("oncoroute_sla") / "board"
PAGES = ("index.html", "signin.html")


def text(name: str) -> str:
    return (BOARD / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*PAGES, *ASSETS])
def test_nothing_is_loaded_from_outside_the_service(name: str) -> None:
    body = text(name)
    external = re.findall(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|@font-face""",
                          body, flags=re.IGNORECASE)
    assert external == [], f"{name} reaches outside the service: {external}"


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_a_page_names_is_served(page: str) -> None:
    named = re.findall(r"""(?:href|src)="(/[^"]*)\"""", text(page))
    assert named, f"{page} names no assets"
    for path in named:
        assert path.startswith("/board/assets/") and path.rsplit("/", 1)[1] in ASSETS, path


def test_the_script_never_writes_html() -> None:
    script = text("board.js")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, f"board.js uses {sink}"


def test_every_filter_and_field_has_a_label() -> None:
    for page in PAGES:
        body = text(page)
        for control in re.findall(r"<(?:select|input)\b[^>]*>", body):
            wrapped = re.search(r"<label>[^<]*" + re.escape(control), body)
            named = re.search(r'id="([^"]+)"', control)
            labelled = named and f'for="{named.group(1)}"' in body
            assert wrapped or labelled, f"{page}: {control} has no label"
