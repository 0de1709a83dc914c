"""Notify's own settings: outbound channels, links and webhook secrets."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from oncoroute_shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    smtp_host: str | None = Field(None, description="SMTP server; unset means the log channel")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # The display name is neutral on purpose: a sender name is read like a subject line.
    smtp_from: str = "Second Opinion Service <no-reply@oncoroute.local>"
    smtp_timeout_s: float = Field(10.0, gt=0)
    sms_gateway_url: str | None = Field(
        None, pattern=r"^https?://", description="HTTP SMS gateway; unset means the log channel")
    sms_gateway_token: str | None = Field(None, description="Bearer token for the SMS gateway")
    sms_timeout_s: float = Field(10.0, gt=0)
    webhook_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: submitting system (source) -> Standard Webhooks secret whsec_...")
    webhook_secrets_file: Path | None = Field(
        None, description="A JSON file of the same object (read at start; merged, file first)")
    webhook_timeout_s: float = Field(10.0, gt=0)
    link_signing_secret: str | None = Field(
        None, min_length=16, description="HMAC key of accept/decline links (shared with matcher)")
    matcher_public_url: str = Field("http://127.0.0.1:8082", description="Links in messages")
    portal_url: str = Field("http://127.0.0.1:8081",
                            description="Where an authorised person reads a case (links)")
    notify_concurrency: int = Field(4, ge=1, le=64, description="Sends in flight per channel")

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _json_map(cls, v: object) -> object:
        if isinstance(v, str):
            v = json.loads(v) if v.strip() else {}
        return v

    @model_validator(mode="after")
    def _secrets(self) -> NotifySettings:
        if self.webhook_secrets_file is not None:
            try:
                from_file = json.loads(self.webhook_secrets_file.read_text())
            except (OSError, ValueError) as exc:
                raise ValueError(f"WEBHOOK_SECRETS_FILE: cannot read a JSON object: {exc}"
                                 ) from None
            if not isinstance(from_file, dict):
                raise ValueError("WEBHOOK_SECRETS_FILE must hold a JSON object")
            self.webhook_secrets = {**from_file, **self.webhook_secrets}
        for source, secret in self.webhook_secrets.items():
            if not valid_webhook_secret(secret):
                raise ValueError(f"webhook secret for {source!r} must be whsec_ followed by "
                                 "base64 of at least 16 bytes")
        return self


def valid_webhook_secret(secret: object) -> bool:
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False
