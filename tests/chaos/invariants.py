"""The promise, checked over a whole history the way Jepsen's checkers do: every case opened
exactly once, every seat filled or visibly unmatched and never over capacity or filled twice,
every clock started once and every due step fired exactly once, no notification delivered
twice, every outbox drained, nothing valid dead-lettered, every event consumed.

`History` is what a run leaves behind (topics read from the beginning, the services' tables,
what the receivers got); `check(history)` returns one `Check` per invariant with how many
things it looked at and which broke it. Pure: no I/O here."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oncoroute_shared.envelope import CloudEvent

LIVE = ("offered", "accepted", "completed")
ENDED = ("declined", "expired", "released")
NOT_TIMER_STEPS = {"met", "paused", "resumed"}


@dataclass
class History:
    submitted: set[tuple[str, str]]  # (source, external_id) the submitters saw accepted
    withdrawn: set[str]  # case ids the test withdrew
    events: dict[str, list[CloudEvent]]  # topic -> every record on it, decoded
    dead_letters: list[dict[str, str]]  # headers of every record on dead-letters
    cases: list[dict[str, Any]]  # intake.cases
    seats: list[dict[str, Any]]  # matcher.seats
    assignments: list[dict[str, Any]]  # matcher.assignments
    specialists: list[dict[str, Any]]  # matcher.specialists
    clocks: list[dict[str, Any]]  # sla.clocks
    timers: list[dict[str, Any]]  # sla.timers
    deliveries: list[dict[str, Any]]  # notify.deliveries
    outbox: dict[str, int]  # schema -> rows not yet published
    inbox: set[tuple[str, str]]  # (consumer, event id) of every schema
    consumers: dict[str, list[tuple[str, set[str]]]]  # topic -> [(consumer, short types)]
    received: Counter[str]  # delivery id -> times a receiver got it (email, webhook, sms)
    cutoff: datetime  # timers due before this must have fired
    short: Any = None  # full type -> short type


@dataclass
class Check:
    name: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    note: str = ""

    def expect(self, ok: bool, what: str) -> None:
        self.checked += 1
        if not ok:
            self.violations.append(what)


def _of(events: list[CloudEvent], suffix: str) -> list[CloudEvent]:
    return [e for e in events if e.type.endswith(f".{suffix}.v1")]


def _distinct(events: list[CloudEvent]) -> dict[str, CloudEvent]:
    """By event id: a record published twice (relay killed before deleting its outbox row) is
    one event; consumers' inboxes make the second copy a no-op."""
    return {e.id: e for e in events}


def opened_once(h: History) -> Check:
    c = Check("every submission opened exactly once")
    rows = Counter((r["source"], r["external_id"]) for r in h.cases)
    opened = defaultdict(set)
    for e in _distinct(_of(h.events["cases"], "case.opened")).values():
        opened[e.data["case_id"]].add(e.id)
    by_key = {(r["source"], r["external_id"]): r["case_id"] for r in h.cases}
    for key in sorted(h.submitted):
        case_id = by_key.get(key)
        c.expect(rows[key] == 1 and case_id is not None and len(opened[case_id]) == 1,
                 f"{key}: {rows[key]} rows, {len(opened.get(case_id or '', ()))} case.opened")
    rejected = _of(h.events["cases"], "case.rejected")
    c.expect(not rejected, f"{len(rejected)} valid submissions rejected")
    return c


def seats_filled_or_unmatched(h: History) -> Check:
    c = Check("every seat filled or visibly unmatched")
    unmatched = {(e.data["case_id"], e.data["seat"])
                 for e in _of(h.events["assignments"], "case.unmatched")}
    closed = {r["case_id"] for r in h.cases if r["status"] == "closed"}
    for s in h.seats:
        key = (s["case_id"], s["seat"])
        if s["case_id"] in closed:
            c.expect(s["status"] in ("released", "completed"), f"{key} of a closed case is "
                     f"{s['status']}")
        elif s["status"] == "waiting":
            c.expect(key in unmatched and s["unmatched_reasons"] is not None,
                     f"{key} waits without case.unmatched")
        else:
            c.expect(s["status"] in LIVE, f"{key} is {s['status']}")
    opened = {r["case_id"] for r in h.cases}
    with_seats = {s["case_id"] for s in h.seats}
    c.expect(opened <= with_seats, f"{len(opened - with_seats)} cases without seats")
    c.note = f"{sum(s['status'] == 'waiting' for s in h.seats)} unmatched at the end"
    return c


def within_capacity(h: History) -> Check:
    c = Check("no specialist over capacity, load equals live offers")
    live = Counter(a["specialist_id"] for a in h.assignments if a["status"] in ("offered",
                                                                                   "accepted"))
    for s in h.specialists:
        c.expect(s["active_count"] <= s["max_active"], f"{s['id']} {s['active_count']}/"
                 f"{s['max_active']}")
        c.expect(s["active_count"] == live[s["id"]], f"{s['id']} counts {s['active_count']}, "
                 f"holds {live[s['id']]}")
    return c


def never_filled_twice(h: History) -> Check:
    """Per seat: at most one live assignment, and every offer beyond the first follows one
    that ended (declined, expired, released); per assignment: one specialist."""
    c = Check("no seat filled twice")
    rows = defaultdict(list)
    for a in h.assignments:
        rows[(a["case_id"], a["seat"])].append(a)
    offers: dict[tuple[str, str], set[str]] = defaultdict(set)
    who: dict[str, set[str]] = defaultdict(set)
    for e in _of(h.events["assignments"], "assignment.offered"):
        offers[(e.data["case_id"], e.data["seat"])].add(e.data["assignment_id"])
        who[e.data["assignment_id"]].add(e.data["reviewer"]["id"])
    for key in set(rows) | set(offers):
        held = rows.get(key, [])
        live = [a for a in held if a["status"] in LIVE]
        ended = [a for a in held if a["status"] in ENDED]
        c.expect(len(live) <= 1, f"{key}: {len(live)} live assignments")
        c.expect(len(offers[key]) <= len(ended) + 1, f"{key}: {len(offers[key])} offers, "
                 f"{len(ended)} ended")
        c.expect(offers[key] == {a["assignment_id"] for a in held},
                 f"{key}: offered events and rows differ")
    c.expect(all(len(s) == 1 for s in who.values()), "an assignment named two specialists")
    return c


def clocks_started_once(h: History) -> Check:
    """Every case has a clock, started exactly once; or, when its opinion reached sla before
    its `case.opened` did (topics are consumed independently), met at once, never started."""
    c = Check("every clock started exactly once")
    started, met = defaultdict(set), defaultdict(set)
    for e in _of(h.events["sla-events"], "sla.started"):
        started[e.data["case_id"]].add(e.id)
    for e in _of(h.events["sla-events"], "sla.met"):
        met[e.data["case_id"]].add(e.id)
    clocks = {r["case_id"]: r for r in h.clocks}
    early = 0
    for r in h.cases:
        case_id = r["case_id"]
        clock = clocks.get(case_id)
        if len(started[case_id]) == 0 and clock and clock["state"] == "met" and met[case_id]:
            early += 1
            continue
        c.expect(len(started[case_id]) == 1 and clock is not None
                 and clock["started_at"] is not None,
                 f"{case_id}: started {len(started[case_id])} times")
    c.note = f"{early} met before sla saw case.opened (the opinion came first)" if early else ""
    return c


def steps_fired_once(h: History) -> Check:
    c = Check("every due step fired exactly once")
    fired: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in h.events["sla-events"]:
        step = e.data.get("step") if isinstance(e.data, dict) else None
        if step and step not in NOT_TIMER_STEPS:
            fired[(e.data["case_id"], step)].add(e.id)
    timers = {(t["case_id"], t["step"]): t for t in h.timers}
    for key, t in timers.items():
        if t["fired_at"] is not None:
            c.expect(len(fired[key]) == 1, f"{key}: announced {len(fired[key])} times")
        else:
            c.expect(t["due_at"] > h.cutoff, f"{key}: due {t['due_at']}, never fired")
    for key, ids in fired.items():
        c.expect(key in timers and len(ids) == 1, f"{key}: {len(ids)} events, "
                 f"{'no' if key not in timers else 'a'} timer")
    c.note = f"{sum(t['fired_at'] is not None for t in h.timers)} steps fired"
    return c


def delivered_once(h: History) -> Check:
    c = Check("no notification delivered twice (per event, recipient, channel)")
    per = Counter((d["source_event_id"], d["recipient"], d["channel"]) for d in h.deliveries)
    c.expect(all(n == 1 for n in per.values()), "two deliveries of one event to one recipient")
    sent = {d["delivery_id"] for d in h.deliveries if d["channel"] in ("email", "webhook",
                                                                       "sms")}
    for d in h.deliveries:
        c.expect(d["status"] == "sent", f"delivery {d['delivery_id']} {d['status']}")
        if d["delivery_id"] in sent:
            c.expect(h.received[d["delivery_id"]] >= 1, f"{d['delivery_id']} never arrived")
    stray = set(h.received) - {d["delivery_id"] for d in h.deliveries}
    c.expect(not stray, f"{len(stray)} messages arrived that notify did not record")
    again = sum(n - 1 for i, n in h.received.items() if i in sent and n > 1)
    c.note = (f"{len(h.deliveries)} deliveries; {again} sent again under the same id after a "
              "kill mid-send (a receiver drops them by Message-ID / webhook-id)")
    return c


def outbox_drained(h: History) -> Check:
    c = Check("every outbox drained")
    for schema, n in sorted(h.outbox.items()):
        c.expect(n == 0, f"{schema}.outbox holds {n}")
    return c


REFUSED_ACTION = re.compile(r"permanent: conflict: assignment (\S+): cannot \w+ an assignment"
                            r" that is released")


def nothing_valid_dead_lettered(h: History) -> Check:
    """Every dead letter is a violation, except a reviewer's action on an assignment released
    because the test withdrew its case: the reviewers' client saw the offer before the
    withdrawal reached the matcher, and refusing the action is the right answer."""
    c = Check("nothing valid in dead-letters")
    c.checked = sum(len(v) for v in h.events.values())
    case_of = {a["assignment_id"]: a["case_id"] for a in h.assignments}
    refused = 0
    for d in h.dead_letters:
        error = d.get("x-dead-letter-error", "")
        m = REFUSED_ACTION.fullmatch(error)
        if (d.get("x-dead-letter-consumer") == "matcher.specialist-actions" and m
                and case_of.get(m.group(1)) in h.withdrawn):
            refused += 1
            continue
        c.violations.append(f"{d.get('x-dead-letter-consumer')}: {error[:80]}")
    if refused:
        c.note = f"{refused} reviewer actions refused on offers released by a withdrawal"
    return c


def every_event_consumed(h: History) -> Check:
    """Each event on a topic reached every consumer that handles its type (inbox row)."""
    c = Check("every event consumed by every subscriber")
    for topic, subs in h.consumers.items():
        for e in _distinct(h.events.get(topic, [])).values():
            short = h.short(e.type) if h.short else None
            for consumer, handled in subs:
                if short in handled:
                    c.expect((consumer, e.id) in h.inbox, f"{consumer} never took {e.id}")
    return c


CHECKS = (opened_once, seats_filled_or_unmatched, within_capacity, never_filled_twice,
          clocks_started_once, steps_fired_once, delivered_once, outbox_drained,
          nothing_valid_dead_lettered, every_event_consumed)


def check(h: History) -> list[Check]:
    return [f(h) for f in CHECKS]


def table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'invariant':{width}s}  {'checked':>8s}  {'violated':>8s}  note",
             f"{'-' * width}  {'-' * 8}  {'-' * 8}  ----"]
    lines += [f"{c.name:{width}s}  {c.checked:8d}  {len(c.violations):8d}  {c.note}"
              for c in checks]
    return "\n".join(lines)
