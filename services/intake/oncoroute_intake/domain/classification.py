"""Decide a case's tumour group and tier from the policy. Pure: no I/O."""

from __future__ import annotations

from oncoroute_shared.contracts.cases import Classification
from oncoroute_shared.contracts.submissions import Submission

from .policy import ClassificationPolicy


def normalise_icd10(code: str | None) -> str | None:
    """`c92.00` / `C9200` -> `C92.00`."""
    if not code:
        return None
    code = code.strip().upper().replace(" ", "")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def _in_range(category: str, rng: str) -> bool:
    low, _, high = rng.partition("-")
    return low <= category <= (high or low)


def tumor_group(icd10: str | None, policy: ClassificationPolicy) -> str | None:
    code = normalise_icd10(icd10)
    if not code:
        return None
    category = code[:3]
    for rule in policy.tumor_groups:
        if any(_in_range(category, r) for r in rule.ranges):
            return rule.group
    return None


def _code_matches(code: str, listed: str) -> bool:
    """A listed code matches itself and its sub-codes (C92.0 matches C92.00, not C92.1)."""
    listed = normalise_icd10(listed) or ""
    return code == listed or code.startswith(listed) and "." in listed


def classify(sub: Submission, policy: ClassificationPolicy) -> Classification:
    code = normalise_icd10(sub.diagnosis.icd10)
    group = tumor_group(code, policy)
    for rule in policy.fast_progressing:
        by_code = code is not None and any(_code_matches(code, c) for c in rule.icd10)
        by_morph = sub.diagnosis.icd_o3_morphology in rule.morphology
        if by_code or by_morph:
            return Classification(tier="fast_progressing", tumor_group=group,
                                  fast_progressing=True, rule=rule.rule,
                                  needs_triage=group is None)
    if sub.urgent and sub.urgent_reason:
        return Classification(tier="fast_progressing", tumor_group=group, fast_progressing=True,
                              rule=policy.urgent_marked_rule, needs_triage=group is None)
    return Classification(tier="standard", tumor_group=group, fast_progressing=False,
                          rule="default_standard" if group else "unclassified",
                          needs_triage=group is None)
