"""Messages in a shared channel become activity for the speaker's side, once per message."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select, text

from bot.core.domain import OnboardingStatus
from handlers.activity import ts_instant
from store.activity import record_click, record_message
from store.db import make_engine, session_scope
from store.migrate import upgrade
from store.models import Activity, AuditEntry, Onboarding, table_of
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_SPONSOR, CUSTOMER_TEAM, SHARED_CHANNEL, VENDOR_CSM, VENDOR_TEAM

OTHER_CHANNEL = "C0ELSEWHERE"
CLOSED_CHANNEL = "C0CLOSED"
_ts = itertools.count(1)


def _onboarding(engine, channel: str, status: str = OnboardingStatus.ACTIVE.value) -> int:
    with session_scope(engine) as s:
        ob = Onboarding(
            customer_name="Acme Corp",
            tier=2,
            acv_cents=4_000_000,
            playbook_key="standard_60",
            timezone="America/New_York",
            contract_signed_on=date(2026, 5, 1),
            target_go_live_on=date(2026, 6, 19),
            shared_channel_id=channel,
            status=status,
            created_by=VENDOR_CSM,
        )
        s.add(ob)
        s.flush()
        return ob.id


def _onboarding_in_an_older_schema(engine, channel: str) -> int:
    """An onboarding written with the columns every schema version has (the model may have more)."""
    now = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)
    values = {
        "customer_name": "Acme Corp", "status": OnboardingStatus.ACTIVE.value, "stage": "pre_kickoff", "tier": 2,
        "acv_cents": 4_000_000, "playbook_key": "standard_60", "timezone": "America/New_York",
        "contract_signed_on": date(2026, 5, 1), "target_go_live_on": date(2026, 6, 19), "shared_channel_id": channel,
        "sold": "", "commitments": "", "success_criteria": "", "first_value_definition": "",
        "full_value_definition": "", "it_dependencies": [], "concerns": "", "political_dynamics": "",
        "created_by": VENDOR_CSM, "created_at": now, "updated_at": now, "version": 1,
    }  # fmt: skip
    table = table_of(Onboarding)
    with engine.begin() as conn:
        return conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()


@pytest.fixture
def onboarding_id(harness) -> int:
    _onboarding(harness.engine, CLOSED_CHANNEL, OnboardingStatus.CANCELLED.value)
    return _onboarding(harness.engine, SHARED_CHANNEL)


def message(user: str, *, team: str | None = CUSTOMER_TEAM, channel: str = SHARED_CHANNEL, **fields) -> dict:
    """A message event as Slack sends it from a Slack Connect channel."""
    ts = f"1777900000.{next(_ts):06d}"
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": "hello",
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if team:
        event.update(team=team, user_team=team, source_team=team)
    event.update(fields)
    return event


def _activity(engine) -> list[tuple[str, str, str, datetime]]:
    with session_scope(engine) as s:
        rows = s.exec(select(Activity).order_by(Activity.id)).scalars().all()
        return [(a.slack_user_id, a.side, a.kind, a.at) for a in rows]


def _wait_for_rows(engine, count: int, timeout: float = 5.0) -> list:
    deadline = time.monotonic() + timeout
    while len(rows := _activity(engine)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"waited for {count} activity rows, have {rows}")
        time.sleep(0.02)
    return rows


def _settle(harness) -> None:
    """Events are handled after the ack: send one more that counts and wait for it, then a moment."""
    before = len(_activity(harness.engine))
    harness.slack.event(message(CUSTOMER_SPONSOR))
    _wait_for_rows(harness.engine, before + 1)
    time.sleep(0.1)


def test_ts_becomes_an_exact_instant():
    assert ts_instant("1777900000.000105") == datetime(2026, 5, 4, 13, 6, 40, 105, tzinfo=UTC)


def test_customer_message_is_recorded_once_even_when_slack_retries(harness, onboarding_id):
    event = message(CUSTOMER_CHAMPION)
    assert harness.slack.event(event, event_id="Ev0RETRIED1").status == 200
    assert _wait_for_rows(harness.engine, 1) == [(CUSTOMER_CHAMPION, "customer", "message", ts_instant(event["ts"]))]
    retry = harness.slack.event(
        event, event_id="Ev0RETRIED1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status == 200
    _settle(harness)
    rows = _activity(harness.engine)
    assert [r[0] for r in rows] == [CUSTOMER_CHAMPION, CUSTOMER_SPONSOR]
    with session_scope(harness.engine) as s:
        assert {a.onboarding_id for a in s.exec(select(Activity)).scalars()} == {onboarding_id}


def test_vendor_messages_count_for_the_vendor_side(harness, onboarding_id):
    harness.slack.event(message(VENDOR_CSM, team=VENDOR_TEAM))
    assert _wait_for_rows(harness.engine, 1)[0][:3] == (VENDOR_CSM, "vendor", "message")


def test_without_user_team_the_side_comes_from_a_cached_user_lookup(harness, onboarding_id):
    newcomer = "U0NEWCOMER"
    harness.fake.add_user(newcomer, name="nia", team_id=CUSTOMER_TEAM)
    harness.slack.event(message(newcomer, team=None))
    _wait_for_rows(harness.engine, 1)
    harness.slack.event(message(newcomer, team=None, thread_ts="1777900000.000001"))
    rows = _wait_for_rows(harness.engine, 2)
    assert [r[:3] for r in rows] == [(newcomer, "customer", "message")] * 2
    assert len([c for c in harness.fake.calls_to("users.info") if c.args.get("user") == newcomer]) == 1


def test_people_sharing_files_and_broadcasting_replies_count(harness, onboarding_id):
    harness.slack.event(message(CUSTOMER_CHAMPION, subtype="file_share", files=[{"id": "F0001"}]))
    harness.slack.event(message(CUSTOMER_CHAMPION, subtype="thread_broadcast", thread_ts="1777900000.000001"))
    assert len(_wait_for_rows(harness.engine, 2)) == 2


def test_bots_edits_joins_and_other_channels_are_ignored(harness, onboarding_id):
    bot = harness.fake.bot_user_id
    ignored = [
        message(bot, team=VENDOR_TEAM, bot_id=harness.fake.bot_id),  # the bot's own post
        message("U0OTHERBOT", subtype="bot_message", bot_id="B0OTHER"),
        message("U0WORKFLOW", bot_id="B0WORKFLOW"),  # an app posting as a user-like message
        message(CUSTOMER_CHAMPION, subtype="message_changed", message={"type": "message", "text": "edited"}),
        message(CUSTOMER_CHAMPION, subtype="message_deleted", deleted_ts="1777900000.000001"),
        message(CUSTOMER_CHAMPION, subtype="channel_join"),
        message(CUSTOMER_CHAMPION, subtype="channel_topic", topic="Onboarding"),
        message("USLACKBOT", team=None),
        message(CUSTOMER_CHAMPION, channel=OTHER_CHANNEL),
        message(CUSTOMER_CHAMPION, channel=CLOSED_CHANNEL),
    ]
    for event in ignored:
        assert harness.slack.event(event).status == 200
    _settle(harness)
    assert [r[0] for r in _activity(harness.engine)] == [CUSTOMER_SPONSOR]
    assert not harness.fake.calls_to("users.info"), "nothing ignored should cost a Slack call"


# -- the channels themselves ----------------------------------------------------------------------
def _channel_audit(engine) -> list[tuple[int | None, str, str | None, datetime]]:
    with session_scope(engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.entity == "channel").order_by(AuditEntry.id)).scalars()
        return [(a.onboarding_id, a.action, a.new_value, a.at) for a in rows]


def test_a_shared_channel_being_shared_and_unshared_goes_into_the_audit_log_once(harness, onboarding_id):
    shared = {"type": "channel_shared", "connected_team_id": CUSTOMER_TEAM, "channel": SHARED_CHANNEL}
    shared["event_ts"] = "1777900100.000200"
    assert harness.slack.event(shared, event_id="Ev0SHARED01").status == 200
    harness.settle()  # Slack retries an event only after waiting for its answer
    retry = harness.slack.event(shared, event_id="Ev0SHARED01", headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    unshared = {
        "type": "channel_unshared",
        "previously_connected_team_id": CUSTOMER_TEAM,
        "channel": SHARED_CHANNEL,
        "is_ext_shared": False,
        "event_ts": "1777900200.000300",
    }
    assert harness.slack.event(unshared).status == 200
    harness.settle()
    assert _channel_audit(harness.engine) == [
        (onboarding_id, "channel_shared", CUSTOMER_TEAM, ts_instant("1777900100.000200")),
        (onboarding_id, "channel_unshared", CUSTOMER_TEAM, ts_instant("1777900200.000300")),
    ]
    assert harness.fake.calls == []


def test_channel_events_elsewhere_are_acknowledged_and_change_nothing(harness, onboarding_id):
    for event in (
        {
            "type": "channel_shared",
            "connected_team_id": CUSTOMER_TEAM,
            "channel": OTHER_CHANNEL,
            "event_ts": "1.000001",
        },
        {"type": "channel_unshared", "channel": CLOSED_CHANNEL, "event_ts": "1.000002"},
        {"type": "channel_shared"},
    ):
        assert harness.slack.event(event).status == 200
    harness.settle()
    assert _channel_audit(harness.engine) == []
    assert harness.fake.calls == []


def test_someone_joining_the_shared_channel_is_acknowledged(harness, onboarding_id):
    joined = {
        "type": "member_joined_channel",
        "user": "U0JOINER",
        "channel": SHARED_CHANNEL,
        "channel_type": "C",
        "team": CUSTOMER_TEAM,
        "inviter": CUSTOMER_CHAMPION,
        "event_ts": "1777900300.000400",
    }
    assert harness.slack.event(joined).status == 200
    harness.settle()
    assert _activity(harness.engine) == []
    assert harness.fake.calls == []


@pytest.mark.parametrize("kind", ["reaction_added", "emoji_changed", "tokens_revoked", "something_new"])
def test_events_nothing_listens_to_are_still_acknowledged(harness, kind):
    reply = harness.slack.event({"type": kind, "event_ts": "1777900400.000500"})
    assert reply.status == 200
    harness.settle()
    assert harness.fake.calls == []


# -- one row per message, however it arrives ---------------------------------------------------------
def test_one_message_delivered_three_times_at_once_is_one_row(harness, onboarding_id):
    event = message(CUSTOMER_CHAMPION)
    start = threading.Barrier(3)
    statuses: list[int] = []

    def deliver(n: int) -> None:
        start.wait()
        headers = {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"} if n else None
        statuses.append(harness.slack.event(event, event_id="Ev0RACED001", headers=headers).status)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert statuses == [200, 200, 200]
    assert _activity(harness.engine) == [(CUSTOMER_CHAMPION, "customer", "message", ts_instant(event["ts"]))]


def test_clicks_at_the_same_instant_are_both_kept(harness, onboarding_id):
    at = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    with session_scope(harness.engine) as s:
        for _ in range(2):
            record_click(s, onboarding_id=onboarding_id, slack_user_id=CUSTOMER_CHAMPION, side="customer", at=at)
    assert len(_activity(harness.engine)) == 2


@pytest.fixture
def empty_database_url(database_url, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"onboard_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_engine(database_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_engine(database_url).url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_the_migration_keeps_one_of_each_message_already_stored_twice(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0002")
        at = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
        ob = _onboarding_in_an_older_schema(engine, SHARED_CHANNEL)
        with session_scope(engine) as s:
            rows = [("message", CUSTOMER_CHAMPION, at)] * 3 + [("message", CUSTOMER_SPONSOR, at)] * 2
            rows += [("click", CUSTOMER_CHAMPION, at)] * 2 + [("message", CUSTOMER_CHAMPION, at + timedelta(seconds=1))]
            for kind, user, when in rows:
                s.add(Activity(onboarding_id=ob, slack_user_id=user, side="customer", kind=kind, at=when))
        upgrade(engine)
        kept = sorted((r[2], r[0], r[3]) for r in _activity(engine))
        assert kept == [
            ("click", CUSTOMER_CHAMPION, at),
            ("click", CUSTOMER_CHAMPION, at),
            ("message", CUSTOMER_CHAMPION, at),
            ("message", CUSTOMER_CHAMPION, at + timedelta(seconds=1)),
            ("message", CUSTOMER_SPONSOR, at),
        ]
        with session_scope(engine) as s:
            assert not record_message(s, onboarding_id=ob, slack_user_id=CUSTOMER_SPONSOR, side="customer", at=at)
    finally:
        engine.dispose()
