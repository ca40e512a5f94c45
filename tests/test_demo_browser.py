"""The sandbox page in a real browser (Debian's Chromium driven by Playwright): a handoff filled in
by hand, the first card, a click as the CSM, a confirmation as the customer's project owner, and a
week on the clock bringing the digest. Screenshots go to the test's temporary directory.

In CI this test fails when the browser cannot start; elsewhere it is skipped only when CI is unset
and /usr/bin/chromium is absent (`apt-get install -y chromium`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import world
from bot.demo.sandbox import Sandbox
from bot.demo.web import make_page_server

CHROMIUM = Path("/usr/bin/chromium")

if not os.environ.get("CI") and not CHROMIUM.exists():
    pytest.skip("Chromium is not installed (apt-get install -y chromium); CI runs this test", allow_module_level=True)


@pytest.fixture
def sandbox_page() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox().start()
    server = make_page_server(sandbox, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield sandbox, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        sandbox.stop()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # a missing package fails the test, as it must in CI

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)  # a busy machine; nothing here waits on a timer
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
            assert not errors, f"the page raised: {errors}"
        finally:
            browser.close()


def fill_step(page: Any, answers: dict[str, dict[str, Any]]) -> None:
    """Fill one modal step the way a person would: type, pick, tick."""
    for block, answer in answers.items():
        box = page.locator(f'#modal .bk-input-block[data-block-id="{block}"]')
        if box.count() == 0:
            continue
        kind = answer["type"]
        if kind == "plain_text_input":
            box.locator("input, textarea").fill(answer["value"])
        elif kind == "datepicker":
            box.locator("input[type=date]").fill(answer["selected_date"])
        elif kind == "checkboxes":
            for option in answer["selected_options"]:
                box.locator(f'input[type=checkbox][value="{option["value"]}"]').check()
        else:
            value = (
                answer.get("selected_user")
                or answer.get("selected_conversation")
                or (answer.get("selected_option") or {}).get("value")
                or ""
            )
            box.locator("select").select_option(value)


def act_as(page: Any, person: world.Person) -> None:
    page.select_option("#person", person.id)
    page.wait_for_function("id => document.getElementById('person').value === id", arg=person.id)


def test_a_handoff_a_click_a_confirmation_and_a_week_in_the_browser(sandbox_page, browser_page, tmp_path):
    sandbox, url = sandbox_page
    page = browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page.goto(url)
    page.wait_for_selector(".conversation")
    act_as(page, world.CSM)
    page.click("#sidebar a[data-go='C0SHARED']")

    # /onboard new opens the handoff; the four steps are filled in by hand.
    page.fill("#composer", "/onboard new")
    page.press("#composer", "Enter")
    today = sandbox.clock.now().date()
    steps = world.handoff_answers(today.isoformat(), (today.replace(day=1) + _days(75)).isoformat())
    for step, answers in zip(
        ["handoff.basics", "handoff.team", "handoff.customer", "handoff.story"], steps, strict=True
    ):
        page.wait_for_selector(f'#modal .modal-box[data-callback-id="{step}"]')
        fill_step(page, answers)
        page.screenshot(path=str(shots / f"{step}.png"))
        page.click("#modal-submit")
    page.wait_for_selector('#modal .modal-box[data-callback-id="handoff.result"]', timeout=15_000)
    page.screenshot(path=str(shots / "handoff-result.png"))
    page.click("#modal .modal-foot .bk-button")
    page.wait_for_selector("#modal", state="hidden")

    # The welcome and the first card are in the shared channel.
    shared = page.locator("section.conversation[data-channel='C0SHARED']")
    shared.get_by_text("Welcome aboard").first.wait_for()
    card = shared.locator(".msg", has=page.locator(".bk-header", has_text="Pre-kickoff"))
    card.wait_for()
    page.screenshot(path=str(shots / "first-card.png"))

    # Casey starts the first milestone.
    assert card.get_by_text("In progress").count() == 0
    card.get_by_role("button", name="Start").first.click()
    card.get_by_text("In progress").first.wait_for()

    # Casey marks the project owner's client-verified milestone done; it waits for Priya.
    owner_item = card.locator(".bk-section", has_text=world.OWNER.real_name).first
    block_id = owner_item.get_attribute("data-block-id")
    assert block_id and block_id.startswith("m.")
    milestone = block_id.split(".")[1]
    card.locator(f".bk-actions[data-block-id^='a.{milestone}.']").get_by_role("button", name="Mark done").click()
    card.locator(f".bk-actions[data-block-id^='a.{milestone}.']").get_by_role("button", name="Confirm").wait_for()

    # Priya, on the customer's team, confirms it.
    act_as(page, world.OWNER)
    card = page.locator("section.conversation[data-channel='C0SHARED'] .msg").filter(
        has=page.locator(".bk-header", has_text="Pre-kickoff")
    )
    card.locator(f".bk-actions[data-block-id^='a.{milestone}.']").get_by_role("button", name="Confirm").click()
    card.locator(".bk-context", has_text="Done:").wait_for()
    assert card.locator(f".bk-actions[data-block-id^='a.{milestone}.']").count() == 0
    page.screenshot(path=str(shots / "confirmed.png"))

    # A week later the digest is there, in Casey's direct messages.
    act_as(page, world.CSM)
    page.click("#clock button[data-step='week']")
    page.click("#sidebar a[data-go='dm']")
    page.locator("section.conversation .msg").get_by_text("Your check-in").first.wait_for(timeout=30_000)
    page.screenshot(path=str(shots / "digest.png"))

    # Casey's App Home lists the onboarding (the page sends app_home_opened; the bot publishes the view).
    page.click("#sidebar a[data-go='home']")
    page.locator("section.conversation[data-home='U0CSM']").get_by_text("Northwind Traders").first.wait_for()
    page.screenshot(path=str(shots / "app-home.png"))
    # Its "Open card" link opens the card in the shared channel.
    page.locator("section.conversation[data-home='U0CSM']").get_by_role("button", name="Open card").first.click()
    page.locator("section.conversation[data-channel='C0SHARED'] .bk-header", has_text="Pre-kickoff").wait_for()

    assert page.evaluate("BlockKit.selfCheck()") == []
    assert page.locator(".bk-unknown").count() == 0
    assert sandbox.bot_requests_ok() == []
    kinds = {s.kind for s in sandbox.requests.sent} if sandbox.requests else set()
    assert {"command", "view_submission", "block_actions", "event:app_home_opened"} <= kinds
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        [f"{s}.png" for s in ("handoff.basics", "handoff.team", "handoff.customer", "handoff.story")]
        + ["handoff-result.png", "first-card.png", "confirmed.png", "digest.png", "app-home.png"]
    )


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)
