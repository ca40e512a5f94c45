"""The team's numbers on the App Home: a manager sees their team's, a CSM their own, worst first.

The bulk case: 200 onboardings under one manager, created in one go. Schedules repeat behind, at
risk, on track, live (50 each); onboarding i's latest health score is (i * 37) % 100, so the ten
worst shown are the ten behind ones (i = 0, 4, 8, ...) with the lowest scores.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlmodel import Session

from bot.core.domain import Role, Side
from bot.core.ids import Action
from bot.core.payloads import TeamPage
from bot.planning.playbook import load_playbooks
from bot.value.portfolio import numbers
from bot.value.team_home import team_of
from store.models import HealthSnapshot, Onboarding, Person
from tests.conftest import VENDOR_CSM, VENDOR_MANAGER
from tests.test_vendor_views import section_texts

SCHEDULES = ("behind", "at_risk", "on_track", "live")
OTHER_MANAGER, OTHER_CSM = "U0OTHERMGR", "U0CSM2"
NOW = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)


def _health(i: int) -> int:
    return (i * 37) % 100


def _onboarding(i: int) -> Onboarding:
    return Onboarding(
        customer_name=f"Customer {i:03d}", tier=2, acv_cents=1_000_000, playbook_key="standard_30",
        timezone="Europe/Berlin", contract_signed_on=date(2026, 5, 1), target_go_live_on=date(2026, 7, 1),
        schedule=SCHEDULES[i % 4], status="live" if i % 4 == 3 else "active", stage="setup",
        shared_channel_id=f"C{i:05d}", created_by=VENDOR_CSM,
    )  # fmt: skip


def _book(engine, n: int, *, manager: str = VENDOR_MANAGER, first: int = 0) -> list[int]:
    """`n` onboardings under `manager`, numbered from `first`; every third one run by VENDOR_CSM."""
    with Session(engine) as s:
        obs = [
            Onboarding(
                customer_name=f"Customer {i:03d}",
                tier=2,
                acv_cents=1_000_000,
                playbook_key="standard_30",
                timezone="Europe/Berlin",
                contract_signed_on=date(2026, 5, 1),
                target_go_live_on=date(2026, 7, 1),
                schedule=SCHEDULES[i % 4],
                status="live" if i % 4 == 3 else "active",
                stage="setup",
                shared_channel_id=f"C{i:05d}",
                created_by=VENDOR_CSM,
            )
            for i in range(first, first + n)
        ]
        s.add_all(obs)
        s.flush()
        rows: list = []
        for i, ob in enumerate(obs, start=first):
            csm = VENDOR_CSM if i % 3 == 0 else OTHER_CSM
            rows += [
                Person(onboarding_id=ob.id, side=Side.VENDOR, role=Role.IMPLEMENTATION_CSM, name=f"CSM {csm}",
                       slack_user_id=csm),
                Person(onboarding_id=ob.id, side=Side.VENDOR, role=Role.CSM_MANAGER, name="Manager",
                       slack_user_id=manager),
                HealthSnapshot(onboarding_id=ob.id, day=date(2026, 5, 31), score=_health(i), parts={}),
            ]  # fmt: skip
        s.add_all(rows)
        s.commit()
        return [ob.id for ob in obs]


def open_home(harness, user: str) -> dict:
    def theirs(call) -> bool:
        return call.args["user_id"] == user

    before = len([c for c in harness.fake.calls_to("views.publish") if theirs(c)])
    harness.slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
    return harness.fake.wait_for("views.publish", theirs, count=before + 1).args["view"]


def _team_lines(view: dict, title: str) -> list[str]:
    blocks = view["blocks"]
    start = next(i for i, blk in enumerate(blocks) if blk["type"] == "header" and blk["text"]["text"] == title)
    lines = []
    for blk in blocks[start + 1 :]:
        if blk["type"] in ("divider", "header"):
            break
        if blk["type"] == "section" and not blk["text"]["text"].startswith("…and"):
            lines.append(blk["text"]["text"])
    return lines


def test_a_managers_home_shows_the_team_worst_first_within_slacks_limits(harness):
    _book(harness.engine, 200)
    _book(harness.engine, 5, manager=OTHER_MANAGER, first=200)  # another manager's team

    home = open_home(harness, VENDOR_MANAGER)

    assert len(home["blocks"]) <= 100  # and the harness checks every block against Slack's limits
    [summary] = [t for t in section_texts(home) if t.startswith("*200 onboardings*")]
    assert "50 on track · 50 at risk · 50 behind · 50 live" in summary
    shown = _team_lines(home, "My team's numbers")[1:]  # after the numbers themselves
    behind = sorted(range(0, 200, 4), key=lambda i: (_health(i), i))[:10]
    assert len(shown) == 10
    for text, i in zip(shown, behind, strict=True):
        assert text.startswith(f"<#C{i:05d}> *Customer {i:03d}* · Behind · Setup · health {_health(i)}"), text
    assert [int(t.split("health ")[1].split(" ")[0]) for t in shown] == sorted(_health(i) for i in behind)
    said = json.dumps(home, ensure_ascii=False)
    assert "…and 190 more" in said and _button(home, Action.TEAM_ALL) == TeamPage(Role.CSM_MANAGER, 0).encode()
    assert "Customer 200" not in said


def test_at_risk_comes_after_behind_and_a_csm_sees_their_own(harness):
    _book(harness.engine, 6)  # 0, 4 behind; 1, 5 at risk; 2 on track; 3 live. VENDOR_CSM runs 0 and 3.

    manager = _team_lines(open_home(harness, VENDOR_MANAGER), "My team's numbers")[1:]
    # behind: 0 (health 0), 4 (48); at risk: 1 (37), 5 (85); then 2 (74) and 3 (11) by health
    assert [t.split(" ")[0] for t in manager] == [f"<#C0000{i}>" for i in (0, 4, 1, 5, 3, 2)]
    assert [t.split(" · ")[1] for t in manager] == ["Behind", "Behind", "At risk", "At risk", "Live", "On track"]
    assert [int(t.split("health ")[1].split(" ")[0]) for t in manager[:2]] == [0, 48]

    csm = open_home(harness, VENDOR_CSM)
    mine = _team_lines(csm, "My onboardings' numbers")
    assert mine[0].startswith("*2 onboardings*") and "1 behind · 1 live" in mine[0]
    assert [t.split(" ")[0] for t in mine[1:]] == ["<#C00000>", "<#C00003>"]
    assert "My team's numbers" not in json.dumps(csm)


def _statements(engine, run) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_team_and_the_metrics_are_read_in_a_fixed_number_of_statements(clean_db):
    playbooks = load_playbooks(None)
    counts = []
    for n in (4, 40):
        _book(clean_db, n, first=1000 + len(counts) * 100)
        counts.append(
            (
                _statements(clean_db, lambda: numbers(clean_db, NOW, playbooks)),
                _statements(clean_db, lambda: team_of(clean_db, VENDOR_MANAGER, NOW, playbooks)),
            )
        )
    assert counts[0] == counts[1], counts


def _button(view: dict, action_id: str) -> str:
    for blk in view["blocks"]:
        elements = [blk["accessory"]] if "accessory" in blk else blk.get("elements", [])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button")


def test_show_all_opens_every_onboarding_worst_first_a_page_at_a_time(harness):
    _book(harness.engine, 90)  # 23 behind (0, 4, ..., 88), 23 at risk, 22 on track, 22 live
    value = _button(open_home(harness, VENDOR_MANAGER), Action.TEAM_ALL)
    harness.slack.block_action(Action.TEAM_ALL, user_id=VENDOR_MANAGER, value=value)
    opened = harness.fake.wait_for("views.open")
    first = opened.args["view"]
    lines = section_texts(first)
    assert len(lines) == 40 and "Page 1 of 3, 90 onboardings" in json.dumps(first)
    behind = sorted(range(0, 90, 4), key=lambda i: (_health(i), i))
    assert [t.split(" ")[0] for t in lines[:23]] == [f"<#C{i:05d}>" for i in behind]
    assert all(" · At risk · " in t for t in lines[23:40])

    nxt = f"{Action.TEAM_PAGE}.next"
    harness.slack.block_action(nxt, user_id=VENDOR_MANAGER, value=_button(first, nxt), view=opened.response["view"])
    last_page = TeamPage.decode(_button(first, nxt))
    assert last_page.page == 1
    updated = harness.fake.wait_for("views.update").args
    assert updated["view_id"] == opened.response["view"]["id"]
    second = section_texts(updated["view"])
    assert len(second) == 40 and all(" · Behind · " not in t for t in second)

    # someone else's click carrying the same value sees only their own onboardings (none here)
    harness.slack.block_action(Action.TEAM_ALL, user_id="U0NOBODY", value=value)
    said = harness.fake.wait_for("response_url").args
    assert "no onboardings in that role" in said["text"]
    assert len(harness.fake.calls_to("views.open")) == 1
