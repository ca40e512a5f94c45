"""What changed for the running onboardings in a span of time, for the managers' weekly portfolio digest.

Each read is one statement whatever the number of onboardings: the stage moves (audited
"advanced"), the escalations raised or resolved, the low ratings given or changed, and the
portfolio digests already written for the managers (the last one says how each onboarding stood).
The changes are read for every running onboarding through a join rather than for a list of ids: the
digests cover most of the book at once, and a list of thousands of ids cost more to render and send
than the week's rows themselves.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Join
from sqlalchemy.sql.schema import Table

from store.candidates import RUNNING
from store.models import AuditEntry, Escalation, Notification, Onboarding, StageRating, table_of

_A = table_of(AuditEntry)
_E = table_of(Escalation)
_R = table_of(StageRating)
_N = table_of(Notification)
_O = table_of(Onboarding)

StageMove = namedtuple("StageMove", "onboarding_id old new at")
EscalationChange = namedtuple("EscalationChange", "onboarding_id rule subject raised_at resolved_at")
LowRating = namedtuple("LowRating", "onboarding_id stage score updated_at")
Digest = namedtuple("Digest", "recipient payload created_at")


def _running(table: Table) -> Join:
    return table.join(_O, and_(_O.c.id == table.c.onboarding_id, _O.c.status.in_(RUNNING)))


def stage_moves(conn: Connection, since: datetime, until: datetime) -> list[StageMove]:
    """Stage moves of running onboardings between `since` and `until`, oldest first."""
    query = (
        select(_A.c.onboarding_id, _A.c.old_value, _A.c.new_value, _A.c.at)
        .select_from(_running(_A))
        .where(_A.c.entity == "stage", _A.c.action == "advanced")
        .where(_A.c.at >= since, _A.c.at < until)
        .order_by(_A.c.at, _A.c.id)
    )
    return list(map(StageMove._make, conn.execute(query).fetchall()))


def escalation_changes(conn: Connection, since: datetime, until: datetime) -> list[EscalationChange]:
    """Escalations of running onboardings raised, or resolved, between `since` and `until`."""
    raised = and_(_E.c.raised_at >= since, _E.c.raised_at < until)
    resolved = and_(_E.c.resolved_at >= since, _E.c.resolved_at < until)
    query = (
        select(_E.c.onboarding_id, _E.c.rule, _E.c.subject, _E.c.raised_at, _E.c.resolved_at)
        .select_from(_running(_E))
        .where(or_(raised, resolved))
        .order_by(_E.c.raised_at, _E.c.id)
    )
    return list(map(EscalationChange._make, conn.execute(query).fetchall()))


def low_ratings(conn: Connection, since: datetime, until: datetime, *, at_most: int) -> list[LowRating]:
    """Ratings of running onboardings of `at_most` or less given (or changed) between `since` and `until`."""
    query = (
        select(_R.c.onboarding_id, _R.c.stage, _R.c.score, _R.c.updated_at)
        .select_from(_running(_R))
        .where(_R.c.score <= at_most)
        .where(_R.c.updated_at >= since, _R.c.updated_at < until)
        .order_by(_R.c.updated_at, _R.c.id)
    )
    return list(map(LowRating._make, conn.execute(query).fetchall()))


def digests_since(conn: Connection, rule: str, recipients: Sequence[str], since: datetime) -> list[Digest]:
    """The rows of `rule` written for these people since `since`, oldest first."""
    if not recipients:
        return []
    query = (
        select(_N.c.recipient, _N.c.payload, _N.c.created_at)
        .where(_N.c.rule == rule, _N.c.recipient.in_(sorted(recipients)))
        .where(_N.c.created_at >= since)
        .order_by(_N.c.created_at, _N.c.id)
    )
    return list(map(Digest._make, conn.execute(query).fetchall()))
