"""Turning a complete, valid handoff into a live onboarding: the plan, the records, the posts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.slack import publish as stage_cards
from bot.core.domain import Role, Side, Tier
from bot.onboarding.handoff import HandoffDraft
from bot.planning.playbook import Playbook, playbook_for_tier
from bot.onboarding.readiness import Readiness, evaluate
from bot.runtime.services import Services
from bot.planning.timeline import Feasibility, plan_onboarding
from messages import handoff_posts
from store import audit
from store.db import session_scope
from store.models import PostedCard
from store.onboardings import OnboardingRecord, active_onboardings_for_csm, create_onboarding

log = logging.getLogger(__name__)


@dataclass
class StartResult:
    record: OnboardingRecord
    readiness: Readiness
    feasibility: Feasibility
    post_failures: list[str] = field(default_factory=list)


def choose_playbook(playbooks: dict[str, Playbook], draft: HandoffDraft) -> Playbook:
    chosen = playbook_for_tier(playbooks, Tier(draft.tier), draft.playbook_key)
    if chosen is None:
        raise ValueError(f"no playbook for level {draft.tier}")
    return chosen


def readiness_of(session: Session, record: OnboardingRecord) -> Readiness:
    csm = record.person(Role.IMPLEMENTATION_CSM)
    load = active_onboardings_for_csm(session, csm.slack_user_id) if csm and csm.slack_user_id else 0
    return evaluate(record.onboarding, record.people, load)


def start_onboarding(
    services: Services, draft: HandoffDraft, playbooks: dict[str, Playbook], *, actor: str, now: datetime
) -> StartResult:
    playbook = choose_playbook(playbooks, draft)
    plan = plan_onboarding(
        playbook, draft.contract_signed_on, draft.target_go_live_on, it_in_scope=draft.it_dependencies
    )
    with session_scope(services.engine) as session:
        record = create_onboarding(session, draft, playbook, plan, actor=actor, now=now)
        readiness = readiness_of(session, record)
        audit.record(
            session,
            onboarding_id=record.onboarding.id,
            entity="onboarding",
            entity_id=record.onboarding.id,
            action="readiness_checked",
            actor=actor,
            actor_side=Side.VENDOR.value,
            new="ready" if readiness.ready else "not ready",
            reason="; ".join(c.text for c in readiness.missing) or None,
            at=now,
        )
    result = StartResult(record, readiness, plan.feasibility)
    _post(services, result, actor=actor, now=now)
    return result


def _post(services: Services, result: StartResult, *, actor: str, now: datetime) -> None:
    """Post the handoff internally and the welcome and plan to the customer. A Slack failure is
    reported back and audited; the onboarding itself is already safely stored."""
    record = result.record
    ob = record.onboarding
    client = services.client
    cards: list[PostedCard] = []
    posted: list[tuple[str, str, str]] = []

    def post(kind: str, channel: str, blocks, text: str, thread_ts: str | None = None) -> str | None:
        try:
            ts = client.chat_postMessage(channel=channel, blocks=blocks, text=text, thread_ts=thread_ts)["ts"]
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            result.post_failures.append(f"I couldn't post the {kind} in <#{channel}> (Slack said `{error}`).")
            log.warning("posting %s for onboarding %s failed: %s", kind, ob.id, error)
            return None
        posted.append((kind, channel, ts))
        return ts

    summary = handoff_posts.internal_summary(record, result.readiness, result.feasibility)
    ts = post("handoff", ob.internal_channel_id, summary, f"Handoff: {ob.customer_name}")
    if ts:
        cards.append(PostedCard(onboarding_id=ob.id, kind=stage_cards.HANDOFF, channel_id=ob.internal_channel_id, ts=ts))
        for part in handoff_posts.pack(handoff_posts.internal_story(record)):
            post("handoff notes", ob.internal_channel_id, part, f"Handoff notes: {ob.customer_name}", thread_ts=ts)

    post("welcome", ob.shared_channel_id, handoff_posts.welcome(record), f"Welcome aboard, {ob.customer_name}!")
    ts = post("plan", ob.shared_channel_id, handoff_posts.plan_overview(record), f"Onboarding plan: {ob.customer_name}")
    if ts:
        cards.append(PostedCard(onboarding_id=ob.id, kind=stage_cards.OVERVIEW, channel_id=ob.shared_channel_id, ts=ts))
        try:
            client.pins_add(channel=ob.shared_channel_id, timestamp=ts)
        except SlackApiError as exc:
            log.info("could not pin the plan for onboarding %s: %s", ob.id, exc.response.get("error"))

    with session_scope(services.engine) as session:
        session.add_all(cards)
        session.flush()
    stage_card = stage_cards.post_card(services, record, stage_cards.STAGE, ob.stage, now)
    if stage_card is not None:
        posted.append(("stage card", stage_card.channel_id, stage_card.ts))
    with session_scope(services.engine) as session:
        for kind, channel, ts in posted:
            audit.record(session, onboarding_id=ob.id, entity="message", action="posted", actor=actor,
                         actor_side=Side.VENDOR.value, field=kind, new=f"{channel}/{ts}", at=now)
        for failure in result.post_failures:
            audit.record(session, onboarding_id=ob.id, entity="message", action="post_failed", actor=actor,
                         actor_side=Side.VENDOR.value, reason=failure, at=now)


def feasibility_of(record: OnboardingRecord, playbooks: dict[str, Playbook]) -> Feasibility:
    """The timeline verdict for a stored onboarding, worked out again from its plan and dates."""
    ob = record.onboarding
    playbook = playbooks[ob.playbook_key]
    in_scope = [d for d in ob.it_dependencies if d in {dep.value for dep in playbook.it_durations}]
    return plan_onboarding(playbook, ob.contract_signed_on, ob.target_go_live_on, it_in_scope=in_scope).feasibility
