"""When to try a failed delivery again. Pure."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def next_attempt(now: datetime, attempts: int, base_s: float = 1.0, cap_s: float = 300.0,
                 rng: random.Random | None = None) -> datetime:
    """Exponential backoff with full jitter."""
    ceiling = min(cap_s, base_s * 2 ** max(attempts - 1, 0))
    return now + timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))
