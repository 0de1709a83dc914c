"""Parse a roster file (CSV or YAML): every bad row reported with its line number; all or
nothing (the caller imports only when the whole file is valid)."""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml
from pydantic import ValidationError

from .roster import CSV_OPTIONAL, CSV_REQUIRED, Specialist


class RosterError(ValueError):
    pass


def parse_file(name: str, text: str) -> list[Specialist]:
    """By extension: `.yaml` / `.yml` is the full shape, anything else CSV."""
    if name.lower().endswith((".yaml", ".yml")):
        return parse_yaml(text)
    return parse_csv(text)


def _problems(line: int, exc: ValidationError) -> list[str]:
    return [f"line {line}: {'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}"
            for e in exc.errors()]


def _collect(rows: list[tuple[int, dict[str, Any]]]) -> list[Specialist]:
    problems: list[str] = []
    found: list[Specialist] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            s = Specialist.model_validate(row)
        except ValidationError as exc:
            problems += _problems(line, exc)
            continue
        if s.active_count or s.last_assigned_at:
            problems.append(f"line {line}: active_count and last_assigned_at are not imported")
        if s.id in seen:
            problems.append(f"line {line}: id {s.id!r} appears twice (first on line "
                            f"{seen[s.id]})")
        seen.setdefault(s.id, line)
        found.append(s)
    if problems:
        raise RosterError("\n".join(problems))
    return found


def parse_csv(text: str) -> list[Specialist]:
    reader = csv.DictReader(io.StringIO(text))
    header = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        raise RosterError(
            f"line 1: header needs {','.join(CSV_REQUIRED)} (optional: {','.join(CSV_OPTIONAL)})"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {unknown}" if unknown else ""))
    rows: list[tuple[int, dict[str, Any]]] = []
    for row in reader:
        if None in row:
            rows.append((reader.line_num, {"__extra__": row[None]}))  # type: ignore[index]
            continue
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        # blank optional cells take their defaults
        rows.append((reader.line_num,
                     {k: v for k, v in cells.items() if v != "" or k in CSV_REQUIRED}))
    if any("__extra__" in r for _, r in rows):
        raise RosterError("\n".join(f"line {line}: more cells than header columns"
                                    for line, r in rows if "__extra__" in r))
    return _collect(rows)


def parse_yaml(text: str) -> list[Specialist]:
    """`specialists:` a list of mappings in the full shape (see the README)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise RosterError(f"not valid YAML: {exc}") from None
    if not isinstance(root, yaml.MappingNode):
        raise RosterError("line 1: the file must be a mapping with a `specialists:` list")
    items = next((v for k, v in root.value if getattr(k, "value", None) == "specialists"), None)
    if not isinstance(items, yaml.SequenceNode):
        raise RosterError("line 1: the file must be a mapping with a `specialists:` list")
    loader_doc = yaml.safe_load(text)["specialists"]
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for node, value in zip(items.value, loader_doc, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(value, dict):
            problems.append(f"line {line}: each specialist is a mapping")
            continue
        rows.append((line, value))
    try:
        found = _collect(rows)
    except RosterError as exc:
        problems.append(str(exc))
    if problems:
        raise RosterError("\n".join(problems))
    return found
