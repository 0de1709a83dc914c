"""Every Kafka topic the system uses, in one place (the public contract)."""

from enum import StrEnum


class Topic(StrEnum):
    CASE_SUBMISSIONS = "case-submissions"
    CASES = "cases"
    SPECIALIST_ACTIONS = "specialist-actions"
    ASSIGNMENTS = "assignments"
    SLA_EVENTS = "sla-events"
    NOTIFICATIONS = "notifications"
    DEAD_LETTERS = "dead-letters"


ALL_TOPICS: tuple[Topic, ...] = tuple(Topic)
