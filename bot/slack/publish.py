"""Keeping the cards in the shared channel current: post once, then `chat.update` in place.

The card's thread holds the history: one short line per change, so people can scroll back.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.core.calendar import today_in
from bot.core.domain import Role, Stage
from bot.runtime.services import Services
from bot.milestones.stages import criteria, next_stage
from messages import cards, handoff_posts
from store.db import session_scope
from store.models import PostedCard
from store.onboardings import OnboardingRecord

log = logging.getLogger(__name__)

STAGE, OVERVIEW, SIGNOFF, HANDOFF = "stage", "overview", "signoff", "handoff"


def stored_card(session: Session, onboarding_id: int, kind: str, subject: str = "") -> PostedCard | None:
    return session.exec(
        select(PostedCard).where(
            PostedCard.onboarding_id == onboarding_id, PostedCard.kind == kind, PostedCard.subject == subject
        )
    ).first()


def stage_blocks(record: OnboardingRecord, stage: Stage, now: datetime):
    today = today_in(record.onboarding.timezone, now)
    return cards.stage_card(record, stage, criteria(record, stage), today, next_stage(stage))


def signoff_blocks(record: OnboardingRecord):
    sponsor, csm = record.person(Role.EXECUTIVE_SPONSOR), record.person(Role.IMPLEMENTATION_CSM)
    return cards.signoff_card(record, sponsor.slack_user_id if sponsor else None, csm.slack_user_id if csm else None)


def _render(record: OnboardingRecord, kind: str, subject: str, now: datetime) -> tuple[list, str]:
    name = record.onboarding.customer_name
    if kind == STAGE:
        return stage_blocks(record, Stage(subject), now), f"{Stage(subject).label} · {name}"
    if kind == SIGNOFF:
        return signoff_blocks(record), f"Go-live sign-off · {name}"
    return handoff_posts.plan_overview(record), f"Onboarding plan: {name}"


def post_card(services: Services, record: OnboardingRecord, kind: str, subject: str, now: datetime) -> PostedCard | None:
    """Post a card to the shared channel once; a second call finds the stored one."""
    ob = record.onboarding
    with session_scope(services.engine) as session:
        existing = stored_card(session, ob.id, kind, subject)
    if existing is not None:
        return existing
    blocks, text = _render(record, kind, subject, now)
    try:
        ts = services.client.chat_postMessage(channel=ob.shared_channel_id, blocks=blocks, text=text)["ts"]
    except SlackApiError as exc:
        log.warning("posting the %s card for onboarding %s failed: %s", kind, ob.id, exc.response.get("error"))
        return None
    card = PostedCard(onboarding_id=ob.id, kind=kind, subject=subject, channel_id=ob.shared_channel_id, ts=ts,
                      created_at=now, updated_at=now)
    with session_scope(services.engine) as session:
        session.add(card)
    return card


def refresh(services: Services, record: OnboardingRecord, *, stages: set[str], now: datetime) -> None:
    """Rebuild the named stage cards, the overview and the sign-off card from the store, in place."""
    ob = record.onboarding
    with session_scope(services.engine) as session:
        wanted = [stored_card(session, ob.id, STAGE, s) for s in sorted(stages)]
        wanted += [stored_card(session, ob.id, OVERVIEW), stored_card(session, ob.id, SIGNOFF)]
    for card in filter(None, wanted):
        blocks, text = _render(record, card.kind, card.subject, now)
        try:
            services.client.chat_update(channel=card.channel_id, ts=card.ts, blocks=blocks, text=text)
        except SlackApiError as exc:
            log.warning("updating the %s card of onboarding %s failed: %s", card.kind, ob.id, exc.response.get("error"))


def thread_line(services: Services, card: PostedCard | None, text: str) -> None:
    if card is None or not text:
        return
    try:
        services.client.chat_postMessage(channel=card.channel_id, thread_ts=card.ts, text=text)
    except SlackApiError as exc:
        log.warning("history line for card %s failed: %s", card.id, exc.response.get("error"))


def card_for_stage(services: Services, onboarding_id: int, stage: str) -> PostedCard | None:
    with session_scope(services.engine) as session:
        return stored_card(session, onboarding_id, STAGE, stage)
