"""The customer's ratings of finished stages: one row per person per stage, changed in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from store.models import StageRating


@dataclass(frozen=True)
class Rated:
    """What a rating did: the row as it now stands and the score it had before (None: a first answer)."""

    rating: StageRating
    before: int | None


def rating_of(session: Session, onboarding_id: int, stage: str, user_id: str) -> StageRating | None:
    query = select(StageRating).where(
        StageRating.onboarding_id == onboarding_id, StageRating.stage == stage, StageRating.slack_user_id == user_id
    )
    return session.exec(query).first()


def rate(
    session: Session, onboarding_id: int, stage: str, user_id: str, *, score: int, now: datetime,
    comment: str | None = None,
) -> Rated:  # fmt: skip
    """Store a person's score (and comment, when given) for a stage; a second answer replaces the first."""
    row = rating_of(session, onboarding_id, stage, user_id)
    before = row.score if row is not None else None
    if row is None:
        # Two clicks of one person at once: the second insert fails on the unique key, the error
        # handler apologises, and the next click updates the row that won.
        row = StageRating(onboarding_id=onboarding_id, stage=stage, slack_user_id=user_id, score=score,
                          created_at=now, updated_at=now)  # fmt: skip
    row.score, row.updated_at = score, now
    if comment is not None:
        row.comment = comment
    session.add(row)
    session.flush()
    return Rated(row, before)


def mark_alerted(session: Session, rating_id: int, ts: str) -> None:
    row = session.get(StageRating, rating_id)
    if row is not None and not row.alert_ts:
        row.alert_ts = ts
        session.add(row)


def alert_ts(session: Session, rating_id: int) -> str | None:
    row = session.get(StageRating, rating_id)
    return row.alert_ts if row is not None else None


def answered(session: Session, onboarding_id: int, stage: str) -> int:
    """How many people answered for this stage (the card shows that, never who gave which score)."""
    query = (
        select(func.count())
        .select_from(StageRating)
        .where(StageRating.onboarding_id == onboarding_id, StageRating.stage == stage)
    )
    return int(session.exec(query).one())


def ratings_of(session: Session, onboarding_ids: list[int] | None = None) -> list[StageRating]:
    """Every rating (of the given onboardings), for the health score and the metrics."""
    query = select(StageRating)
    if onboarding_ids is not None:
        query = query.where(col(StageRating.onboarding_id).in_(onboarding_ids))
    return list(session.exec(query.order_by(col(StageRating.id))))
