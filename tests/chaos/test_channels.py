"""A slow or failing channel holds up nothing else: with the SMTP server hanging past notify's
timeout and the submitting system's webhook receiver down, cases are still opened, matched
and clocked, SMS pages still go out, and notify's consumers keep planning every delivery; when
the channels come back every held message is delivered once (by its id) and every invariant
of the chaos test holds. (Notify's own tests cover a slow webhook beside email and SMS, and
SMTP 4xx/5xx: tests/integration/test_notify_delivery.py, tests/e2e/test_notify_flow.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ..support.waiting import eventually
from .harness import SOURCE, Load, Settings, chaos_rig, settle_and_check, submit_all

pytestmark = pytest.mark.e2e


async def test_a_hanging_smtp_server_and_a_dead_webhook_receiver_hold_up_nothing_else(
    tmp_path_factory: pytest.TempPathFactory, artifacts: Path,
) -> None:
    settings = Settings.from_env(cases=30, rate=10.0, chaos=False, fast_share=0.5,
                                 opinion_share=0.0, turnaround_s=20)
    with chaos_rig(tmp_path_factory.mktemp("channels"), artifacts / "logs-channels",
                   settings) as rig:
        rig.smtp.mailbox.delay_s = 60.0  # answers DATA after notify's 5 s timeout
        rig.hooks.stop()  # connection refused
        load = Load()
        await submit_all(rig, load)
        db = await asyncpg.connect(rig.system.infra.database_url)
        try:
            async def everything_else_flows() -> dict[str, Any] | None:
                row = await db.fetchrow(
                    "SELECT (SELECT count(*) FROM intake.cases WHERE source = $1) AS opened,"
                    " (SELECT count(*) FROM sla.clocks WHERE started_at IS NOT NULL) AS clocks,"
                    " (SELECT count(*) FROM matcher.seats WHERE status = 'waiting'"
                    "  AND unmatched_reasons IS NULL) AS undecided,"
                    " (SELECT count(*) FROM notify.deliveries WHERE channel = 'sms')"
                    "  AS pages,"
                    " (SELECT count(*) FILTER (WHERE channel = 'sms' AND status <> 'sent')"
                    "  FROM notify.deliveries) AS pages_waiting,"
                    " (SELECT count(*) FILTER (WHERE channel IN ('email', 'webhook')"
                    "  AND status = 'retrying') FROM notify.deliveries) AS held,"
                    " (SELECT count(*) FILTER (WHERE channel IN ('email', 'webhook')"
                    "  AND status = 'sent') FROM notify.deliveries) AS leaked",
                    SOURCE)
                done = (row["opened"] == settings.cases and row["clocks"] == settings.cases
                        and row["undecided"] == 0 and row["pages"] > 0
                        and row["pages_waiting"] == 0 and row["held"] > 0)
                return dict(row) if done else None

            during = await eventually(everything_else_flows, timeout=120, interval=1,
                                      what="cases, clocks and SMS to flow past the faults")
        finally:
            await db.close()
        assert during["leaked"] == 0, "email or webhook got through a dead channel"
        rig.smtp.mailbox.delay_s = 0.0
        rig.hooks.start()
        checks = await settle_and_check(rig, load)
    print(f"\nchannels: during the faults {during}\n" + "\n".join(
        f"{c.name}: {c.checked} checked, {len(c.violations)} violated {c.note}" for c in checks))
    broken = {c.name: c.violations[:5] for c in checks if c.violations}
    assert broken == {}
