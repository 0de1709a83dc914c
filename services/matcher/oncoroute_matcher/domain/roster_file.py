"""Parse a roster CSV: every bad row reported with its line number; all or nothing."""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError

from .roster import CSV_HEADER, Specialist


class RosterError(ValueError):
    pass


def parse_csv(text: str) -> list[Specialist]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != CSV_HEADER:
        raise RosterError(f"line 1: header must be {','.join(CSV_HEADER)}")
    problems: list[str] = []
    found: list[Specialist] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        try:
            s = Specialist(**{k.strip(): (v or "").strip() for k, v in row.items() if k})
        except ValidationError as exc:
            for e in exc.errors():
                problems.append(f"line {line}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
            continue
        if s.id in seen:
            problems.append(f"line {line}: id {s.id!r} appears twice")
        seen.add(s.id)
        found.append(s)
    if problems:
        raise RosterError("\n".join(problems))
    return found
