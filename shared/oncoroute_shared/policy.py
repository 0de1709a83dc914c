"""The routing and SLA policy file: one YAML document, each service validates its own section."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .settings import SettingsError

DEFAULT_POLICY = files("oncoroute_shared") / "default_policy.yaml"
M = TypeVar("M", bound=BaseModel)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float) -> timedelta:
    """`48h`, `90m`, `20s` -> timedelta. Bare numbers are seconds."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 48h, 90m, 20s)")
    return timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2)])


def load_document(path: Path | None) -> dict[str, Any]:
    source = Path(str(DEFAULT_POLICY)) if path is None else path
    try:
        doc = yaml.safe_load(source.read_text())
    except OSError as exc:
        raise SettingsError(f"ONCOROUTE_POLICY: cannot read {source}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"ONCOROUTE_POLICY: {source} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise SettingsError(f"ONCOROUTE_POLICY: {source} must be a mapping at the top level")
    return doc


def section(doc: dict[str, Any], name: str, model: type[M]) -> M:
    """Validate one section; a bad one stops the service naming the key and the problem."""
    try:
        return model.model_validate(doc.get(name, {}))
    except ValidationError as exc:
        lines = [
            f"  {name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise SettingsError("ONCOROUTE_POLICY is invalid:\n" + "\n".join(lines)) from None
