"""Check a submitted document and list every problem with its field path, not only the first.

The same checks run for HTTP, Kafka and FHIR submissions. Messages never echo the submitted
values (they may be clinical data and `case.rejected` travels on a shared topic).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.contracts.submissions import Submission

IsValidCode = Callable[[str], bool]
MAX_DEPTH = 32
# `case.opened` carries the submission, and a Kafka record is at most 1 MiB (the producer's
# and Apache Kafka's default): what is larger could be stored but never routed
ROUTABLE_BYTES = 900 * 1024


def problems_of(exc: ValidationError, prefix: str = "") -> list[Problem]:
    out = []
    for e in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in e["loc"])
        out.append(Problem(path=f"{prefix}{path}" if path else prefix.rstrip(".") or "(root)",
                           message=e["msg"]))
    return out


def unstorable(doc: Any, path: str = "", depth: int = 0) -> list[Problem]:
    """NUL characters cannot be stored (PostgreSQL text and jsonb refuse them)."""
    if depth > MAX_DEPTH:
        return [Problem(path=path or "(root)", message="nested too deeply")]
    if isinstance(doc, str):
        return [Problem(path=path or "(root)", message="contains a NUL character")] \
            if "\x00" in doc else []
    if isinstance(doc, dict):
        return [p for k, v in doc.items()
                for p in unstorable(v, f"{path}.{k}" if path else str(k), depth + 1)] + \
            [p for k in doc if isinstance(k, str) and "\x00" in k
             for p in [Problem(path=path or "(root)", message="a key contains a NUL character")]]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc)
                for p in unstorable(v, f"{path}.{i}" if path else str(i), depth + 1)]
    return []


def _semantic(doc: dict[str, Any], is_valid_code: IsValidCode) -> list[Problem]:
    """Rules beyond the schema; run on the raw document so they add to schema problems."""
    found: list[Problem] = []
    diagnosis = doc.get("diagnosis")
    code = diagnosis.get("icd10") if isinstance(diagnosis, dict) else None
    if isinstance(code, str) and code.strip() and len(code) <= 10 and "\x00" not in code \
            and not is_valid_code(code):
        found.append(Problem(path="diagnosis.icd10",
                             message="not a code in WHO ICD-10 or ICD-10-CM (e.g. C92.0, C92.00)"))
    reason = doc.get("urgent_reason")
    if doc.get("urgent") is True and not (isinstance(reason, str) and reason.strip()):
        found.append(Problem(path="urgent_reason",
                             message="required when urgent is true: say why it cannot wait"))
    return found


def check_submission(doc: Any, is_valid_code: IsValidCode, source: str | None = None,
                     parsed: Submission | None = None) -> tuple[Submission | None, list[Problem]]:
    """The submission when `doc` is valid, else None and every problem found.

    `source`, when given, fills a missing `source` (a FHIR bundle has none of its own).
    `parsed`: `doc` already validated as a Submission (the consumer does), not done again."""
    if not isinstance(doc, dict):
        return None, [Problem(path="(root)", message="must be a JSON object")]
    if source is not None and "source" not in doc:
        doc = {"source": source, **doc}
    problems = unstorable(doc)
    if problems:
        return None, problems
    problems = _semantic(doc, is_valid_code)
    try:
        sub = parsed if parsed is not None and source is None else Submission.model_validate(doc)
    except ValidationError as exc:
        return None, problems_of(exc) + problems
    if not problems:
        problems = too_large(sub)
    return (None, problems) if problems else (sub, [])


def too_large(sub: Submission) -> list[Problem]:
    size = len(sub.__pydantic_serializer__.to_json(sub))
    if size <= ROUTABLE_BYTES:
        return []
    return [Problem(path="(root)", message=f"{size} bytes once stored, more than the "
                    f"{ROUTABLE_BYTES} a case can carry through the system: send fewer or "
                    "shorter record references")]
