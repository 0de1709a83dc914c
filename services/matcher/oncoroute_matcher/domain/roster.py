"""Specialists as the matcher sees them: who they are, what they review, when they work."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, EmailStr, Field, field_validator

from .availability import parse_working_hours

Level = Literal["general", "expert"]
ROLES = ("medical_oncologist", "surgical_oncologist", "radiation_oncologist", "haematologist",
         "pathologist", "haematopathologist", "radiologist", "paediatric_oncologist",
         "nuclear_medicine_physician", "geneticist", "palliative_care_physician")
_ICD10_PREFIX = re.compile(r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$")
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REGION = re.compile(r"^[A-Z]{2}$")


def icd10_key(code: str) -> str:
    """`c92.4` and `C924` name the same code: upper case, no dot."""
    return code.strip().upper().replace(".", "")


class Specialist(BaseModel):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 ()\-]{5,32}$")
    roles: list[str] = Field(min_length=1, description="e.g. medical_oncologist, pathologist")
    tumor_groups: list[str] = Field(min_length=1, description="e.g. haematologic, breast")
    cancer_types: dict[str, Level] = Field(
        default_factory=dict, description="ICD-10 prefix -> general | expert (narrow expertise)",
        examples=[{"C92.4": "expert", "C92": "general"}])
    max_active: int = Field(ge=0, le=1000, description="How many live assignments at most")
    active_count: int = Field(0, ge=0)
    languages: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list, description="ISO 3166 countries licensed")
    institution: str | None = Field(None, max_length=200)
    timezone: str = "UTC"
    working_hours: str | None = Field(
        None, max_length=200, description="In the specialist's time zone; none = any time",
        examples=["mon-fri 08:00-18:00", "mon-thu 08:00-18:00|fri 08:00-13:00"])
    on_call: bool = Field(False, description="Reserve for fast-progressing cases, any hour")
    active: bool = True
    last_assigned_at: datetime | None = None

    @field_validator("roles", "tumor_groups", "languages", "regions", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(";") if p.strip()]
        return v

    @field_validator("roles", "tumor_groups")
    @classmethod
    def _tokens(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if not _TOKEN.match(t)]
        if bad:
            raise ValueError(f"use lower_snake_case names, not {bad}")
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        v = [r.upper() for r in v]
        bad = [r for r in v if not _REGION.match(r)]
        if bad:
            raise ValueError(f"regions are ISO 3166-1 alpha-2 codes, not {bad}")
        return v

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        return [lang.lower() for lang in v]

    @field_validator("cancer_types", mode="before")
    @classmethod
    def _cancer_types(cls, v: object) -> object:
        if isinstance(v, str):  # CSV: `C92.4:expert;C92` (level defaults to general)
            pairs = [p.strip().partition(":") for p in v.split(";") if p.strip()]
            v = {code.strip(): (level.strip() or "general") for code, _, level in pairs}
        if isinstance(v, list):  # YAML: [{code: C92.4, level: expert}]
            v = {str(i.get("code")): i.get("level", "general") for i in v if isinstance(i, dict)}
        if isinstance(v, dict):
            bad = [c for c in v if not _ICD10_PREFIX.match(str(c).upper())]
            if bad:
                raise ValueError(f"not ICD-10 codes or prefixes: {bad}")
            return {str(c).upper(): level for c, level in v.items()}
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parse_working_hours(v)  # raises ValueError with the reason
        return v.strip().lower()

    @field_validator("institution", "email", "phone", "working_hours", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if v == "" else v

    def expertise(self, icd10: str | None) -> Level | None:
        """The best level among this specialist's cancer types that cover `icd10`."""
        if not icd10 or not self.cancer_types:
            return None
        key = icd10_key(icd10)
        best: Level | None = None
        for code, level in self.cancer_types.items():
            if key.startswith(icd10_key(code)):
                if level == "expert":
                    return "expert"
                best = "general"
        return best


# The CSV columns: the first ten are required (the skeleton's shape), the rest optional.
CSV_REQUIRED = ["id", "name", "email", "roles", "tumor_groups", "max_active", "languages",
                "regions", "institution", "timezone"]
CSV_OPTIONAL = ["phone", "cancer_types", "working_hours", "on_call", "active"]
CSV_HEADER = CSV_REQUIRED
