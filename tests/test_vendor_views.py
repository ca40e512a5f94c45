"""The vendor's own views: /onboard status and list, adding a milestone, the App Home."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

from sqlalchemy import select as select_rows
from sqlalchemy import update
from sqlmodel import select

from bot.core.ids import Action, Field, View
from bot.core.notices import Audience
from bot.core.payloads import OnboardingRef
from bot.slack.delivery import deliver_due
from store import outbox
from store.db import session_scope
from store.models import ALL_TABLES, Milestone, Person
from tests.cards_helpers import card, shown, start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_TEAM, SHARED_CHANNEL, VENDOR_AE, VENDOR_CSM, VENDOR_MANAGER
from tests.handoff_flow import state, text
from tests.test_outbox import MONDAY_9, ManualClock, make_onboarding, notice


def _command(harness, text: str, **kw) -> dict:
    """Send `/onboard <text>`: it is acknowledged at once, empty; the answer comes through the response_url."""
    before = len(harness.fake.calls_to("response_url"))
    reply = harness.slack.command(text, **kw)
    assert reply.status == 200 and not reply.text, "acknowledged before the database is read"
    answer = harness.fake.wait_for("response_url", count=before + 1).args
    assert answer["response_type"] == "ephemeral"
    return answer


def test_status_in_the_shared_channel_and_by_name(harness):
    start_onboarding(harness)
    here = _command(harness, "status", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    assert "Onboarding plan: Acme Corp" in json.dumps(here)
    assert "*Go-live* agreed Fri 19 Jun" in json.dumps(here)
    named = _command(harness, "status acme", user_id=VENDOR_CSM, channel_id="C0GENERAL")
    assert "Acme Corp" in json.dumps(named)
    none = _command(harness, "status globex", user_id=VENDOR_CSM, channel_id="C0GENERAL")
    assert "No onboarding matches “globex”" in none["text"]
    refused = harness.slack.command(
        "status", user_id=CUSTOMER_CHAMPION, team_id=CUSTOMER_TEAM, channel_id=SHARED_CHANNEL
    ).json
    assert "for the vendor's team" in refused["text"], "refused in the ack itself: no database needed"


def test_list_shows_stage_days_health_and_blocked(harness):
    ob = start_onboarding(harness)
    with session_scope(harness.engine) as s:
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.key == "intake_received")
            .values(status="blocked", blocked_reason="waiting")
        )
    listing = json.dumps(_command(harness, "list", user_id=VENDOR_CSM))
    assert "Acme Corp" in listing and "Pre-kickoff" in listing and "1 blocked" in listing
    assert any(word in listing for word in ("on track", "at risk", "behind"))
    assert "go-live" in listing

    stranger = _command(harness, "list", user_id="U0STRANGER")
    assert "No active onboardings with you on the team" in stranger["text"]


def test_list_all_is_for_managers(harness):
    start_onboarding(harness)
    refused = _command(harness, "list --all", user_id=VENDOR_AE)
    assert "for CSM managers" in refused["text"]
    allowed = json.dumps(_command(harness, "list --all", user_id=VENDOR_MANAGER))
    assert "All active onboardings" in allowed and "Acme Corp" in allowed


def test_add_a_milestone_to_a_live_plan(harness):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", "pre_kickoff")
    harness.slack.command("milestone add", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)
    view = harness.fake.view(harness.fake.wait_for("views.open", count=2).response["view"]["id"])
    assert (
        view["callback_id"] == View.MILESTONE_ADD
        and harness.services.seal.open(view["private_metadata"]) == OnboardingRef(ob.id).encode()
    )

    def values(title: str, start: str, due: str) -> dict:
        return state(
            {
                Field.MILESTONE_TITLE: text(title),
                Field.MILESTONE_STAGE: {"type": "static_select", "selected_option": {"value": "pre_kickoff"}},
                Field.MILESTONE_TRACK: {"type": "static_select", "selected_option": {"value": "it"}},
                Field.MILESTONE_START: {"type": "datepicker", "selected_date": start},
                Field.MILESTONE_DUE: {"type": "datepicker", "selected_date": due},
                Field.CUSTOMER_OWNER: {"type": "static_select", "selected_option": {"value": "champion"}},
                Field.VENDOR_OWNER: {"type": "static_select", "selected_option": {"value": "implementation_csm"}},
                Field.MILESTONE_CLIENT_VERIFIED: {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
            }
        )

    bad = harness.slack.view_submission(view, values("", "2026-05-06", "2026-05-05"), user_id=VENDOR_CSM)
    assert set(bad.json["errors"]) == {Field.MILESTONE_TITLE, Field.MILESTONE_DUE}
    before = sum(1 for call in harness.fake.calls_to("chat.update") if call.args["ts"] == c.ts)
    ok = harness.slack.view_submission(
        view, values("VPN allow-list in place for 3 offices", "2026-05-04", "2026-05-07"), user_id=VENDOR_CSM
    )
    assert ok.text == ""
    harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == c.ts, count=before + 1)
    with session_scope(harness.engine) as s:
        added = s.exec(select(Milestone).where(Milestone.title == "VPN allow-list in place for 3 offices")).one()
        champion = s.exec(select(Person).where(Person.slack_user_id == CUSTOMER_CHAMPION)).first()
    assert added.client_verified and added.track == "it" and added.customer_owner_id == champion.id
    assert added.due_on == date(2026, 5, 7)
    assert "VPN allow-list" in json.dumps(shown(harness, c))


def test_app_home_lists_my_onboardings_and_what_needs_me(harness):
    ob = start_onboarding(harness)
    yesterday = date.today() - timedelta(days=1)
    with session_scope(harness.engine) as s:
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.key == "admin_access")
            .values(status="awaiting_confirmation")
        )
        s.execute(
            update(Milestone)
            .where(Milestone.onboarding_id == ob.id, Milestone.key == "intake_received")
            .values(due_on=yesterday)
        )
    harness.slack.event({"type": "app_home_opened", "user": VENDOR_CSM, "channel": "D0HOME", "tab": "home"})
    published = harness.fake.wait_for("views.publish")
    home = json.dumps(published.args["view"])
    assert published.args["user_id"] == VENDOR_CSM
    assert "My onboardings" in home and "Acme Corp" in home
    assert "Needs my attention" in home and "overdue" in home and "awaiting the customer's confirmation" in home
    assert "https://vendor.slack.com/archives/C0SHARED/p" in home, "buttons open the card"
    assert "Posts Slack refused" not in home, "no refused posts, no section for them"


def open_home(harness, user: str = VENDOR_CSM) -> dict:
    before = len(harness.fake.calls_to("views.publish"))
    harness.slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
    published = harness.fake.wait_for("views.publish", lambda c: c.args["user_id"] == user, count=before + 1)
    return published.args["view"]


def section_texts(view: dict) -> list[str]:
    return [blk["text"]["text"] for blk in view["blocks"] if blk["type"] == "section"]


def test_app_home_lists_the_posts_slack_refused_for_good(harness):
    ob = make_onboarding(harness.engine)
    with session_scope(harness.engine) as s:
        outbox.claim(s, [notice(ob, "a", audience=Audience.SHARED)])
    harness.fake.fail_next("chat.postMessage", error="is_archived")
    deliver_due(harness.services, MONDAY_9, clock=ManualClock())
    with session_scope(harness.engine) as s:
        outbox.claim(s, [notice(ob, "b", recipient=VENDOR_CSM)])
        [dm] = outbox.due(s, MONDAY_9)
        outbox.mark_failed(s, dm, error="http_502: gave up after 5 attempts")

    home = open_home(harness)

    texts = section_texts(home)
    assert "Posts Slack refused" in json.dumps(home)
    [shared] = [t for t in texts if f"to <#{SHARED_CHANNEL}>" in t]
    assert "*Acme*" in shared and "The channel is archived" in shared
    assert f"<!date^{int(MONDAY_9.timestamp())}^" in shared, "when it was meant to go out"
    [direct] = [t for t in texts if "a direct message to you" in t]
    assert "Slack answered `http_502` (gave up after 5 attempts)" in direct


def test_refused_posts_are_capped_so_the_home_stays_within_its_blocks(harness):
    ob = make_onboarding(harness.engine)
    with session_scope(harness.engine) as s:
        outbox.claim(s, [notice(ob, f"m{i}", audience=Audience.SHARED) for i in range(13)])
        for row in outbox.due(s, MONDAY_9):
            outbox.mark_failed(s, row, error="not_in_channel")

    home = open_home(harness)

    refused = [t for t in section_texts(home) if "invite me back" in t]
    assert len(refused) == 10
    assert "…and 3 more." in json.dumps(home, ensure_ascii=False)
    assert len(home["blocks"]) <= 100


def test_open_card_is_acknowledged_and_changes_nothing(harness):
    start_onboarding(harness)
    home = open_home(harness)
    buttons = [blk["accessory"] for blk in home["blocks"] if blk.get("accessory", {}).get("type") == "button"]
    assert buttons and {btn["action_id"] for btn in buttons} == {Action.OPEN_CARD}
    button = buttons[0]
    harness.settle()

    def everything() -> list:
        with session_scope(harness.engine) as s:
            return [sorted(map(tuple, s.execute(select_rows(table)).all()), key=repr) for table in ALL_TABLES]

    calls, stored = len(harness.fake.calls), everything()
    started = time.monotonic()
    reply = harness.slack.block_action(
        Action.OPEN_CARD, user_id=VENDOR_CSM, value=button["value"], view=harness.fake.home_view(VENDOR_CSM)
    )
    took = time.monotonic() - started
    harness.settle()

    assert reply.status == 200 and took < 1.0
    assert len(harness.fake.calls) == calls, "no call to Slack"
    assert everything() == stored, "nothing stored"
