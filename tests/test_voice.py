"""The customer's voice: a finished stage asks the customer how it went, one click, a comment in a form."""

from __future__ import annotations

from functools import partial

from sqlmodel import select

from bot.automation.rules import decide
from bot.core.clock import ManualClock
from bot.core.domain import Stage
from bot.core.ids import Action, Field, View
from bot.core.payloads import RatingChoice, StageRef
from bot.runtime.sweep import run_sweep
from messages.voice import score_action
from store.db import session_scope
from store.models import AuditEntry, HealthSnapshot, StageRating
from tests.cards_helpers import as_text, button_values, card, click, shown
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, INTERNAL_CHANNEL, SHARED_CHANNEL, VENDOR_CSM
from tests.handoff_flow import state, text
from tests.test_stages import _to_go_live


def _answers(h) -> int:
    return len(h.fake.calls_to("response_url"))


def _answer(h, before: int) -> str:
    return h.fake.wait_for("response_url", count=before + 1).args.get("text", "")


def _rate(h, c, ob_id: int, user: str, score: int, stage: Stage = Stage.TRAINING) -> str:
    before = _answers(h)
    click(h, score_action(score), RatingChoice(ob_id, stage, score).encode(), user, c)
    said = _answer(h, before)
    h.settle()
    return said


def _ratings(h, ob_id: int) -> list[StageRating]:
    with session_scope(h.engine) as s:
        return list(s.exec(select(StageRating).where(StageRating.onboarding_id == ob_id)))


def _internal_top(h) -> list[dict]:
    return [m for m in h.fake.messages(INTERNAL_CHANNEL) if "thread_ts" not in m or m["thread_ts"] == m["ts"]]


def test_a_finished_stage_asks_the_customer_and_shows_only_that_they_answered(harness):
    ob = _to_go_live(harness)
    c = card(harness, ob.id, "rating", "training")
    assert c.channel_id == SHARED_CHANNEL
    message = shown(harness, c)
    scores = [button_values(message, score_action(n)) for n in range(1, 6)]
    assert scores == [[RatingChoice(ob.id, Stage.TRAINING, n).encode()] for n in range(1, 6)]
    assert button_values(message, Action.RATE_COMMENT) == [StageRef(ob.id, Stage.TRAINING).encode()]
    assert "No answers yet" in as_text(message)

    said = _rate(harness, c, ob.id, CUSTOMER_CHAMPION, 4)
    assert "You rated Training 4 of 5" in said
    assert "1 of 3 have answered" in as_text(shown(harness, c))

    said = _rate(harness, c, ob.id, CUSTOMER_CHAMPION, 5)  # a change of mind replaces the answer
    assert "5 of 5 (it was 4)" in said
    rows = _ratings(harness, ob.id)
    assert [(r.slack_user_id, r.stage, r.score) for r in rows] == [(CUSTOMER_CHAMPION, "training", 5)]

    _rate(harness, c, ob.id, CUSTOMER_SPONSOR, 3)
    card_text = as_text(shown(harness, c))
    assert "2 of 3 have answered" in card_text
    assert CUSTOMER_SPONSOR not in card_text and CUSTOMER_CHAMPION not in card_text
    assert not _internal_top(harness) or all("rated" not in m.get("text", "") for m in _internal_top(harness))
    with session_scope(harness.engine) as s:
        audited = s.exec(select(AuditEntry).where(AuditEntry.entity == "rating").order_by(AuditEntry.id)).all()
    assert [(a.actor, a.old_value, a.new_value) for a in audited] == [
        (CUSTOMER_CHAMPION, None, "4"),
        (CUSTOMER_CHAMPION, "4", "5"),
        (CUSTOMER_SPONSOR, None, "3"),
    ]


def test_a_low_score_alerts_the_csm_internally_at_once_and_a_comment_joins_that_alert(harness):
    ob = _to_go_live(harness)
    c = card(harness, ob.id, "rating", "training")
    before_internal = len(_internal_top(harness))
    said = _rate(harness, c, ob.id, CUSTOMER_SPONSOR, 2)
    assert "Your CSM will be in touch" in said
    alerts = _internal_top(harness)[before_internal:]
    assert len(alerts) == 1
    assert f"<@{VENDOR_CSM}>" in alerts[0]["text"] and "rated *Training* 2 of 5" in alerts[0]["text"]
    assert "No comment yet" in alerts[0]["text"]

    _rate(harness, c, ob.id, CUSTOMER_SPONSOR, 2)  # the same low score again: nothing new to tell
    assert len(_internal_top(harness)) == before_internal + 1

    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.RATE_COMMENT, StageRef(ob.id, Stage.TRAINING).encode(), CUSTOMER_SPONSOR, c)
    call = harness.fake.wait_for("views.open", count=opened + 1)
    view = harness.fake.view(call.response["view"]["id"])
    assert view["callback_id"] == View.RATING_COMMENT
    assert as_text(view).count('"value": "2"') >= 1 and "initial_option" in as_text(view)

    choice = {"type": "static_select", "selected_option": {"value": "1", "text": {"type": "plain_text", "text": "1"}}}
    too_long = harness.slack.view_submission(
        view, state({Field.RATING_SCORE: choice, Field.RATING_COMMENT: text("x" * 1001)}),
        user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER",
    )  # fmt: skip
    assert "under 1000 characters" in too_long.json["errors"][Field.RATING_COMMENT]
    no_score = harness.slack.view_submission(
        view, state({Field.RATING_COMMENT: text("hm")}), user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER"
    )
    assert "Pick a score" in no_score.json["errors"][Field.RATING_SCORE]

    comment = "Training was rushed <!channel> see <https://evil.example|our notes>"
    ok = harness.slack.view_submission(
        view, state({Field.RATING_SCORE: choice, Field.RATING_COMMENT: text(comment)}),
        user_id=CUSTOMER_SPONSOR, team_id="T0CUSTOMER",
    )  # fmt: skip
    assert ok.status == 200 and ok.text == ""
    harness.settle()
    thread = harness.fake.wait_for("chat.postMessage", lambda call: call.args.get("thread_ts") == alerts[0]["ts"]).args[
        "text"
    ]
    assert "changed their score to 1 of 5" in thread
    assert "&lt;!channel&gt;" in thread and "<!channel>" not in thread and "<https://evil" not in thread
    assert len(_internal_top(harness)) == before_internal + 1, "one alert; the rest joins its thread"
    rows = _ratings(harness, ob.id)
    assert [(r.score, r.comment) for r in rows] == [(1, comment)]
    ephemeral = harness.fake.wait_for(
        "chat.postEphemeral", lambda call: call.args.get("user") == CUSTOMER_SPONSOR and "rated" in call.args["text"]
    )
    assert ephemeral.args["channel"] == SHARED_CHANNEL
    # Nothing of the score or the comment reaches the shared channel.
    public = as_text(harness.fake.messages(SHARED_CHANNEL))
    assert "Training was rushed" not in public and "1 of 5" not in public


def test_only_the_customers_people_rate_and_only_a_finished_stage(harness):
    ob = _to_go_live(harness)
    c = card(harness, ob.id, "rating", "training")
    assert "The rating is the customer's to give" in _rate(harness, c, ob.id, VENDOR_CSM, 5)
    assert "isn't finished yet" in _rate(harness, c, ob.id, CUSTOMER_CHAMPION, 5, Stage.GO_LIVE)
    assert "isn't finished yet" in _rate(harness, c, ob.id, CUSTOMER_CHAMPION, 5, Stage.PRE_KICKOFF)
    before = _answers(harness)
    forged = RatingChoice(ob.id, Stage.TRAINING, 9).encode()
    click(harness, score_action(5), forged, CUSTOMER_CHAMPION, c)
    assert "Pick a score from 1 to 5" in _answer(harness, before)
    before = _answers(harness)
    harness.slack.block_action(
        score_action(5), user_id="U0STRANGER", team_id="T0THIRD", value=RatingChoice(ob.id, Stage.TRAINING, 5).encode(),
        channel_id=c.channel_id, message_ts=c.ts,
    )  # fmt: skip
    assert "another organisation" in _answer(harness, before)
    before = _answers(harness)
    click(harness, Action.RATE_COMMENT, StageRef(ob.id, Stage.TRAINING).encode(), VENDOR_CSM, c)
    assert "The rating is the customer's to give" in _answer(harness, before)
    assert _ratings(harness, ob.id) == []


def test_the_customers_ratings_join_the_next_health_score(harness):
    ob = _to_go_live(harness)
    c = card(harness, ob.id, "rating", "training")
    _rate(harness, c, ob.id, CUSTOMER_CHAMPION, 2)
    _rate(harness, c, ob.id, CUSTOMER_SPONSOR, 4)
    now = harness.services.clock.now()
    run_sweep(
        harness.services, now, decide=partial(decide, playbooks=harness.services.playbooks), clock=ManualClock(now)
    )
    harness.settle()
    with session_scope(harness.engine) as s:
        stored = s.exec(select(HealthSnapshot).where(HealthSnapshot.onboarding_id == ob.id)).one()
    assert stored.parts["voice"] == {"score": 50, "weight": 20, "stage": "training", "ratings": 2, "mean": 3.0}
    others = sum(p["score"] * p["weight"] for name, p in stored.parts.items() if name != "voice")
    assert abs(stored.score - (others + 50 * 20) / 120) <= 1  # the voice is 20 of 120
