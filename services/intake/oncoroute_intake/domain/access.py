"""Who may do what: submitting systems act for their own `source`, operators for all. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Role = Literal["submitter", "operator"]
KEY_PREFIX = "ork_"


def key_hash(key: str) -> str:
    """Keys are 256-bit random tokens, so one SHA-256 is enough (no password stretching)."""
    return hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()


def key_id_of(key: str) -> str | None:
    """`ork_<key id>_<secret>` -> `<key id>`; None for anything else."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(KEY_PREFIX):].partition("_")
    return key_id if sep and key_id and secret else None


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    source: str | None

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    def may_submit_for(self, source: str) -> bool:
        return self.operator or self.source == source

    def may_read(self, case_source: str) -> bool:
        return self.operator or self.source == case_source

    def visible_source(self, requested: str | None) -> str | None:
        """The `source` filter a listing must use: a submitter sees only its own cases."""
        return requested if self.operator else self.source
