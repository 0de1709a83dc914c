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


HEX = r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b"


def _luminance(colour: str) -> float:
    if len(colour) == 4:  # #rgb
        colour = "#" + "".join(c * 2 for c in colour[1:])
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_keeps_a_readable_contrast() -> None:
    """WCAG AA (4.5:1) for the page's text colours on its backgrounds, and for every rule
    that sets both a background and a text colour (badges, buttons)."""
    css = text("board.css")
    var = dict(re.findall(rf"--([\w-]+):\s*({HEX})", css))

    def colour(value: str) -> str:
        value = value.strip()
        return var[value[6:-1]] if value.startswith("var(--") else value

    pairs = [(f"--{fg} on --{bg}", var[fg], var[bg])
             for fg in ("text", "muted") for bg in ("bg", "surface", "surface-2")]
    for rule, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        bg = re.search(rf"(?<![\w-])background:\s*({HEX}|var\(--[\w-]+\))", body)
        fg = re.search(rf"(?<![\w-])color:\s*({HEX}|var\(--[\w-]+\))", body)
        if bg and fg:
            pairs.append((rule.strip(), colour(fg.group(1)), colour(bg.group(1))))
    assert len(pairs) > 12
    poor = [(what, round(contrast(f, b), 2)) for what, f, b in pairs if contrast(f, b) < 4.5]
    assert poor == [], f"contrast below 4.5:1: {poor}"
