"""The outbox: one row per dedupe key, ever; due rows; compare-and-set transitions; failures for the CSM.

Also what the delivery and scheduler tests share: an onboarding with its channels and
people, notices, and a clock that moves only when told (or when the code under test sleeps).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event
from sqlmodel import select

from bot.core import clock
from bot.core.domain import Role, Side
from bot.core.notices import Audience, Notice, Rule
from store import outbox
from store.db import session_scope
from store.models import Notification, Onboarding, Person
from tests.conftest import CUSTOMER_CHAMPION, INTERNAL_CHANNEL, SHARED_CHANNEL, VENDOR_CSM, VENDOR_MANAGER
from tests.test_rules import _free_channel

# Monday 4 May 2026, 09:00 in New York (EDT, UTC-4): the customer's business day starts.
MONDAY_9 = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)


class ManualClock(clock.ManualClock):
    def __init__(self, start: datetime = MONDAY_9) -> None:
        super().__init__(start)


def make_onboarding(
    engine, *, customer: str = "Acme", shared: str | None = SHARED_CHANNEL, internal: str | None = INTERNAL_CHANNEL
) -> int:
    """An onboarding in New York with a CSM and a customer champion in Slack; returns its id."""
    with session_scope(engine) as s:
        if shared is not None:
            shared = _free_channel(s, shared)
        ob = Onboarding(
            customer_name=customer,
            tier=2,
            acv_cents=4_000_000,
            playbook_key="standard_30",
            timezone="America/New_York",
            contract_signed_on=date(2026, 5, 1),
            target_go_live_on=date(2026, 6, 15),
            shared_channel_id=shared,
            internal_channel_id=internal,
            created_by=VENDOR_CSM,
        )
        s.add(ob)
        s.flush()
        s.add(
            Person(
                onboarding_id=ob.id,
                side=Side.VENDOR,
                role=Role.IMPLEMENTATION_CSM,
                name="Casey",
                slack_user_id=VENDOR_CSM,
            )
        )
        s.add(
            Person(
                onboarding_id=ob.id,
                side=Side.VENDOR,
                role=Role.CSM_MANAGER,
                name="Morgan",
                slack_user_id=VENDOR_MANAGER,
            )
        )
        s.add(
            Person(
                onboarding_id=ob.id,
                side=Side.CUSTOMER,
                role=Role.CHAMPION,
                name="Chris",
                slack_user_id=CUSTOMER_CHAMPION,
            )
        )
        return ob.id


def notice(
    onboarding_id: int,
    subject: str = "sso",
    *,
    rule: Rule = Rule.OVERDUE,
    audience: Audience = Audience.DM,
    recipient: str = VENDOR_CSM,
    channel_id: str | None = None,
    urgent: bool = False,
    period: str = "2026-05-04",
    not_before: datetime = MONDAY_9,
    why: str | None = None,
    **facts,
) -> Notice:
    if audience is Audience.SHARED:
        recipient = channel_id = channel_id or SHARED_CHANNEL
    elif audience is Audience.INTERNAL:
        recipient = channel_id = channel_id or INTERNAL_CHANNEL
    facts = {"title": f"Milestone {subject}", "customer_name": "Acme", **facts}
    return Notice(
        rule=rule,
        onboarding_id=onboarding_id,
        subject=subject,
        period=period,
        audience=audience,
        recipient=recipient,
        channel_id=channel_id,
        not_before=not_before,
        urgent=urgent,
        why=why or f"{rule} {subject} for test",
        facts=facts,
    )


@contextmanager
def counted_statements(engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def rows(engine) -> list[Notification]:
    with session_scope(engine) as s:
        return list(s.exec(select(Notification).order_by(Notification.id)))


def row_of(engine, key: str) -> Notification:
    with session_scope(engine) as s:
        return s.exec(select(Notification).where(Notification.dedupe_key == key)).one()


# -- claim --------------------------------------------------------------------------------------
def test_claiming_twice_keeps_one_row(clean_db):
    ob = make_onboarding(clean_db)
    n = notice(ob)
    with session_scope(clean_db) as s:
        assert outbox.claim(s, [n]) == 1
    with session_scope(clean_db) as s:
        assert outbox.claim(s, [n, notice(ob, "crm")]) == 1
    assert [r.dedupe_key for r in rows(clean_db)] == [n.dedupe_key, notice(ob, "crm").dedupe_key]


def test_a_batch_with_the_same_key_twice_claims_it_once(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        assert outbox.claim(s, [notice(ob), notice(ob), notice(ob, period="2026-05-05")]) == 2
    assert len(rows(clean_db)) == 2


def test_claiming_takes_a_fixed_number_of_statements_however_many_notices(clean_db):
    ob = make_onboarding(clean_db)
    many = [
        notice(ob, f"m{i}") for i in range(4_000)
    ]  # one bound parameter per key would pass SQLite's old limit of 999
    # which keys are taken; then one INSERT (PostgreSQL: a COPY inside a savepoint, and its release)
    insert = 3 if clean_db.dialect.name == "postgresql" else 1
    with counted_statements(clean_db) as statements, session_scope(clean_db) as s:
        assert outbox.claim(s, many[:3_000]) == 3_000
    assert len(statements) == 1 + insert
    with counted_statements(clean_db) as statements, session_scope(clean_db) as s:
        assert outbox.claim(s, many) == 1_000
    assert len(statements) == 1 + insert
    with counted_statements(clean_db) as statements, session_scope(clean_db) as s:
        assert outbox.claim(s, many) == 0
    assert len(statements) == 1  # nothing new: nothing to insert
    assert len(rows(clean_db)) == 4_000


def test_a_key_taken_between_the_lookup_and_the_write_is_not_written_twice(clean_db, monkeypatch):
    """Another sweeper claims a key after this one found it missing: the rest still go in, once."""
    ob = make_onboarding(clean_db)
    taken, *others = [notice(ob, f"m{i}") for i in range(3)]
    with session_scope(clean_db) as s:
        outbox.claim(s, [taken])
    monkeypatch.setattr(outbox.bulk, "missing", lambda conn, table, column, values: set(values))
    with session_scope(clean_db) as s:
        assert outbox.claim(s, [taken, *others]) == 2
        assert outbox.claim(s, [notice(ob, "later")]) == 1  # the transaction is still usable
    assert sorted(r.subject for r in rows(clean_db)) == ["later", "m0", "m1", "m2"]


def test_bulk_claimed_rows_are_stored_as_the_orm_stores_them(clean_db):
    """Times on the hour and with microseconds, and the payload, read back and compare the same."""
    ob = make_onboarding(clean_db)
    exact, fine = MONDAY_9, MONDAY_9 + timedelta(microseconds=250)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob, "a", not_before=exact), notice(ob, "b", not_before=fine)])
        by_orm = Notification(**outbox.row_values(notice(ob, "c", not_before=exact)))
        s.add(by_orm)
    with session_scope(clean_db) as s:
        assert [r.subject for r in outbox.due(s, exact)] == ["a", "c"]
        assert [r.subject for r in outbox.due(s, fine)] == ["a", "c", "b"]
        stored = (
            s.connection()
            .exec_driver_sql("SELECT not_before FROM notifications WHERE subject IN ('a', 'c') ORDER BY subject")
            .all()
        )
        assert stored[0] == stored[1]  # the very same text on SQLite, where times compare as text
        same = [c for c in outbox.COLUMNS if c not in ("dedupe_key", "subject", "created_at", "payload")]
        raw = (
            s.connection()
            .exec_driver_sql(f"SELECT {', '.join(same)}, payload FROM notifications WHERE subject IN ('a', 'c')")
            .all()
        )
        assert raw[0][:-1] == raw[1][:-1], "every column as the ORM stores it"
    a, c = row_of(clean_db, notice(ob, "a").dedupe_key), row_of(clean_db, notice(ob, "c").dedupe_key)
    assert (a.not_before, a.payload["period"], a.status, a.attempts) == (
        c.not_before,
        c.payload["period"],
        "pending",
        0,
    )


def test_claimed_row_keeps_what_delivery_needs(clean_db):
    ob = make_onboarding(clean_db)
    n = notice(ob, audience=Audience.SHARED, urgent=True, due_on=date(2026, 5, 1), kickoff_keys=("kickoff",))
    with session_scope(clean_db) as s:
        outbox.claim(s, [n])
    row = row_of(clean_db, n.dedupe_key)
    assert (row.status, row.attempts, row.urgent, row.audience) == (outbox.PENDING, 0, True, "shared")
    assert row.channel_id == row.recipient == SHARED_CHANNEL
    assert row.not_before == row.next_attempt_at == MONDAY_9
    assert row.payload == {
        "why": n.why,
        "period": "2026-05-04",
        "facts": {
            "title": "Milestone sso",
            "customer_name": "Acme",
            "due_on": "2026-05-01",
            "kickoff_keys": ["kickoff"],
        },
    }


def test_claim_joins_the_callers_transaction(clean_db):
    ob = make_onboarding(clean_db)
    try:
        with session_scope(clean_db) as s:
            outbox.claim(s, [notice(ob)])
            raise RuntimeError("the rules failed after deciding")
    except RuntimeError:
        pass
    assert rows(clean_db) == []


# -- due rows and transitions ---------------------------------------------------------------------
def test_a_row_is_due_from_its_not_before(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob)])
    with session_scope(clean_db) as s:
        assert outbox.due(s, MONDAY_9 - timedelta(seconds=1)) == []
        assert len(outbox.due(s, MONDAY_9)) == 1


def test_take_is_compare_and_set(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob)])
    with session_scope(clean_db) as s:
        mine = outbox.due(s, MONDAY_9)[0]
    with session_scope(clean_db) as s:
        theirs = outbox.due(s, MONDAY_9)[0]
    with session_scope(clean_db) as s:
        assert outbox.take(s, mine, now=MONDAY_9, hold=timedelta(minutes=10))
    with session_scope(clean_db) as s:
        assert not outbox.take(s, theirs, now=MONDAY_9, hold=timedelta(minutes=10)), "the row was taken already"
    assert (mine.status, mine.attempts) == (outbox.SENDING, 1)


def test_an_abandoned_claim_becomes_due_again_and_the_old_claimant_cannot_finish(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob)])
    with session_scope(clean_db) as s:
        first = outbox.due(s, MONDAY_9)[0]
        outbox.take(s, first, now=MONDAY_9, hold=timedelta(minutes=10))
    with session_scope(clean_db) as s:
        assert outbox.due(s, MONDAY_9 + timedelta(minutes=9)) == [], "a live claim is not due"
        second = outbox.due(s, MONDAY_9 + timedelta(minutes=10))[0]
        assert second.status == outbox.SENDING
        assert outbox.take(s, second, now=MONDAY_9 + timedelta(minutes=10), hold=timedelta(minutes=10))
    with session_scope(clean_db) as s:
        assert not outbox.mark_sent(s, first, ts="1.1", channel_id=None, at=MONDAY_9), "a stale claim"
        assert outbox.mark_sent(s, second, ts="1.2", channel_id="D0CSM", at=MONDAY_9)
    row = rows(clean_db)[0]
    assert (row.status, row.ts, row.attempts, row.channel_id) == (outbox.SENT, "1.2", 2, "D0CSM")


def test_taking_many_rows_at_once_claims_only_those_still_free_in_one_statement(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob, k) for k in ("a", "b", "c")])
    with session_scope(clean_db) as s:
        mine = outbox.due(s, MONDAY_9)
    with session_scope(clean_db) as s:
        theirs = outbox.due(s, MONDAY_9)[1]
        assert outbox.take(s, theirs, now=MONDAY_9, hold=timedelta(minutes=10))

    with session_scope(clean_db) as s, counted_statements(clean_db) as statements:
        taken = outbox.take_all(s, mine, now=MONDAY_9, hold=timedelta(minutes=10))

    assert [r.subject for r in taken] == ["a", "c"] and len(statements) == 1
    assert {(r.status, r.attempts) for r in taken} == {(outbox.SENDING, 1)}
    assert (mine[1].status, mine[1].attempts) == (outbox.PENDING, 0), "the row another deliverer took is left as read"
    with session_scope(clean_db) as s:
        marked = outbox.mark_all_sent(s, [*taken, mine[1]], ts="1.1", channel_id="D0CSM", at=MONDAY_9)
    assert [r.subject for r in marked] == ["a", "c"]
    assert {r.subject: r.status for r in rows(clean_db)} == {"a": outbox.SENT, "b": outbox.SENDING, "c": outbox.SENT}


def test_marking_many_posts_sent_at_once_skips_a_claim_taken_over(clean_db):
    ob = make_onboarding(clean_db)
    with session_scope(clean_db) as s:
        outbox.claim(s, [notice(ob, k) for k in ("a", "b")])
    with session_scope(clean_db) as s:
        a, b = outbox.take_all(s, outbox.due(s, MONDAY_9), now=MONDAY_9, hold=timedelta(minutes=10))
    later = MONDAY_9 + timedelta(minutes=10)
    with session_scope(clean_db) as s:
        [newer] = [r for r in outbox.due(s, later) if r.subject == "b"]
        assert outbox.take(s, newer, now=later, hold=timedelta(minutes=10)), "another deliverer took b over"

    with session_scope(clean_db) as s, counted_statements(clean_db) as statements:
        marked = outbox.mark_many_sent(s, [(a, "1.1", "D0CSM", MONDAY_9), (b, "1.2", "D0CSM", MONDAY_9)])

    assert marked == [a] and len(statements) == 2
    assert (a.status, a.ts, a.channel_id) == (outbox.SENT, "1.1", "D0CSM")
    assert {r.subject: (r.status, r.ts) for r in rows(clean_db)} == {
        "a": (outbox.SENT, "1.1"),
        "b": (outbox.SENDING, None),
    }


def test_failed_for_csm_lists_their_onboardings_and_their_direct_messages(clean_db):
    ours, other = make_onboarding(clean_db), make_onboarding(clean_db, customer="Globex")
    with session_scope(clean_db) as s:
        s.exec(
            select(Person).where(Person.onboarding_id == other, Person.role == Role.IMPLEMENTATION_CSM)
        ).one().slack_user_id = "U0OTHERCSM"
        outbox.claim(
            s,
            [
                notice(ours, "a", audience=Audience.SHARED),
                notice(other, "b", audience=Audience.SHARED),
                notice(other, "c", recipient=VENDOR_CSM),
                notice(ours, "d", audience=Audience.INTERNAL),
            ],
        )
    with session_scope(clean_db) as s:
        for row in outbox.due(s, MONDAY_9):
            if row.subject != "d":
                outbox.mark_failed(s, row, error="is_archived")
    with session_scope(clean_db) as s:
        assert sorted(r.subject for r in outbox.failed_for_csm(s, VENDOR_CSM)) == ["a", "c"]
        assert sorted(r.subject for r in outbox.failed_for_csm(s, "U0OTHERCSM")) == ["b", "c"]
        assert outbox.failed_for_csm(s, VENDOR_MANAGER) == []
