"""Outbound channels, each one small adapter behind `base.Channel`. A new channel is one
module here, one line in `build_channels` and its settings."""

from __future__ import annotations

from ...settings import NotifySettings
from .base import Channel, Outgoing, PermanentDeliveryError, RetryableError
from .email import SmtpEmail
from .log import LogChannel
from .sms import HttpSms
from .webhook import SignedWebhook

__all__ = ["Channel", "Outgoing", "PermanentDeliveryError", "RetryableError", "build_channels"]


def build_channels(settings: NotifySettings) -> dict[str, Channel]:
    """Each channel's real adapter when configured, else the log channel."""
    return {
        "email": SmtpEmail(settings) if settings.smtp_host else LogChannel("email"),
        "sms": HttpSms(settings) if settings.sms_gateway_url else LogChannel("sms"),
        "webhook": SignedWebhook(settings) if settings.webhook_secrets else LogChannel("webhook"),
    }
