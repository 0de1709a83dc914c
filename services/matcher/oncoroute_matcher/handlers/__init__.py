"""What happens when a message or a request arrives: load, decide (domain), store and emit,
in one transaction."""

from .actions import ActionRefused, Opinion, act, expire, transition
from .cases import on_case_closed, on_case_opened, on_case_updated
from .dispatch import Outcome, dispatch_seat
from .reassign import reassign

__all__ = ["ActionRefused", "Opinion", "Outcome", "act", "dispatch_seat", "expire",
           "on_case_closed", "on_case_opened", "on_case_updated", "reassign", "transition"]
