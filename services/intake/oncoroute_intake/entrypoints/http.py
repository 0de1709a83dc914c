"""Intake's case API: submit, list, read, add records, withdraw. Every route needs an API key;
errors are `application/problem+json`."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.contracts.submissions import Record, Submission
from oncoroute_shared.runtime import Runtime

from .. import handlers
from ..adapters import cases
from ..domain.access import Principal
from ..domain.validation import check_submission, problems_of, unstorable
from .auth import authenticator
from .problems import (
    ProblemError,
    ProblemRoute,
    inline_schema,
    invalid,
    problem_responses,
    read_json,
)

JSON = ("application/json",)
_TEXT = r"^[^\x00]*$"
CaseStatus = Literal["awaiting_records", "ready", "closed"]


class RecordsAddition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[Record] = Field(min_length=1, max_length=200)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": inline_schema(model.model_json_schema())}}}}


def _not_found() -> ProblemError:
    return ProblemError(404, "not-found", "No such case", "or not one this key may see")


def _case_id(case_id: str) -> str:
    try:
        return str(uuid.UUID(case_id))
    except ValueError:
        raise _not_found() from None


def _view(case: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    sub = case["submission"]
    return {
        "case_id": case["case_id"], "source": case["source"],
        "external_id": case["external_id"], "status": case["status"],
        "classification": {k: case[k] for k in ("tier", "tumor_group", "fast_progressing",
                                                "rule", "needs_triage", "matched_on")},
        "reasons": sub.get("reasons", []),
        "records": sub.get("records", []),
        "missing_records": case["missing_records"],
        "opened_at": case["opened_at"], "updated_at": case["updated_at"],
        "closed_at": case["closed_at"], "close_reason": case["close_reason"],
        "timeline": events,
    }


def router(runtime: Runtime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["cases"], route_class=ProblemRoute,
                    responses=problem_responses(401, 422))
    authenticate = authenticator(runtime)

    def rules() -> handlers.Rules:
        return runtime.state["rules"]  # type: ignore[no-any-return]

    @api.post("/cases", status_code=201, summary="Submit a second-opinion request",
              openapi_extra=_body(Submission), responses=problem_responses(403, 413, 415))
    async def submit(request: Request, response: Response,
                     who: Principal = Depends(authenticate)) -> dict[str, Any]:
        doc = await read_json(request, runtime.settings.intake_max_body_bytes, JSON)
        sub, problems = check_submission(doc, rules().is_valid_code)
        if sub is None:
            raise invalid(problems)
        if not who.may_submit_for(sub.source):
            raise ProblemError(403, "wrong-source", "This key may not submit for that source",
                               "a key submits only for the source it was created for")
        async with runtime.db().acquire() as conn, conn.transaction():
            opened = await handlers.open_case(conn, sub, rules())
        response.status_code = 201 if opened.created else 200
        response.headers["Location"] = f"/v1/cases/{opened.case_id}"
        result: dict[str, Any] = {"case_id": opened.case_id, "created": opened.created}
        if opened.created:
            result |= {"status": opened.status, "missing_records": list(opened.missing_records)}
        return result

    @api.get("/schemas/submission", summary="The v1 submission as JSON Schema (2020-12)")
    async def submission_schema(_who: Principal = Depends(authenticate)) -> dict[str, Any]:
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://oncoroute.org/schemas/submission.v1.json",
                **Submission.model_json_schema()}

    @api.get("/cases", summary="Cases, newest first, filtered, with cursor pagination")
    async def list_cases(
        status: CaseStatus | None = None,
        tier: str | None = Query(None, max_length=100, pattern=_TEXT),
        tumor_group: str | None = Query(None, max_length=100, pattern=_TEXT),
        source: str | None = Query(None, max_length=100, pattern=_TEXT),
        external_id: str | None = Query(None, max_length=200, pattern=_TEXT),
        cursor: str | None = Query(None, max_length=500),
        limit: int = Query(50, ge=1, le=500),
        who: Principal = Depends(authenticate),
    ) -> dict[str, Any]:
        if source is not None and not who.may_read(source):
            return {"items": [], "next_cursor": None}
        filters = {"status": status, "tier": tier, "tumor_group": tumor_group,
                   "source": who.visible_source(source), "external_id": external_id}
        try:
            async with runtime.db().acquire() as conn:
                rows, next_cursor = await cases.list_cases(conn, filters, cursor, limit)
        except cases.BadCursor as exc:
            raise invalid([Problem(path="cursor", message=str(exc))], "request") from None
        return {"items": rows, "next_cursor": next_cursor}

    @api.get("/cases/{case_id}", summary="A case: status, classification and timeline",
             responses=problem_responses(404))
    async def read(case_id: str, who: Principal = Depends(authenticate)) -> dict[str, Any]:
        async with runtime.db().acquire() as conn:
            case = await cases.get_case(conn, _case_id(case_id))
            if case is None or not who.may_read(case["source"]):
                raise _not_found()
            events = await cases.timeline(conn, case["case_id"])
        return _view(case, events)

    @api.post("/cases/{case_id}/records", summary="Add records to a case",
              openapi_extra=_body(RecordsAddition), responses=problem_responses(404, 409, 413, 415))
    async def add_records(case_id: str, request: Request,
                          who: Principal = Depends(authenticate)) -> dict[str, Any]:
        case_id = _case_id(case_id)
        doc = await read_json(request, runtime.settings.intake_max_body_bytes, JSON)
        if problems := unstorable(doc):
            raise invalid(problems, "request")
        try:
            addition = RecordsAddition.model_validate(doc)
        except ValidationError as exc:
            raise invalid(problems_of(exc), "request") from None
        try:
            async with runtime.db().acquire() as conn, conn.transaction():
                return await handlers.add_records(conn, case_id, addition.records, who, rules())
        except handlers.CaseNotFound:
            raise _not_found() from None
        except handlers.CaseClosedError:
            raise ProblemError(409, "case-closed", "The case is closed") from None

    @api.post("/cases/{case_id}/withdraw", summary="Withdraw a case (case.closed: withdrawn)",
              responses=problem_responses(404))
    async def withdraw(case_id: str, who: Principal = Depends(authenticate)) -> dict[str, Any]:
        case_id = _case_id(case_id)
        try:
            async with runtime.db().acquire() as conn, conn.transaction():
                return await handlers.withdraw(conn, case_id, who)
        except handlers.CaseNotFound:
            raise _not_found() from None

    return api

