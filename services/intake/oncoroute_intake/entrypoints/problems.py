"""Errors answered as RFC 9457 `application/problem+json` (or a FHIR OperationOutcome on the
FHIR routes), every problem listed with its field path; bodies read with a size limit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from oncoroute_shared.contracts.cases import Problem
from oncoroute_shared.messaging.consumer import TRANSIENT
from oncoroute_shared.metrics import CASES_REJECTED

log = logging.getLogger("oncoroute.intake.http")
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://oncoroute.org/problems/"


class ProblemError(Exception):
    """Answer the request with this problem instead of a result."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "",
                 errors: list[Problem] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors = errors or []
        self.headers = headers or {}

    def document(self, instance: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title,
                               "status": self.status, "instance": instance}
        if self.detail:
            doc["detail"] = self.detail
        if self.errors:
            doc["errors"] = [p.model_dump() for p in self.errors]
        return doc


def invalid(errors: list[Problem], what: str = "submission") -> ProblemError:
    CASES_REJECTED.labels("http").inc()
    return ProblemError(422, f"invalid-{what}", f"The {what} is not valid",
                        f"{len(errors)} problem(s); each names the field it is about", errors)


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        out.append(Problem(path=".".join(loc) or "(root)", message=str(e.get("msg", "invalid"))))
    return out


class ProblemRoute(APIRoute):
    """Turns every expected failure of a route into a problem document; never a bare 500 for
    bad input. Infrastructure outages answer 503 so the sender retries."""

    def render(self, problem: ProblemError, request: Request) -> Response:
        return Response(orjson.dumps(problem.document(request.url.path)),
                        status_code=problem.status, media_type=PROBLEM_JSON,
                        headers=problem.headers)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except ProblemError as exc:
                return self.render(exc, request)
            except RequestValidationError as exc:
                return self.render(invalid(_validation_problems(exc), "request"), request)
            except TRANSIENT as exc:
                log.warning("%s %s: unavailable (%s)", request.method, self.path,
                            type(exc).__name__)
                return self.render(ProblemError(
                    503, "unavailable", "Temporarily unavailable; retry later",
                    headers={"Retry-After": "5"}), request)

        return guarded


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, limit: int, accepted: tuple[str, ...]) -> Any:
    """The parsed JSON body, or a ProblemError: 415 wrong type, 413 too large, 422 not JSON."""
    media = _media_type(request)
    if media not in accepted:
        raise ProblemError(415, "unsupported-media-type", "Unsupported media type",
                           f"send {' or '.join(accepted)}")
    too_large = ProblemError(413, "too-large", "Request body too large",
                             f"the limit is {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise invalid([Problem(path="(root)", message=f"not valid JSON: {exc}")],
                      "request") from None


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its `$defs` substituted in place, for an OpenAPI body."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.rsplit("/", 1)[-1]]) | {
                    k: walk(v) for k, v in node.items() if k != "$ref"}
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"path": {"type": "string"},
                                             "message": {"type": "string"}}}},
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"description": "A problem (RFC 9457)",
                "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}} for s in statuses}
