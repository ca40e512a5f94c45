"""What the rules read of every active onboarding at once: one set-based query per kind of row.

Each function issues exactly one statement, whatever the number of onboardings, and returns its rows
as named tuples: reading a field of one is many times cheaper than of a SQLAlchemy Row, and the
rules read fields of about 100,000 rows per sweep. Only running onboardings are read: "active" ones and
"live" ones (after go-live the adoption stage still has milestones to nudge); handed-off ones
get only the account cadence (store.account_handoffs), cancelled ones nothing.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, null, or_, select, type_coerce
from sqlalchemy.engine import Connection

from bot.core.domain import MilestoneStatus, OnboardingStatus
from store.models import Milestone, Onboarding, Person, PostedCard, Snooze, table_of

_O = table_of(Onboarding)
_M = table_of(Milestone)
_P = table_of(Person)
_S = table_of(Snooze)
_C = table_of(PostedCard)
# The statuses the rules speak for: before go-live and after it, until the handoff or a cancellation.
RUNNING = (OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value)
_ACTIVE = _O.c.status.in_(RUNNING)
DONE = MilestoneStatus.DONE.value
BLOCKED = MilestoneStatus.BLOCKED.value
AWAITING = MilestoneStatus.AWAITING_CONFIRMATION.value

OnboardingRow = namedtuple(
    "OnboardingRow",
    "id customer_name playbook_key timezone contract_signed_on target_go_live_on shared_channel_id "
    "internal_channel_id created_at projected_go_live_on went_live_on stage schedule sponsor_signed_at",
)
PersonRow = namedtuple("PersonRow", "id onboarding_id side role name slack_user_id")
MilestoneRow = namedtuple(
    "MilestoneRow",
    "id onboarding_id key title stage status due_on completed_at customer_owner_id vendor_owner_id "
    "customer_owner_role vendor_owner_role blocked_since blocked_reason blocked_unblocker version "
    "snoozed depends_on",  # snoozed: the milestone's own snooze runs past now
)
KickoffRow = namedtuple("KickoffRow", "onboarding_id key status completed_at")
SnoozeRow = namedtuple("SnoozeRow", "onboarding_id rule subject until")
CardRow = namedtuple("CardRow", "onboarding_id kind subject channel_id ts")


def active(table: Any) -> Any:
    """`table` joined to its onboarding, for a query restricted to active onboardings."""
    return table.join(_O, _O.c.id == table.c.onboarding_id)


def onboardings(conn: Connection) -> list[OnboardingRow]:
    query = select(*(_O.c[name] for name in OnboardingRow._fields)).where(_ACTIVE)
    return list(map(OnboardingRow._make, conn.execute(query).fetchall()))


def people(conn: Connection) -> list[PersonRow]:
    query = select(*(_P.c[name] for name in PersonRow._fields)).select_from(active(_P)).where(_ACTIVE)
    return list(map(PersonRow._make, conn.execute(query).fetchall()))


def milestones(
    conn: Connection, now: datetime, due_by: date, recap_keys: Sequence[str], done_since: datetime | None
) -> list[MilestoneRow]:
    """The candidate milestones: open ones due by `due_by`, blocked or awaiting the customer, or among
    `recap_keys`; and, when `done_since` is given, those done since then.

    `depends_on` is read only for the `recap_keys` milestones (None for the others).
    """
    is_open = _M.c.status != DONE
    wanted = and_(
        is_open,
        or_(_M.c.due_on <= due_by, _M.c.status.in_((BLOCKED, AWAITING)), _M.c.key.in_(recap_keys)),
    )
    if done_since is not None:
        wanted = or_(wanted, and_(_M.c.status == DONE, _M.c.completed_at >= done_since))
    return list(map(MilestoneRow._make, conn.execute(candidate_query(wanted, recap_keys, now)).fetchall()))


def candidate_query(wanted: Any, recap_keys: Sequence[str], now: datetime) -> Any:
    snoozed = case((_M.c.snoozed_until > now, True), else_=False)
    depends_on = type_coerce(case((_M.c.key.in_(recap_keys), _M.c.depends_on), else_=null()), _M.c.depends_on.type)
    columns: list[Any] = [_M.c[name] for name in MilestoneRow._fields[:-2]]
    columns += [snoozed.label("snoozed"), depends_on.label("depends_on")]
    return select(*columns).select_from(active(_M)).where(_ACTIVE, wanted)


def recap_dependencies(conn: Connection, recap_keys: Sequence[str], keys: Sequence[str]) -> list[KickoffRow]:
    """Status and completion of the milestones `keys` of every active onboarding whose recap (one of
    `recap_keys`) is still open."""
    kick, recap = _M.alias("kick"), _M.alias("recap")
    # From the onboardings, so both milestones are found through the (onboarding, key) index.
    query = (
        select(kick.c.onboarding_id, kick.c.key, kick.c.status, kick.c.completed_at)
        .select_from(
            _O.join(
                recap,
                and_(recap.c.onboarding_id == _O.c.id, recap.c.key.in_(recap_keys), recap.c.status != DONE),
            ).join(kick, and_(kick.c.onboarding_id == _O.c.id, kick.c.key.in_(keys)))
        )
        .where(_ACTIVE)
    )
    return list(map(KickoffRow._make, conn.execute(query).fetchall()))


def running_snoozes(conn: Connection, now: datetime) -> list[SnoozeRow]:
    """The snoozes of running onboardings that run past `now`."""
    query = (
        select(_S.c.onboarding_id, _S.c.rule, _S.c.subject, _S.c.until)
        .select_from(active(_S))
        .where(_ACTIVE, _S.c.until > now)
    )
    return list(map(SnoozeRow._make, conn.execute(query).fetchall()))


def cards(conn: Connection, kinds: Sequence[str]) -> list[CardRow]:
    """Where the cards of these kinds of every running onboarding are (channel and ts), for links to them."""
    query = (
        select(_C.c.onboarding_id, _C.c.kind, _C.c.subject, _C.c.channel_id, _C.c.ts)
        .select_from(active(_C))
        .where(_ACTIVE, _C.c.kind.in_(list(kinds)), _C.c.ts != "")
    )
    return list(map(CardRow._make, conn.execute(query).fetchall()))
