"""Intake's settings: the shared ones plus request limits and API-key handling."""

from __future__ import annotations

from pydantic import Field

from oncoroute_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    intake_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=64 * 1024 * 1024,
        description="Largest request body accepted; larger ones get 413",
    )
    intake_key_cache_seconds: float = Field(
        5.0, ge=0, le=3600,
        description="How long a verified API key is remembered; a revocation takes effect "
                    "within this time",
    )
    intake_operator_key_hashes: str = Field(
        "", description="Comma-separated SHA-256 hex digests of operator keys provisioned "
                        "outside the database (e.g. from a secret store); optional",
    )

    def operator_hashes(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.intake_operator_key_hashes.split(",")
                         if h.strip())
