"""Intake's section of the policy file: how cases are classified."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

_RANGE = re.compile(r"^[A-Z]\d\d(-[A-Z]\d\d)?$")


class TumorGroupRule(BaseModel):
    group: str = Field(min_length=1)
    ranges: list[str] = Field(min_length=1)

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _RANGE.match(item):
                raise ValueError(f"{item!r} is not an ICD-10 range like C15-C26 or C50")
        return v


class FastProgressingRule(BaseModel):
    rule: str = Field(min_length=1)
    icd10: list[str] = Field(default_factory=list)
    morphology: list[str] = Field(default_factory=list)


class ClassificationPolicy(BaseModel):
    tumor_groups: list[TumorGroupRule] = Field(min_length=1)
    fast_progressing: list[FastProgressingRule] = Field(default_factory=list)
    urgent_marked_rule: str = "submitter_marked_urgent"
