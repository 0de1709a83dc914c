"""Settings from the environment. Loaded at start, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_BROKER = "127.0.0.1:9092"


class SettingsError(SystemExit):
    """Bad settings stop the service at start with a message naming the key and the problem."""


class ServiceSettings(BaseSettings):
    """Settings every service shares. Unset addresses mean the embedded default."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str | None = Field(None, description="host:port[,host:port]")
    database_url: str | None = Field(None, description="postgresql://user:pass@host:port/db")
    oncoroute_policy: Path | None = Field(None, description="Path of the policy YAML file")
    oncoroute_data_dir: Path = Field(Path(".oncoroute"), description="Embedded stack data")
    oncoroute_time_scale: float = Field(1.0, gt=0, description="Divides every policy duration")
    kafka_enable_idempotence: bool = Field(False, description="On for Apache Kafka")
    kafka_topic_partitions: int = Field(6, ge=1, le=1000)
    kafka_replication_factor: int = Field(1, ge=1, le=10)
    kafka_fetch_max_wait_ms: int = Field(
        500, ge=1, le=60_000,
        description="Longest a consumer's fetch waits at the broker for records. Apache Kafka "
        "answers as soon as records arrive; the embedded broker holds the fetch that long, so "
        "the embedded stack sets 100 (see docs/KNOWN_ISSUES.md)",
    )
    kafka_background_fetch_max_wait_ms: int = Field(
        500, ge=1, le=60_000,
        description="The same for consumers off every case's path to its reviewers (intake's "
        "timeline, sla's clocks): they also wait for 64 KiB, so records arrive in batches of "
        "up to this long and cost one transaction each",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    http_host: str = "127.0.0.1"
    consumer_max_attempts: int = Field(5, ge=1, le=100)
    consumer_batch_max: int = Field(
        100, ge=1, le=10_000,
        description="Records a consumer takes at once and commits in one transaction",
    )
    db_pool_max: int = Field(10, ge=1, le=200)
    inbox_retention_days: float = Field(
        14, ge=8, le=3650,
        description="Days a processed event's id is kept to recognise a redelivery; longer "
        "than the topics' retention (7 days)")
    log_level: str = "INFO"
    operator_token_hashes: str = Field(
        "", description="Comma-separated SHA-256 hex digests of operator tokens (sla, notify)")
    operator_token_hashes_file: Path | None = Field(
        None, description="A file of such digests (one per line), e.g. from a secret store")

    def operator_token_digests(self) -> frozenset[str]:
        """Digests of the operator tokens sla and notify accept (read at each call: a rotated
        file takes effect without a restart)."""
        from .operator_access import digests

        return digests(self.operator_token_hashes, self.operator_token_hashes_file)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _servers(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        for part in v.split(","):
            host, _, port = part.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port, got {part.strip()!r}")
        return v.strip()

    @field_validator("operator_token_hashes_file")
    @classmethod
    def _readable(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @field_validator("database_url")
    @classmethod
    def _dsn(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        return v.strip()


T = TypeVar("T", bound="ServiceSettings")


def load(cls: type[T]) -> T:
    """Load settings or stop with a message that names each bad key."""
    try:
        return cls()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        ]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None
