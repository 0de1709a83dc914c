"""Notify's own settings: outbound channels."""

from __future__ import annotations

from pydantic import Field

from oncoroute_shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    smtp_host: str | None = Field(None, description="SMTP server; unset means the log channel")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "OncoRoute <no-reply@oncoroute.local>"
    smtp_timeout_s: float = Field(10.0, gt=0)
    matcher_public_url: str = Field("http://127.0.0.1:8082", description="Links in messages")
