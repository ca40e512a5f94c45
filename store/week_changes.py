"""What changed for many onboardings in a span of time, for the managers' weekly portfolio digest.

Each read is one statement whatever the number of onboardings: the stage moves (audited
"advanced"), the escalations raised or resolved, the low ratings given or changed, and the
portfolio digests already written for the managers (the last one says how each onboarding stood).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from store.models import AuditEntry, Escalation, Notification, StageRating, table_of

_A = table_of(AuditEntry)
_E = table_of(Escalation)
_R = table_of(StageRating)
_N = table_of(Notification)

StageMove = namedtuple("StageMove", "onboarding_id old new at")
EscalationChange = namedtuple("EscalationChange", "onboarding_id rule subject raised_at resolved_at")
LowRating = namedtuple("LowRating", "onboarding_id stage score updated_at")
Digest = namedtuple("Digest", "recipient payload created_at")


def stage_moves(conn: Connection, ids: Sequence[int], since: datetime, until: datetime) -> list[StageMove]:
    if not ids:
        return []
    query = (
        select(_A.c.onboarding_id, _A.c.old_value, _A.c.new_value, _A.c.at)
        .where(_A.c.onboarding_id.in_(sorted(ids)), _A.c.entity == "stage", _A.c.action == "advanced")
        .where(_A.c.at >= since, _A.c.at < until)
        .order_by(_A.c.at, _A.c.id)
    )
    return list(map(StageMove._make, conn.execute(query).fetchall()))


def escalation_changes(
    conn: Connection, ids: Sequence[int], since: datetime, until: datetime
) -> list[EscalationChange]:
    """Escalations raised, or resolved, between `since` and `until`."""
    if not ids:
        return []
    raised = and_(_E.c.raised_at >= since, _E.c.raised_at < until)
    resolved = and_(_E.c.resolved_at >= since, _E.c.resolved_at < until)
    query = (
        select(_E.c.onboarding_id, _E.c.rule, _E.c.subject, _E.c.raised_at, _E.c.resolved_at)
        .where(_E.c.onboarding_id.in_(sorted(ids)), or_(raised, resolved))
        .order_by(_E.c.raised_at, _E.c.id)
    )
    return list(map(EscalationChange._make, conn.execute(query).fetchall()))


def low_ratings(
    conn: Connection, ids: Sequence[int], since: datetime, until: datetime, *, at_most: int
) -> list[LowRating]:
    """Ratings of `at_most` or less given (or changed) between `since` and `until`."""
    if not ids:
        return []
    query = (
        select(_R.c.onboarding_id, _R.c.stage, _R.c.score, _R.c.updated_at)
        .where(_R.c.onboarding_id.in_(sorted(ids)), _R.c.score <= at_most)
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
