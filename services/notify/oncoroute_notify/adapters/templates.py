"""Render message templates (Jinja2 files per template, channel and locale)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent.parent / "templates"


class Renderer:
    def __init__(self, root: Path = TEMPLATES) -> None:
        self._env = Environment(loader=FileSystemLoader(str(root)), undefined=StrictUndefined,
                                autoescape=select_autoescape(["html"]), keep_trailing_newline=True)

    def email(self, template: str, context: dict[str, Any], locale: str = "en") -> tuple[str, str]:
        subject = self._env.get_template(f"{locale}/{template}.email.subject.j2").render(context)
        body = self._env.get_template(f"{locale}/{template}.email.txt.j2").render(context)
        return subject.strip(), body
