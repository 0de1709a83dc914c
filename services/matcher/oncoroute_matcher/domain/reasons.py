"""Why nobody could take a seat, in words operators read."""

from __future__ import annotations

WORDS = {
    "inactive": "inactive",
    "other_tumor_group": "of another tumour group",
    "other_role": "of another role",
    "already_on_case_or_declined": "already on the case, or declined it",
    "conflict_of_interest": "conflict of interest",
    "not_licensed_in_region": "not licensed in the patient's country",
    "no_report_language": "not speaking the report language",
    "not_expert_for_cancer_type": "not expert in this cancer type",
    "on_call_reserve": "on-call reserve (fast-progressing cases only)",
    "at_capacity": "at capacity",
    "on_leave": "on leave",
    "outside_working_hours": "outside working hours",
    "no_specialist_in_group": "nobody in the tumour group",
    "unclassified_case": "the case has no tumour group (needs triage)",
}

WHOLE = frozenset({"no_specialist_in_group", "unclassified_case"})  # not counts of people


def describe(reasons: dict[str, int]) -> str:
    """`{"at_capacity": 3, "on_leave": 1}` -> `3 at capacity, 1 on leave` (largest first)."""
    parts = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(WORDS[k] if k in WHOLE else f"{n} {WORDS.get(k, k.replace('_', ' '))}"
                     for k, n in parts)
