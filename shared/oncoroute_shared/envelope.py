"""CloudEvents 1.0 envelope, JSON structured mode, used on every topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EVENT_TYPE_PREFIX = "org.oncoroute."
CONTENT_TYPE = "application/cloudevents+json"
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters: they end up in keys and SQL text


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event. `subject` is the case id and the Kafka key."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = Field("1.0", pattern=r"^1\.0$")
    id: str = Field(min_length=1, max_length=200, pattern=_PRINTABLE)
    source: str = Field(min_length=1, max_length=500, pattern=_PRINTABLE)
    type: str = Field(min_length=1, max_length=200, pattern=_PRINTABLE)
    time: datetime
    subject: str | None = Field(None, max_length=200, pattern=_PRINTABLE)
    datacontenttype: str = "application/json"
    data: Any = None


class EnvelopeError(ValueError):
    """The bytes are not a CloudEvents 1.0 JSON event; the message says why."""


def full_type(short_type: str, version: int = 1) -> str:
    """`case.opened` -> `org.oncoroute.case.opened.v1`."""
    return f"{EVENT_TYPE_PREFIX}{short_type}.v{version}"


def new_event(
    short_type: str,
    *,
    source: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    time: datetime | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=full_type(short_type),
        time=time or datetime.now(UTC),
        subject=subject,
        data=payload,
    )


def encode(event: CloudEvent) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=True))


def decode(raw: bytes) -> CloudEvent:
    """Parse bytes into a CloudEvent or raise EnvelopeError naming the problem."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EnvelopeError("not a JSON object")
    try:
        return CloudEvent.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise EnvelopeError(f"not a CloudEvents 1.0 event: {problems}") from None
