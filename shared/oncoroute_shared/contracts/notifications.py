"""Events notify writes on `notifications`. They never carry message bodies or clinical data."""

from __future__ import annotations

from pydantic import BaseModel


class NotificationOutcome(BaseModel):
    """`notification.sent` and `notification.failed`."""

    delivery_id: str
    case_id: str
    source_event_id: str
    audience: str
    channel: str
    template: str
    attempts: int = 1
    error: str | None = None
