"""SQL for the roster and absences (matcher's schema only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import asyncpg

from ..domain.availability import Interval
from ..domain.ranking import SeatNeed
from ..domain.roster import Specialist

_COLUMNS = ("id, name, email, phone, roles, tumor_groups, cancer_types, max_active, "
            "active_count, languages, regions, institution, timezone, working_hours, on_call, "
            "active, last_assigned_at")
_FIELDS = ("id", "name", "email", "phone", "roles", "tumor_groups", "cancer_types", "max_active",
           "languages", "regions", "institution", "timezone", "working_hours", "on_call",
           "active")


_ALL_FIELDS = frozenset(Specialist.model_fields)


def _specialist(row: asyncpg.Record) -> Specialist:
    return _from_values(dict(row))


def _from_values(values: dict[str, object]) -> Specialist:
    """Rows were validated on the way in. A decision loads hundreds of them, so this does what
    `model_construct` does, without its per-field work (7 us -> 1 us a row)."""
    s = Specialist.__new__(Specialist)
    object.__setattr__(s, "__dict__", values)
    object.__setattr__(s, "__pydantic_fields_set__", set(_ALL_FIELDS))
    object.__setattr__(s, "__pydantic_extra__", None)
    object.__setattr__(s, "__pydantic_private__", None)
    return s


Leave = dict[str, list[Interval]]


async def candidates_with_leave(conn: asyncpg.Connection, need: SeatNeed, start: datetime,
                                end: datetime) -> tuple[list[Specialist], Leave]:
    """Those who pass the simple hard rules (a superset of the eligible: the ranking still
    checks every rule, so this filter is only for speed), each with their absences that
    overlap [start, end), in one round trip."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS},"
        " ARRAY(SELECT a.starts_at FROM absences a WHERE a.specialist_id = sp.id"
        "       AND a.starts_at < $5 AND a.ends_at > $4 ORDER BY a.starts_at) AS leave_from,"
        " ARRAY(SELECT a.ends_at FROM absences a WHERE a.specialist_id = sp.id"
        "       AND a.starts_at < $5 AND a.ends_at > $4 ORDER BY a.starts_at) AS leave_to"
        " FROM specialists sp WHERE tumor_groups @> ARRAY[$1]::text[] AND active"
        " AND (cardinality($2::text[]) = 0 OR roles && $2::text[])"
        " AND active_count < max_active AND NOT (id = ANY($3::text[]))",
        need.tumor_group, sorted(need.roles), sorted(need.excluded), start, end,
    )
    found: list[Specialist] = []
    leave: Leave = {}
    for r in rows:
        values = dict(r)
        starts, ends = values.pop("leave_from"), values.pop("leave_to")
        if starts:
            leave[values["id"]] = list(zip(starts, ends, strict=True))
        found.append(_from_values(values))
    return found, leave


async def in_group(conn: asyncpg.Connection, tumor_group: str | None) -> list[Specialist]:
    """Everyone of the tumour group: to count why none of them is eligible."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM specialists WHERE tumor_groups @> ARRAY[$1]::text[]",
        tumor_group)
    return [_specialist(r) for r in rows]


async def get(conn: asyncpg.Connection, specialist_id: str) -> Specialist | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM specialists WHERE id = $1",
                              specialist_id)
    return _specialist(row) if row else None


async def free_capacity(conn: asyncpg.Connection, specialist_ids: Iterable[str]) -> None:
    for sid in sorted(specialist_ids):  # id order: concurrent releases never deadlock
        await conn.execute("UPDATE specialists SET active_count = active_count - 1"
                           " WHERE id = $1 AND active_count > 0", sid)


async def upsert(conn: asyncpg.Connection, specialists: list[Specialist], now: datetime) -> None:
    await conn.executemany(
        f"""INSERT INTO specialists ({', '.join(_FIELDS)}, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
               phone = EXCLUDED.phone, roles = EXCLUDED.roles,
               tumor_groups = EXCLUDED.tumor_groups, cancer_types = EXCLUDED.cancer_types,
               max_active = GREATEST(EXCLUDED.max_active, specialists.active_count),
               languages = EXCLUDED.languages, regions = EXCLUDED.regions,
               institution = EXCLUDED.institution, timezone = EXCLUDED.timezone,
               working_hours = EXCLUDED.working_hours, on_call = EXCLUDED.on_call,
               active = EXCLUDED.active, updated_at = EXCLUDED.updated_at""",
        [(s.id, s.name, s.email, s.phone, s.roles, s.tumor_groups, s.cancer_types, s.max_active,
          s.languages, s.regions, s.institution, s.timezone, s.working_hours, s.on_call,
          s.active, now) for s in specialists],
    )


async def deactivate(conn: asyncpg.Connection, specialist_id: str, now: datetime) -> bool:
    done = await conn.fetchval("UPDATE specialists SET active = false, updated_at = $2"
                               " WHERE id = $1 RETURNING true", specialist_id, now)
    return bool(done)


async def all_specialists(conn: asyncpg.Connection) -> list[Specialist]:
    return [_specialist(r) for r in
            await conn.fetch(f"SELECT {_COLUMNS} FROM specialists ORDER BY id")]


async def add_absence(conn: asyncpg.Connection, specialist_id: str, starts_at: datetime,
                      ends_at: datetime, reason: str | None, now: datetime) -> str:
    absence_id = str(uuid.uuid4())
    await conn.execute(
        "INSERT INTO absences (absence_id, specialist_id, starts_at, ends_at, reason,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        absence_id, specialist_id, starts_at, ends_at, reason, now)
    return absence_id


async def absences_of(conn: asyncpg.Connection, specialist_id: str,
                      since: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT absence_id, starts_at, ends_at, reason FROM absences WHERE specialist_id = $1"
        " AND ends_at > $2 ORDER BY starts_at", specialist_id, since)


async def leave(conn: asyncpg.Connection, specialist_ids: list[str], start: datetime,
                end: datetime) -> dict[str, list[Interval]]:
    """Each listed specialist's absences that overlap [start, end)."""
    rows = await conn.fetch(
        "SELECT specialist_id, starts_at, ends_at FROM absences WHERE"
        " specialist_id = ANY($1::text[]) AND starts_at < $3 AND ends_at > $2",
        specialist_ids, start, end)
    found: dict[str, list[Interval]] = {}
    for r in rows:
        found.setdefault(r["specialist_id"], []).append((r["starts_at"], r["ends_at"]))
    return found


async def next_absence_end(conn: asyncpg.Connection, after: datetime) -> datetime | None:
    value = await conn.fetchval("SELECT min(ends_at) FROM absences WHERE ends_at > $1", after)
    return value if isinstance(value, datetime) else None
