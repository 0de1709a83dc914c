"""Client settings for aiokafka and FastStream, from the service settings."""

from __future__ import annotations

from typing import Any

from .settings import EMBEDDED_BROKER, ServiceSettings


def bootstrap(settings: ServiceSettings) -> str:
    return settings.kafka_bootstrap_servers or EMBEDDED_BROKER


def client_kwargs(settings: ServiceSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap(settings),
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism:
        kwargs.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        kwargs["ssl_context"] = create_ssl_context()
    return kwargs


def faststream_security(settings: ServiceSettings) -> Any:
    """The same TLS/SASL settings in FastStream's form (None for PLAINTEXT)."""
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    kwargs = client_kwargs(settings)
    ssl_context = kwargs.get("ssl_context")
    mechanism = settings.kafka_sasl_mechanism
    if mechanism:
        cls = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256,
               "SCRAM-SHA-512": SASLScram512}[mechanism]
        return cls(settings.kafka_sasl_username or "", settings.kafka_sasl_password or "",
                   ssl_context=ssl_context)
    if ssl_context is not None:
        return BaseSecurity(ssl_context=ssl_context)
    return None
