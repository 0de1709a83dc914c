"""`docs/` is generated from the code (`make docs`); these tests keep it current and true."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oncoroute_shared.contracts.registry import EVENTS, model_for, topic_for
from oncoroute_shared.docs.generate import MANAGED_DIRS, render_all
from oncoroute_shared.envelope import decode, encode, full_type, new_event

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
SUBMISSION: dict[str, Any] = {
    "source": "test-hospital", "external_id": "ext-1",
    "patient": {"reference": "MRN-1", "age": 54, "sex": "female", "country": "GB",
                "contact": {"email": "patient@example.org"}},
    "diagnosis": {"icd10": "C50.9", "icd_o3_morphology": "8500/3"},
    "records": [{"kind": "pathology_report", "uri": "https://records.example.org/1"}],
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "case.opened": {
        "case_id": "case-1", "opened_at": NOW, "status": "ready", "submission": SUBMISSION,
        "classification": {"tier": "standard", "tumor_group": "breast",
                           "fast_progressing": False, "rule": "default"},
    },
    "assignment.offered": {
        "assignment_id": "a-1", "case_id": "case-1", "seat": "pathologist",
        "role": "pathologist", "tier": "standard", "offered_at": NOW,
        "reviewer": {"id": "s-1", "name": "Dr Reviewer", "email": "dr@example.org"},
    },
    "case.closed": {"case_id": "case-1", "reason": "completed"},
    "assignment.accept": {"assignment_id": "a-1", "specialist_id": "s-1"},
}
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "null": type(None), "object": dict, "array": list,
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_all()


def test_every_generated_file_is_current(rendered: dict[str, str]) -> None:
    stale = [rel for rel, content in rendered.items()
             if not (DOCS / rel).is_file() or (DOCS / rel).read_text(encoding="utf-8") != content]
    assert not stale, f"docs/ is out of date ({', '.join(stale)}): run `make docs`"
    extra = sorted(f"{sub}/{p.name}" for sub in MANAGED_DIRS for p in (DOCS / sub).glob("*.json")
                   if f"{sub}/{p.name}" not in rendered)
    assert not extra, f"docs/ has files the code no longer produces ({extra}): run `make docs`"


def test_render_is_deterministic(rendered: dict[str, str]) -> None:
    assert render_all() == rendered
    assert all(content.endswith("\n") for content in rendered.values())


@pytest.mark.parametrize("short", sorted(EVENTS))
def test_schema_describes_its_event(short: str) -> None:
    schema = json.loads((DOCS / "schemas" / f"{short}.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["type"] == {"const": full_type(short)}
    assert schema["x-topic"] == str(topic_for(short))
    assert "Kafka" in schema["properties"]["subject"]["description"]
    assert schema["properties"]["data"]["title"] == model_for(short).__name__


@pytest.mark.parametrize("short", sorted(EXAMPLES))
def test_schema_accepts_a_real_event(short: str) -> None:
    model = model_for(short)
    event = new_event(short, source="oncoroute.test", subject="case-1",
                      data=model.model_validate(EXAMPLES[short]), time=NOW)
    doc = json.loads(encode(event))
    schema = json.loads((DOCS / "schemas" / f"{short}.json").read_text(encoding="utf-8"))
    problems = conformance(schema, doc, schema.get("$defs", {}))
    assert not problems, problems
    # round trip: what is on the wire parses back into the same envelope and model
    back = decode(encode(event))
    assert back == event
    assert model.model_validate(back.data).model_dump(mode="json") == doc["data"]
    other = next(s for s in EXAMPLES if s != short)
    assert conformance(schema, doc | {"type": full_type(other)}, schema.get("$defs", {}))


def conformance(schema: dict[str, Any], doc: Any, defs: dict[str, Any],
                path: str = "$") -> list[str]:
    """The subset of JSON Schema the generated schemas use (jsonschema is not installed)."""
    if "$ref" in schema:
        return conformance(defs[schema["$ref"].rsplit("/", 1)[-1]], doc, defs, path)
    if "anyOf" in schema:
        options = [conformance(s, doc, defs, path) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{path}: matches no anyOf option"]
    if "const" in schema and doc != schema["const"]:
        return [f"{path}: {doc!r} != {schema['const']!r}"]
    if "enum" in schema and doc not in schema["enum"]:
        return [f"{path}: {doc!r} not in {schema['enum']}"]
    kind = schema.get("type")
    if kind and (not isinstance(doc, TYPES[kind]) or (isinstance(doc, bool) and kind != "boolean")):
        return [f"{path}: expected {kind}, got {type(doc).__name__}"]
    problems: list[str] = []
    if isinstance(doc, str):
        if len(doc) < schema.get("minLength", 0) or len(doc) > schema.get("maxLength", len(doc)):
            problems.append(f"{path}: length {len(doc)} out of bounds")
        if schema.get("format") == "date-time":
            datetime.fromisoformat(doc)
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            problems += conformance(schema.get("items", {}), item, defs, f"{path}[{i}]")
    if isinstance(doc, dict):
        props = schema.get("properties", {})
        problems += [f"{path}.{k}: required" for k in schema.get("required", []) if k not in doc]
        for key, value in doc.items():
            if key in props:
                problems += conformance(props[key], value, defs, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{path}.{key}: not allowed")
    return problems
