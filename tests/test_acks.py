"""Slack's 3 seconds, whatever the database or Slack itself is doing.

A click, a form submission, the gate override and the commands that read the store are
acknowledged while another transaction holds the milestones locked for 5 seconds; each change is
applied once, after, and each answer arrives once the lock is gone. A look-up that Slack answers with
429 before an acknowledgement is answered with "submit again", not a sleeping retry.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy import text as sql

from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingRef
from handlers import milestones as milestone_handlers
from handlers.errors import SORRY
from store.db import session_scope
from store.models import AuditEntry, Onboarding, PostedCard
from tests.cards_helpers import card, click, milestone, ref, start_onboarding
from tests.conftest import SHARED_CHANNEL, VENDOR_CSM, VENDOR_MANAGER
from tests.handoff_flow import HandoffFlow, basics, customer, person, state, team, text

ACK_WITHIN = 3.0
LOCK_FOR = 5.0


@contextmanager
def milestones_locked(engine, seconds: float):
    """Hold a write lock on the milestones in another connection for `seconds`, from a thread."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sql("BEGIN"))
                conn.execute(sql("LOCK TABLE milestones IN ACCESS EXCLUSIVE MODE"))
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            conn.rollback()
        done.set()

    worker = threading.Thread(target=hold, daemon=True)
    worker.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        worker.join()


def _timed(send):
    started = time.monotonic()
    reply = send()
    return reply, time.monotonic() - started


def test_a_click_and_a_form_are_acknowledged_while_the_database_is_locked(harness):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r_click = ref(harness, ob.id, "intake_received")
    opened = len(harness.fake.calls_to("views.open"))
    click(harness, Action.MILESTONE_BLOCK, ref(harness, ob.id, "admin_access").encode(), "U0CSM", c)
    form = harness.fake.view(harness.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    r_form = ref(harness, ob.id, "admin_access")
    values = state({Field.BLOCKED_WHAT: text("Waiting on the identity provider"), Field.BLOCKED_WHO: text("IT")})

    with milestones_locked(harness.engine, LOCK_FOR):
        clicked, click_took = _timed(lambda: click(harness, Action.MILESTONE_START, r_click.encode(), "U0CSM", c))
        submitted, form_took = _timed(lambda: harness.slack.view_submission(form, values, user_id="U0CSM"))
    assert clicked.status == 200 and click_took < ACK_WITHIN
    assert submitted.status == 200 and form_took < ACK_WITHIN and not submitted.text
    harness.settle()

    started = milestone(harness, ob.id, "intake_received")
    assert started.status == "in_progress" and started.version == r_click.version + 1, "applied once"
    blocked = milestone(harness, ob.id, "admin_access")
    assert blocked.status == "blocked" and blocked.version == r_form.version + 1, "applied once"


def test_a_lookup_slack_rate_limits_before_the_ack_asks_to_submit_again(harness):
    with freeze_time("2026-05-01 15:00:00", tick=True):
        flow = HandoffFlow(harness)
        flow.open()
        assert flow.submit(basics()).status == 200 and flow.step == View.HANDOFF_TEAM
        harness.fake.fail_next("users.info", status=429, retry_after=30, times=5)
        reply, took = _timed(lambda: flow.submit(team()))
    assert reply.status == 200 and took < ACK_WITHIN
    assert reply.json["response_action"] == "errors" and "submit again" in str(reply.json["errors"]).lower()
    assert flow.step == View.HANDOFF_TEAM, "nothing moved on"


def test_commands_and_the_gate_override_are_acknowledged_while_the_database_is_locked(harness):
    with freeze_time("2026-05-01 15:00:00", tick=True):  # the readiness gate fails: no project owner
        HandoffFlow(harness).complete(customer_=customer(project_owner=person("project_owner"), project_owner_fit=()))
    with session_scope(harness.engine) as s:
        handoff = s.execute(select(PostedCard).where(PostedCard.kind == "handoff")).scalars().one()
    opened = len(harness.fake.calls_to("views.open"))
    harness.slack.block_action(Action.GATE_OVERRIDE, user_id=VENDOR_MANAGER, channel_id=handoff.channel_id,
                               value=OnboardingRef(handoff.onboarding_id).encode(), message_ts=handoff.ts)  # fmt: skip
    form = harness.fake.view(harness.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
    reason = state({Field.OVERRIDE_REASON: text("The sponsor named the project owner by email")})
    answered = len(harness.fake.calls_to("response_url"))

    with milestones_locked(harness.engine, LOCK_FOR):
        replies = [
            _timed(lambda: harness.slack.command("status", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)),
            _timed(lambda: harness.slack.command("list", user_id=VENDOR_CSM)),
            _timed(lambda: harness.slack.view_submission(form, reason, user_id=VENDOR_MANAGER)),
        ]
    for reply, took in replies:
        assert reply.status == 200 and took < ACK_WITHIN and not reply.text
    harness.settle()

    answers = [c.args for c in harness.fake.calls_to("response_url")[answered:]]
    assert len(answers) == 2 and all(a["response_type"] == "ephemeral" for a in answers)
    with session_scope(harness.engine) as s:
        assert s.get(Onboarding, handoff.onboarding_id).gate_override_by == VENDOR_MANAGER
        overrides = s.execute(select(AuditEntry).where(AuditEntry.action == "gate_overridden")).scalars().all()
    assert len(overrides) == 1, "applied once"


def test_a_failure_in_the_work_after_the_ack_is_logged_and_told(harness, monkeypatch, caplog):
    ob = start_onboarding(harness)
    c = card(harness, ob.id, "stage", "pre_kickoff")
    r = ref(harness, ob.id, "intake_received")

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(milestone_handlers, "change", broken)
    answered = len(harness.fake.calls_to("response_url"))
    reply = click(harness, Action.MILESTONE_START, r.encode(), "U0CSM", c)
    assert reply.status == 200 and not reply.text
    told = harness.fake.wait_for("response_url", count=answered + 1).args
    assert told["text"] == SORRY and told["response_type"] == "ephemeral"
    harness.settle()
    assert "listener failed: RuntimeError" in caplog.text
    assert milestone(harness, ob.id, "intake_received").version == r.version


def test_the_value_commands_are_acknowledged_before_they_read_the_store(harness):
    with freeze_time("2026-05-01 15:00:00", tick=True):
        HandoffFlow(harness).complete()
    answered = len(harness.fake.calls_to("response_url"))
    with milestones_locked(harness.engine, LOCK_FOR):
        replies = [
            _timed(lambda: harness.slack.command('account-id "Acme Corp" acme-7', user_id=VENDOR_CSM)),
            _timed(lambda: harness.slack.command("report", user_id=VENDOR_CSM, channel_id=SHARED_CHANNEL)),
        ]
    for reply, took in replies:
        assert reply.status == 200 and took < ACK_WITHIN and not reply.text
    harness.settle()
    answers = [c.args for c in harness.fake.calls_to("response_url")[answered:]]
    assert len(answers) == 2 and all(a["response_type"] == "ephemeral" for a in answers)
