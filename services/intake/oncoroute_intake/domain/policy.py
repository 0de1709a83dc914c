"""Intake's sections of the policy file: how cases are classified (`classification`) and
which records each kind of request needs (`records`)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator, model_validator

from oncoroute_shared.contracts.submissions import REASONS, RECORD_KINDS, TREATMENTS

_CODE = r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?"
_RANGE = re.compile(rf"^{_CODE}(-{_CODE})?$")
_MORPHOLOGY = re.compile(r"^\d{4}/\d$")


class TumorGroupRule(BaseModel):
    group: str = Field(min_length=1)
    ranges: list[str] = Field(min_length=1)

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _RANGE.match(item):
                raise ValueError(f"{item!r} is not an ICD-10 range like C15-C26, C50 or D02.1")
        return v


class SynonymRule(BaseModel):
    group: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1)


class FastProgressingRule(BaseModel):
    rule: str = Field(min_length=1)
    icd10: list[str] = Field(default_factory=list)
    morphology: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list, description="Free text, used without a code")
    unless_terms: list[str] = Field(default_factory=list)

    @field_validator("morphology")
    @classmethod
    def _morphology(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _MORPHOLOGY.match(item):
                raise ValueError(f"{item!r} is not an ICD-O-3 morphology like 8041/3")
        return v


class ClassificationPolicy(BaseModel):
    tumor_groups: list[TumorGroupRule] = Field(min_length=1)
    synonyms: list[SynonymRule] = Field(default_factory=list)
    fast_progressing: list[FastProgressingRule] = Field(default_factory=list)
    urgent_marked_rule: str = "submitter_marked_urgent"

    @model_validator(mode="after")
    def _known_groups(self) -> ClassificationPolicy:
        groups = {g.group for g in self.tumor_groups}
        unknown = sorted({s.group for s in self.synonyms} - groups)
        if unknown:
            raise ValueError(f"synonyms name groups with no ICD-10 ranges: {unknown}")
        return self


class RecordRequirement(BaseModel):
    name: str = Field(min_length=1)
    reasons: list[str] = Field(default_factory=list)
    treatments: list[str] = Field(default_factory=list)
    any_of: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _vocabulary(self) -> RecordRequirement:
        for field, allowed in (("reasons", REASONS), ("treatments", TREATMENTS),
                               ("any_of", RECORD_KINDS)):
            unknown = sorted(set(getattr(self, field)) - set(allowed))
            if unknown:
                raise ValueError(f"{self.name}: unknown {field} {unknown}; known: {list(allowed)}")
        if not self.reasons and not self.treatments:
            raise ValueError(f"{self.name}: needs `reasons` or `treatments` to apply to")
        return self


class RecordsPolicy(BaseModel):
    requirements: list[RecordRequirement] = Field(default_factory=list)


class IntakePolicy(BaseModel):
    classification: ClassificationPolicy
    records: RecordsPolicy
