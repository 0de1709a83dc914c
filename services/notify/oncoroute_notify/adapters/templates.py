"""Render messages from Jinja2 files: `templates/<locale>/<template>.<channel>.<part>.j2`.

Email has `subject`, `txt` and `html` parts (HTML autoescaped); SMS has `txt`. A locale
without a file falls back to English. Webhooks carry a structured payload, no words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from .channels.base import Outgoing

TEMPLATES = Path(__file__).parent.parent / "templates"
FALLBACK = "en"
PARTS = {"email": ("subject", "txt", "html"), "sms": ("txt",)}
_NAME = re.compile(r"^(?P<template>[a-z0-9_]+)\.(?P<channel>[a-z]+)\.(?P<part>[a-z]+)\.j2$")


def _label(value: object) -> str:
    return str(value or "").replace("_", " ")


class Renderer:
    """Templates are read once, at their first use: they ship with the service, so a message
    is rendered without looking at the disk (no `auto_reload` check of each file and of its
    base template, no failed lookup of a locale that has no file)."""

    def __init__(self, root: Path = TEMPLATES) -> None:
        self.root = root
        self._chosen: dict[tuple[str, str, str, str], Template] = {}
        self._locales = {p.name for p in root.iterdir() if p.is_dir()}
        self._env = Environment(
            loader=FileSystemLoader(str(root)), undefined=StrictUndefined, auto_reload=False,
            autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                         default_for_string=False),
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        )
        self._env.filters["label"] = _label

    def part(self, template: str, channel: str, part: str, locale: str,
             context: dict[str, Any]) -> str:
        if locale not in self._locales:  # keeps the cache as small as the folders
            locale = FALLBACK
        key = (template, channel, part, locale)
        chosen = self._chosen.get(key)
        if chosen is None:
            names = [f"{loc}/{template}.{channel}.{part}.j2" for loc in dict.fromkeys(
                [locale, FALLBACK])]
            chosen = self._chosen[key] = self._env.select_template(names)
        return chosen.render(context)

    def render(self, *, delivery_id: str, recipient: str, template: str, channel: str,
               locale: str, context: dict[str, Any]) -> Outgoing:
        if channel == "webhook":
            return Outgoing(delivery_id, recipient, payload=context["payload"],
                            source=context["source"])
        if channel == "sms":
            text = self.part(template, "sms", "txt", locale, context)
            return Outgoing(delivery_id, recipient, text=" ".join(text.split()))
        subject = self.part(template, "email", "subject", locale, context)
        return Outgoing(delivery_id, recipient, subject=" ".join(subject.split()),
                        text=self.part(template, "email", "txt", locale, context),
                        html=self.part(template, "email", "html", locale, context))

    def catalogue(self) -> dict[tuple[str, str], set[str]]:
        """(template, channel) -> locales that have it, from the files on disk."""
        found: dict[tuple[str, str], set[str]] = {}
        for path in self.root.glob("*/*.j2"):
            match = _NAME.match(path.name)
            if match:
                key = (match["template"], match["channel"])
                found.setdefault(key, set()).add(path.parent.name)
        return found
