"""Specialists as the matcher sees them, and how a roster file row becomes one."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field, field_validator


class Specialist(BaseModel):
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    roles: list[str] = Field(default_factory=list)
    tumor_groups: list[str] = Field(default_factory=list)
    max_active: int = Field(ge=0, le=1000)
    active_count: int = 0
    languages: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    institution: str | None = None
    timezone: str = "UTC"
    active: bool = True
    last_assigned_at: datetime | None = None

    @field_validator("roles", "tumor_groups", "languages", "regions", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(";") if p.strip()]
        return v

    @field_validator("institution", "email", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if v == "" else v


CSV_HEADER = ["id", "name", "email", "roles", "tumor_groups", "max_active", "languages",
              "regions", "institution", "timezone"]
