"""An assignment's lifecycle: which action is allowed in which state, and what follows.

    offered --accept--> accepted --opinion--> completed
    offered --opinion--> completed          (submitting implies accepting)
    offered --decline--> declined           (the seat waits for the next best reviewer)
    offered --expire---> expired            (no answer in the tier's acceptance timeout)
    offered | accepted --release--> released (case withdrawn, or an operator reassigns)
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    COMPLETED = "completed"
    RELEASED = "released"


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    OPINION = "opinion"
    EXPIRE = "expire"
    RELEASE = "release"


LIVE = frozenset({Status.OFFERED, Status.ACCEPTED})  # holding a unit of capacity
_NEXT: dict[tuple[Status, Action], Status] = {
    (Status.OFFERED, Action.ACCEPT): Status.ACCEPTED,
    (Status.OFFERED, Action.DECLINE): Status.DECLINED,
    (Status.OFFERED, Action.EXPIRE): Status.EXPIRED,
    (Status.OFFERED, Action.OPINION): Status.COMPLETED,
    (Status.ACCEPTED, Action.OPINION): Status.COMPLETED,
    (Status.OFFERED, Action.RELEASE): Status.RELEASED,
    (Status.ACCEPTED, Action.RELEASE): Status.RELEASED,
}
# The event each transition emits on `assignments`.
EVENT: dict[Status, str] = {
    Status.ACCEPTED: "assignment.accepted",
    Status.DECLINED: "assignment.declined",
    Status.EXPIRED: "assignment.expired",
    Status.COMPLETED: "assignment.completed",
    Status.RELEASED: "assignment.released",
}


class LifecycleError(ValueError):
    """The action is not allowed in the assignment's current state."""

    def __init__(self, status: str, action: Action) -> None:
        super().__init__(f"cannot {action.value} an assignment that is {status}")
        self.status, self.action = status, action


def next_status(status: str, action: Action) -> Status:
    try:
        return _NEXT[(Status(status), action)]
    except (KeyError, ValueError):
        raise LifecycleError(status, action) from None


def frees_capacity(before: str, after: Status) -> bool:
    return Status(before) in LIVE and after not in LIVE


def seat_status_after(after: Status) -> str:
    """What the seat becomes: back to waiting when its reviewer dropped out."""
    if after in (Status.DECLINED, Status.EXPIRED, Status.RELEASED):
        return "waiting"
    return after.value
