"""The operator board, used as a person would: Debian's Chromium (headless, driven by
Playwright) against the four services as processes on their own broker and PostgreSQL, on a
seconds-scale policy (standard cases at risk after 20 s, breached after 40 s).

It signs in with an operator token, submits cases over intake's API, and without reloading
sees the case appear, turn at risk, survive sla being killed and restarted under it (the page
reconnects by itself), turn breached, and the breach arrive in the feed. The board and its
data answer 401 without the token. Screenshots go to the test artifacts (and to
docs/screenshots with ONCOROUTE_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.async_api import Browser, Page, async_playwright, expect

from oncoroute_shared.policy import DEFAULT_POLICY

from ..support.submissions import submission
from .conftest import System, isolated_system

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 90_000
SLA_POLICY: dict[str, Any] = {
    "tiers": {
        "fast_progressing": {"turnaround": "150s", "acceptance_timeout": "10m",
                             "clock_starts": "opened", "expedite": True},
        "standard": {"turnaround": "40s", "acceptance_timeout": "10m",
                     "clock_starts": "ready"},
    },
    "warnings": [{"at": 0.25, "audience": ["reviewers"]}],
    "escalation": {"levels": [{"at": 0.5, "audience": ["reviewers", "tumor_group_lead"]},
                              {"at": 0.8, "audience": ["operators_on_call"]}],
                   "repeat_every": None},
    "records_reminders": {"every": "10m", "audience": ["referring_physician"]},
}


@pytest.fixture(scope="module")
def board_system(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("board-e2e")
    doc = yaml.safe_load(Path(str(DEFAULT_POLICY)).read_text())
    doc["sla"] = SLA_POLICY
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    with isolated_system(tmp, artifacts / "logs" / "board-e2e",
                         env={"ONCOROUTE_POLICY": str(policy)}) as system:
        yield system


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def operator_token(system: System) -> str:
    return system.operator_headers["Authorization"].removeprefix("Bearer ")


async def submit(system: System, **overrides: Any) -> str:
    async with system.intake_client() as intake:
        r = await intake.post("/v1/cases", json=submission(**overrides))
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])


async def screenshot(page: Page, shots: Path, name: str) -> None:
    await page.screenshot(path=str(shots / name))  # Playwright makes the folders
    if os.environ.get("ONCOROUTE_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / name, DOCS_SHOTS / name)


async def test_board_and_its_data_answer_401_without_an_operator_token(
    board_system: System,
) -> None:
    sla = board_system.url("sla")
    async with httpx.AsyncClient(base_url=sla, timeout=30) as client:
        page = await client.get("/")
        assert page.status_code == 401 and 'name="token"' in page.text  # the sign-in form
        for path in ("/board/snapshot", "/board/stream"):
            for cookies in ({}, {"oncoroute_operator": "orot_forged"}):
                r = await client.get(path, cookies=cookies)
                assert r.status_code == 401, (path, cookies, r.status_code)
        wrong = await client.post("/board/session", data={"token": "orot_forged"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        signed = await client.post("/board/session", data={"token": operator_token(board_system)})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert (await client.get("/board/snapshot")).status_code == 200  # the cookie now
        assert (await client.get("/")).status_code == 200


async def test_an_operator_watches_a_case_turn_at_risk_then_breached_without_reloading(
    board_system: System, browser: Browser, artifacts: Path,
) -> None:
    shots = artifacts / "screenshots"
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url)
            if frame == page.main_frame else None)
    await page.goto(board_system.url("sla") + "/")
    await expect(page.get_by_role("heading", name="OncoRoute operator board")).to_be_visible()
    await page.get_by_label("Operator token").fill(operator_token(board_system))
    await page.get_by_role("button", name="Sign in").click()
    live = page.locator("#connection")
    await expect(live).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    signed_in = len(navigations)

    case_id = await submit(board_system, source="board-e2e")
    row = page.locator(f'tr[data-case="{case_id}"]')
    await expect(row).to_be_visible(timeout=WAIT_MS)
    await expect(row.locator(".badge.tier")).to_have_text("standard")
    await expect(row).to_contain_text("board-e2e")  # its source
    await expect(row.locator(".seats")).to_contain_text("offered", timeout=WAIT_MS)
    # Cases that make the board less lonely: fast-progressing, awaiting records, unmatched.
    fast = await submit(board_system, source="board-e2e",
                        diagnosis={"icd10": "C92.0", "description": "Acute myeloid leukaemia"})
    await submit(board_system, source="clinic-b", records=[])
    lung = await submit(board_system, source="clinic-b",
                        diagnosis={"icd10": "C34.9", "description": "Lung adenocarcinoma"})
    await expect(page.locator(f'tr[data-case="{fast}"] .badge.tier.fast')).to_be_visible(
        timeout=WAIT_MS)
    await expect(page.locator(f'#unmatched li[data-case="{lung}"]').first).to_be_visible(
        timeout=WAIT_MS)

    await expect(row).to_have_attribute("data-state", "at_risk", timeout=WAIT_MS)
    await expect(page.locator("#tile-at-risk")).not_to_have_text("0")

    board_system.restart("sla")  # the stream drops under the page; it must come back alone
    await expect(live).to_have_attribute("data-state", "live", timeout=WAIT_MS)

    await expect(row).to_have_attribute("data-state", "breached", timeout=WAIT_MS)
    await expect(row.locator(".countdown")).to_contain_text("over")
    breach = page.locator(f'#feed li[data-case="{case_id}"][data-step="breach"]')
    await expect(breach).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#tile-breached")).not_to_have_text("0")
    assert len(navigations) == signed_in, f"the page reloaded: {navigations}"

    await screenshot(page, shots, "board.png")
    await page.set_viewport_size({"width": 420, "height": 900})
    await expect(row).to_be_visible()
    await screenshot(page, shots, "board-narrow.png")


async def signed_in_page(system: System, browser: Browser) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(system.url("sla") + "/")
    await page.get_by_label("Operator token").fill(operator_token(system))
    await page.keyboard.press("Enter")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live",
                                                                 timeout=WAIT_MS)
    return page


async def test_an_accepted_review_and_its_opinion_show_on_the_board(
    board_system: System, browser: Browser,
) -> None:
    """Workload counts the review against the reviewer's capacity; the opinion takes the
    case off the board and into the on-time rate and median turnaround."""
    page = await signed_in_page(board_system, browser)
    case_id = await submit(board_system, source="board-e2e", reasons=["reassurance"])
    row = page.locator(f'tr[data-case="{case_id}"]')
    await expect(row.locator(".seats")).to_contain_text("offered", timeout=WAIT_MS)
    operator = {"Authorization": "Bearer " + board_system.cli(
        "specialists", "token", "--operator").stdout.strip()}
    async with httpx.AsyncClient(base_url=board_system.url("matcher"), timeout=30) as matcher:
        seats = (await matcher.get(f"/v1/cases/{case_id}/seats", headers=operator)).json()
        [offer] = [s["assignment"] for s in seats["seats"] if s["assignment"]]
        reviewer = offer["specialist_id"]
        mine = {"Authorization": "Bearer " + board_system.cli(
            "specialists", "token", reviewer).stdout.strip()}
        accepted = await matcher.post(f"/v1/assignments/{offer['assignment_id']}/accept",
                                      headers=mine)
        assert accepted.status_code == 200, accepted.text
        await expect(row.locator(".seats")).to_contain_text("accepted", timeout=WAIT_MS)
        load = page.locator("#workload .load", has=page.locator(f'[title="{reviewer}"]'))
        await expect(load).to_contain_text("/400")  # capacity from assignment.offered
        opinion = await matcher.post(
            f"/v1/assignments/{offer['assignment_id']}/opinion", headers=mine, json={
                "diagnosis": "confirmed", "treatment_plan": "agreed",
                "summary": "Agree with the first opinion.",
                "report_uri": "https://reports.example.org/board"})
        assert opinion.status_code == 200, opinion.text
    await expect(row).to_have_count(0, timeout=WAIT_MS)  # met: no longer open
    await expect(page.locator("#tile-on-time")).to_contain_text("100% of 1")
    median = page.locator("#tile-median dd").nth(1)  # standard, after fast_progressing
    await expect(median).to_contain_text("s")


async def test_filters_narrow_the_board_and_the_keyboard_reaches_them(
    board_system: System, browser: Browser,
) -> None:
    """Runs after the watch above: its cases are on the board."""
    page = await signed_in_page(board_system, browser)
    rows = page.locator("#case-rows tr[data-case]")
    await expect(rows.first).to_be_visible(timeout=WAIT_MS)
    await page.get_by_label("Source").select_option("clinic-b")
    await expect(rows).to_have_count(2, timeout=WAIT_MS)
    assert "source=clinic-b" in page.url
    await page.get_by_label("Source").select_option("")
    await page.get_by_label("State").focus()
    await page.keyboard.press("Tab")  # the keyboard moves on to the next filter
    assert await page.evaluate("document.activeElement.name") == "source"
    await page.get_by_label("Tier").select_option("fast_progressing")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    await expect(rows.first.locator(".badge.tier.fast")).to_be_visible()
