"""`POST /fhir/r4/Bundle`: a FHIR R4 second-opinion bundle, mapped to the v1 submission.

Errors are FHIR `OperationOutcome`s (`application/fhir+json`), one issue per problem with its
location; a case opened (201) or found again (200) answers an informational OperationOutcome
and `Location: /v1/cases/{id}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..domain import fhir
from ..domain.access import Principal
from ..domain.validation import check_submission
from .auth import authenticator
from .problems import ProblemError, ProblemRoute, read_json

FHIR_JSON = "application/fhir+json"
ACCEPTED = (FHIR_JSON, "application/json")
_ISSUE_CODE = {401: "login", 403: "forbidden", 413: "too-costly", 415: "not-supported",
               422: "invalid", 503: "transient"}


def outcome(severity: str, code: str, issues: list[tuple[str, str | None]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": severity, "code": code, "diagnostics": text}
        | ({"expression": [where]} if where else {}) for text, where in issues]}


class FhirRoute(ProblemRoute):
    def render(self, problem: ProblemError, request: Request) -> Response:
        issues: list[tuple[str, str | None]] = [(p.message, p.path) for p in problem.errors] or \
            [(f"{problem.title}{': ' + problem.detail if problem.detail else ''}", None)]
        doc = outcome("error", _ISSUE_CODE.get(problem.status, "processing"), issues)
        return Response(orjson.dumps(doc), status_code=problem.status, media_type=FHIR_JSON,
                        headers=problem.headers)


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/fhir/r4", tags=["fhir"], route_class=FhirRoute)
    authenticate = authenticator(runtime)

    @api.post("/Bundle", status_code=201, summary="Submit a FHIR R4 second-opinion Bundle",
              openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: {
                  "schema": {"type": "object", "required": ["resourceType"], "properties": {
                      "resourceType": {"const": "Bundle"},
                      "type": {"enum": list(fhir.BUNDLE_TYPES)},
                      "entry": {"type": "array", "items": {"type": "object"}}}}}}}})
    async def submit_bundle(
        request: Request, who: Principal = Depends(authenticate),
        source: str | None = Query(None, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$",
                                   description="Operators only: the submitting system"),
    ) -> Response:
        submitter = who.source or source
        if submitter is None:
            raise ProblemError(422, "invalid-request", "An operator names the source",
                               "add ?source=<submitting system>")
        if not who.may_submit_for(submitter):
            raise ProblemError(403, "wrong-source", "This key may not submit for that source")
        doc = await read_json(request, runtime.settings.intake_max_body_bytes, ACCEPTED)
        rules: handlers.Rules = runtime.state["rules"]
        try:
            mapped = fhir.to_submission(doc, datetime.now(UTC).date())
        except fhir.FhirInvalid as exc:
            raise ProblemError(422, "invalid-bundle", "Not a usable FHIR R4 bundle",
                               errors=exc.issues) from None
        sub, problems = check_submission({**mapped, "source": submitter}, rules.is_valid_code)
        if sub is None:
            raise ProblemError(422, "invalid-bundle", "The bundle's submission is not valid",
                               errors=[p.model_copy(update={"path": fhir.origin(p.path)})
                                       for p in problems])
        async with runtime.db().acquire() as conn, conn.transaction():
            opened = await handlers.open_case(conn, sub, rules)
        verb = "opened" if opened.created else "already open"
        doc = outcome("information", "informational", [(f"case {opened.case_id} {verb}", None)])
        return Response(orjson.dumps(doc), status_code=201 if opened.created else 200,
                        media_type=FHIR_JSON, headers={"Location": f"/v1/cases/{opened.case_id}"})

    return api
