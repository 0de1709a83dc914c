"""Decide a case's tumour group and tier from the policy. Pure: no I/O.

Every code, range and term comes from the policy's `classification` section; this module only
knows how to match them.
"""

from __future__ import annotations

import re
from functools import cache

from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission

from .codes import normalise_icd10
from .policy import ClassificationPolicy, FastProgressingRule

__all__ = ["classify", "normalise_icd10", "tumor_group", "group_by_description"]


def _in_range(code: str, rng: str) -> bool:
    """`C18.7` is in `C15-C26`; `D02.2` is in `D02.1-D02.2`; `D02` is not in `D02.1`."""
    low, _, high = rng.partition("-")
    high = high or low
    return code[:len(low)] >= low and code[:len(high)] <= high


def tumor_group(icd10: str | None, policy: ClassificationPolicy) -> str | None:
    code = normalise_icd10(icd10)
    if not code:
        return None
    for rule in policy.tumor_groups:
        if any(_in_range(code, r) for r in rule.ranges):
            return rule.group
    return None


@cache
def _pattern(term: str) -> re.Pattern[str]:
    """Whole words; an ALL-CAPS term (an acronym such as ALL) matches case, others ignore it."""
    flags = 0 if term.isupper() else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", flags)


def _mentions(text: str | None, terms: list[str]) -> bool:
    return bool(text) and any(_pattern(t).search(text or "") for t in terms)


def group_by_description(text: str | None, policy: ClassificationPolicy) -> str | None:
    for rule in policy.synonyms:
        if _mentions(text, rule.terms):
            return rule.group
    return None


def _code_matches(code: str, listed: str) -> bool:
    """A listed code matches itself and its sub-codes (C92.0 matches C92.00, not C92.1)."""
    listed = normalise_icd10(listed) or ""
    return code == listed or ("." in listed and code.startswith(listed))


def _fast_match(rule: FastProgressingRule, code: str | None, morphology: str | None,
                text: str | None) -> str | None:
    if code is not None and any(_code_matches(code, c) for c in rule.icd10):
        return "icd10"
    if morphology is not None and morphology in rule.morphology:
        return "morphology"
    if code is None and _mentions(text, rule.terms) and not _mentions(text, rule.unless_terms):
        return "description"
    return None


def classify(sub: Submission, policy: ClassificationPolicy) -> Classification:
    diagnosis = sub.diagnosis
    code = normalise_icd10(diagnosis.icd10)
    group = tumor_group(code, policy) or group_by_description(diagnosis.description, policy)
    triage = group is None
    for rule in policy.fast_progressing:
        matched = _fast_match(rule, code, diagnosis.icd_o3_morphology, diagnosis.description)
        if matched:
            return Classification(tier="fast_progressing", tumor_group=group,
                                  fast_progressing=True, rule=rule.rule, needs_triage=triage,
                                  matched_on=matched)
    if sub.urgent and sub.urgent_reason:
        return Classification(tier="fast_progressing", tumor_group=group, fast_progressing=True,
                              rule=policy.urgent_marked_rule, needs_triage=triage,
                              matched_on="urgent")
    return Classification(tier="standard", tumor_group=group, fast_progressing=False,
                          rule="default_standard" if group else "unclassified",
                          needs_triage=triage, matched_on="default" if group else None)
