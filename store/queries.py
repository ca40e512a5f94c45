"""Read-side queries for commands and the App Home: whose onboardings, which need attention."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.domain import OnboardingStatus, Role, Side
from store.models import AuditEntry, Milestone, Onboarding, Person, PostedCard


def onboarding_in_channel(session: Session, channel_id: str) -> Onboarding | None:
    return session.exec(
        select(Onboarding)
        .where(Onboarding.shared_channel_id == channel_id, Onboarding.status != OnboardingStatus.CANCELLED.value)
        .order_by(col(Onboarding.id).desc())
    ).first()


def running_in_channel(session: Session, channel_id: str) -> Onboarding | None:
    """The onboarding being set up or adopted in this shared channel, if there is one (at most one is)."""
    running = [OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value]
    return session.exec(
        select(Onboarding).where(Onboarding.shared_channel_id == channel_id, col(Onboarding.status).in_(running))
    ).first()


def failed_setups(session: Session, *, most_failures: int) -> list[int]:
    """Ids of running onboardings with refused setup posts (audited "post_failed"), fewer than `most_failures`."""
    running = [OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value]
    query = (
        select(AuditEntry.onboarding_id)
        .join(Onboarding, col(Onboarding.id) == col(AuditEntry.onboarding_id))
        .where(AuditEntry.entity == "message", AuditEntry.action == "post_failed", col(Onboarding.status).in_(running))
        .group_by(col(AuditEntry.onboarding_id))
        .having(func.count() < most_failures)
    )
    return [i for i in session.exec(query) if i is not None]


def onboardings_named(session: Session, text: str) -> list[Onboarding]:
    pattern = f"%{text.lower()}%"
    return list(
        session.exec(
            select(Onboarding)
            .where(func.lower(Onboarding.customer_name).like(pattern))
            .order_by(Onboarding.customer_name)
        )
    )


def onboardings_of(session: Session, slack_user_id: str | None) -> list[Onboarding]:
    """Active or live onboardings where the user is on the vendor team; everyone's when None."""
    query = select(Onboarding).where(
        col(Onboarding.status).in_([OnboardingStatus.ACTIVE.value, OnboardingStatus.LIVE.value])
    )
    if slack_user_id is not None:
        mine = select(Person.onboarding_id).where(
            Person.side == Side.VENDOR.value, Person.slack_user_id == slack_user_id
        )
        query = query.where(col(Onboarding.id).in_(mine))
    return list(session.exec(query.order_by(col(Onboarding.target_go_live_on))))


def is_manager(session: Session, slack_user_id: str) -> bool:
    return (
        session.exec(
            select(Person.id).where(Person.role == Role.CSM_MANAGER.value, Person.slack_user_id == slack_user_id)
        ).first()
        is not None
    )


def onboardings_with_role(session: Session, slack_user_id: str, role: Role) -> list[int]:
    """Ids of the onboardings (cancelled ones left out) that name this person in this role."""
    query = (
        select(Onboarding.id)
        .join(Person, col(Person.onboarding_id) == col(Onboarding.id))
        .where(
            Person.role == role.value,
            Person.slack_user_id == slack_user_id,
            Onboarding.status != OnboardingStatus.CANCELLED.value,
        )
        .distinct()
    )
    return sorted(session.exec(query))


def milestones_of(session: Session, onboarding_ids: list[int]) -> dict[int, list[Milestone]]:
    out: dict[int, list[Milestone]] = {i: [] for i in onboarding_ids}
    if onboarding_ids:
        rows = session.exec(
            select(Milestone).where(col(Milestone.onboarding_id).in_(onboarding_ids)).order_by(col(Milestone.position))
        )
        for m in rows:
            out[m.onboarding_id].append(m)
    return out


def customer_names(session: Session, onboarding_ids: list[int]) -> dict[int, str]:
    if not onboarding_ids:
        return {}
    rows = session.exec(select(Onboarding.id, Onboarding.customer_name).where(col(Onboarding.id).in_(onboarding_ids)))
    return {i: name for i, name in rows}


def cards_of(session: Session, onboarding_ids: list[int]) -> list[PostedCard]:
    """The cards the bot keeps current for these onboardings."""
    if not onboarding_ids:
        return []
    return list(session.exec(select(PostedCard).where(col(PostedCard.onboarding_id).in_(onboarding_ids))))
