"""Events notify writes on `notifications`. They never carry message bodies or clinical data."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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


class CaseStatusWebhook(BaseModel):
    """The JSON body notify POSTs to a submission's `callback_url` on every status change.

    Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`
    headers). Minimum necessary: no diagnosis, cancer type, names or opinion content; read
    the case at `case_url`. `webhook-id` stays the same across retries: deduplicate on it."""

    type: str = Field("case.status_changed", examples=["case.status_changed"])
    case_id: str
    source: str = Field(description="The submitting system (whose secret signed this)")
    external_id: str = Field(description="The submitting system's own id of the case")
    status: str = Field(examples=["awaiting_records", "ready", "in_review", "opinion_ready",
                                  "closed"])
    reason: str | None = Field(None, description="Why it closed: withdrawn, completed, cancelled")
    missing_records: list[str] = Field(default_factory=list,
                                       description="Record kinds still needed")
    occurred_at: datetime
    event_id: str = Field(description="The OncoRoute event that changed the status")
    case_url: str = Field(description="Where an authorised person reads the case")
