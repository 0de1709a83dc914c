"""Business metrics every service may record. Labels are bounded sets (tier, tumour group,
level, channel, outcome, consumer): never case ids, names or other personal values."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_DURATION_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
                     24 * 3600, 36 * 3600, 48 * 3600, 72 * 3600, float("inf"))

CASES_OPENED = Counter("oncoroute_cases_opened_total", "Cases opened",
                       ["tier", "tumor_group"])
CASES_REJECTED = Counter("oncoroute_cases_rejected_total", "Submissions rejected", ["channel"])
OPEN_CASES = Gauge("oncoroute_open_cases", "Open cases by tier and SLA state", ["tier", "state"])
TIME_TO_FIRST_OFFER = Histogram("oncoroute_time_to_first_offer_seconds",
                                "Case opened to first offer", ["tier"], buckets=_DURATION_BUCKETS)
TIME_TO_ACCEPTANCE = Histogram("oncoroute_time_to_acceptance_seconds",
                               "Offer to acceptance", ["tier"], buckets=_DURATION_BUCKETS)
TURNAROUND = Histogram("oncoroute_turnaround_seconds", "Clock start to opinion ready",
                       ["tier"], buckets=_DURATION_BUCKETS)
SLA_WARNINGS = Counter("oncoroute_sla_warnings_total", "SLA warnings", ["tier", "tumor_group"])
SLA_ESCALATIONS = Counter("oncoroute_sla_escalations_total", "SLA escalations",
                          ["tier", "level"])
SLA_BREACHES = Counter("oncoroute_sla_breaches_total", "SLA breaches", ["tier", "tumor_group"])
SLA_FIRING_LATENESS = Histogram("oncoroute_sla_firing_lateness_seconds",
                                "How late a clock step fired",
                                buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300,
                                         float("inf")))
UNMATCHED_SEATS = Gauge("oncoroute_unmatched_seats", "Seats waiting for an eligible reviewer",
                        ["tier"])
OLDEST_UNMATCHED_SEAT = Gauge("oncoroute_oldest_unmatched_seat_seconds",
                              "Age of the oldest waiting seat", ["tier"])
REVIEWER_UTILISATION = Gauge("oncoroute_reviewer_utilisation_ratio",
                             "Active assignments over capacity", ["tumor_group"])
FAST_PROGRESSING_UNACCEPTED = Gauge(
    "oncoroute_fast_progressing_unaccepted_seconds",
    "Age of the oldest fast-progressing case without an accepted reviewer")
NOTIFICATIONS = Counter("oncoroute_notifications_total", "Deliveries by channel and outcome",
                        ["channel", "outcome"])
OUTBOX_BACKLOG = Gauge("oncoroute_outbox_backlog", "Events committed but not yet published")
OUTBOX_AGE = Gauge("oncoroute_outbox_oldest_age_seconds",
                   "Age of the oldest unpublished event (0 when empty)")
OUTBOX_PARKED = Gauge("oncoroute_outbox_parked",
                      "Events the producer refused for good (too large, not a record), kept in "
                      "outbox_parked until an operator requeues them")
