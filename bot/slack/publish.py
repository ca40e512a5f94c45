"""The one publish path: what a committed change did becomes card edits, thread lines and posts.

Cards are posted once, then kept current with `chat.update` in place; the card's thread holds the
history, one short line per change. Everything is rebuilt from the store after the change's
transaction has committed: no Slack call runs inside a change's transaction. The stage card the
person clicked is redrawn first, on the click's own thread; the rest follows on the onboarding's
lane (`Outlet.follow_ups`, bot.slack.lanes), in the order of the changes. Whatever thread or replica
draws a card, an older state never replaces a newer one (bot.slack.draws in one process,
store.card_draws across replicas: on PostgreSQL a redraw holds its card's row, and nothing else,
while it reaches Slack).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.calendar import today_in
from bot.core.domain import Role, Side, Stage
from bot.core.effects import CardKind, Changed, LowRating
from bot.milestones.stages import criteria, next_stage, signoff_waits_for
from bot.onboarding.lookup import with_failed_setup
from bot.onboarding.start import feasibility_of, readiness_of
from bot.onboarding.voice import RATED_STAGES
from bot.planning.playbook import Playbook
from bot.slack.draws import Draws
from bot.slack.lanes import Lanes
from bot.value.summary import summarise
from messages import cards, handoff_posts, history, value_posts, voice
from messages.templates import Templates
from store import audit, ratings
from store.card_draws import draw_in_order
from store.db import session_scope
from store.models import PostedCard
from store.onboardings import OnboardingRecord, by_kind, cards_of, load

log = logging.getLogger(__name__)


class Outlet(Protocol):
    """What publishing needs: bot.runtime.services.Services fits."""

    @property
    def engine(self) -> Engine: ...
    @property
    def client(self) -> WebClient: ...
    @property
    def poster(self) -> WebClient: ...
    @property
    def playbooks(self) -> dict[str, Playbook]: ...
    @property
    def templates(self) -> Templates: ...
    @property
    def follow_ups(self) -> Lanes | None: ...
    @property
    def draws(self) -> Draws | None: ...


@dataclass(frozen=True)
class Rendered:
    blocks: list[dict[str, Any]]
    text: str


def stored_card(session: Session, onboarding_id: int, kind: str, subject: str = "") -> PostedCard | None:
    return session.exec(
        select(PostedCard).where(
            PostedCard.onboarding_id == onboarding_id, PostedCard.kind == kind, PostedCard.subject == subject
        )
    ).first()


def _render(services: Outlet, record: OnboardingRecord, kind: str, subject: str, now: datetime) -> Rendered:
    ob = record.onboarding
    if kind == CardKind.STAGE:
        stage = Stage(subject)
        today = today_in(ob.timezone, now)
        blocks = cards.stage_card(record, stage, criteria(record, stage), today, next_stage(stage))
        return Rendered(blocks, cards.stage_card_text(record, stage))
    if kind == CardKind.SIGNOFF:
        sponsor, csm = record.person(Role.EXECUTIVE_SPONSOR), record.person(Role.IMPLEMENTATION_CSM)
        playbook = services.playbooks.get(ob.playbook_key)
        waiting = signoff_waits_for(record, playbook.go_live_milestone.key if playbook else None)
        blocks = cards.signoff_card(
            record,
            sponsor.slack_user_id if sponsor else None,
            csm.slack_user_id if csm else None,
            waiting,
            adoption=_adoption(services, record, now),
        )
        return Rendered(blocks, cards.signoff_card_text(record))
    if kind == CardKind.HANDOFF:
        with session_scope(services.engine) as session:
            readiness = readiness_of(session, record)
        blocks = handoff_posts.internal_summary(
            record, readiness, feasibility_of(record, services.playbooks), overridden_by=ob.gate_override_by
        )
        return Rendered(blocks, handoff_posts.internal_summary_text(record))
    if kind == CardKind.WELCOME:
        return Rendered(handoff_posts.welcome(record), handoff_posts.welcome_text(record))
    if kind == CardKind.RATING:
        stage = Stage(subject)
        with session_scope(services.engine) as session:
            answered = ratings.answered(session, ob.id, stage.value)
        asked = sum(1 for p in record.people if p.side == Side.CUSTOMER.value and p.slack_user_id)
        return Rendered(
            voice.rating_card(ob.id, ob.customer_name, stage, answered, asked), voice.rating_card_text(stage)
        )
    return Rendered(handoff_posts.plan_overview(record), handoff_posts.plan_overview_text(record))


def _adoption(services: Outlet, record: OnboardingRecord, now: datetime) -> list[dict[str, Any]]:
    """The go-live criterion for the sign-off card, once the product reports usage (nothing before)."""
    summary = summarise(services.engine, record.id, now, services.playbooks)
    if summary is None or not summary.has_usage:
        return []
    return value_posts.go_live_criterion(services.templates, summary.criterion, summary.settings.go_live_active_days)


def post_card(services: Outlet, record: OnboardingRecord, kind: str, subject: str, now: datetime) -> PostedCard | None:
    """Post a card to the shared channel once; a second call finds the stored one."""
    ob = record.onboarding
    with session_scope(services.engine) as session:
        existing = stored_card(session, ob.id, kind, subject)
    if existing is not None:
        return existing
    shown = _render(services, record, kind, subject, now)
    try:
        ts = services.poster.chat_postMessage(channel=ob.shared_channel_id or "", blocks=shown.blocks, text=shown.text)[
            "ts"
        ]
    except SlackApiError as exc:
        log.warning("posting the %s card for onboarding %s failed: %s", kind, ob.id, exc.response.get("error"))
        return None
    card = PostedCard(
        onboarding_id=ob.id,
        kind=kind,
        subject=subject,
        channel_id=ob.shared_channel_id or "",
        ts=ts,
        created_at=now,
        updated_at=now,
    )
    with session_scope(services.engine) as session:
        session.add(card)
    return card


Cards = dict[tuple[str, str], PostedCard]


def posted_cards(session: Session, onboarding_id: int) -> Cards:
    """Every card of an onboarding, by (kind, subject), in one query."""
    return by_kind(cards_of(session, onboarding_id))


def refresh(
    services: Outlet,
    record: OnboardingRecord,
    *,
    stages: set[str],
    now: datetime,
    handoff: bool = False,
    rated: Stage | None = None,
    posted: Cards | None = None,
    others: bool = True,
) -> None:
    """Rebuild the named stage cards, the overview and the sign-off card (and the handoff post) in place.

    The stage cards go first: they are what the person who clicked is looking at. With `others`
    False, only they are rebuilt; with `stages` empty, only the others.
    """
    ob = record.onboarding
    assert ob.id is not None
    wanted = [(CardKind.STAGE.value, s) for s in sorted(stages)]
    if others:
        wanted += [(CardKind.OVERVIEW.value, ""), (CardKind.SIGNOFF.value, "")]
        if handoff:
            wanted.append((CardKind.HANDOFF.value, ""))
        if rated is not None:
            wanted.append((CardKind.RATING.value, rated.value))
    if posted is None:
        with session_scope(services.engine) as session:
            posted = posted_cards(session, ob.id)
    for card in filter(None, (posted.get(key) for key in wanted)):
        if services.draws is None:
            _redraw(services, record, card, now)
        else:
            services.draws.draw((card.channel_id, card.ts), record.stamp, partial(_redraw, services, record, card, now))


def _redraw(services: Outlet, record: OnboardingRecord, card: PostedCard, now: datetime) -> None:
    """Show `record` on the card, unless another replica has drawn a later state on it meanwhile."""
    shown = _render(services, record, card.kind, card.subject, now)

    def send() -> None:
        try:
            services.client.chat_update(channel=card.channel_id, ts=card.ts, blocks=shown.blocks, text=shown.text)
        except SlackApiError as exc:
            log.warning(
                "updating the %s card of onboarding %s failed: %s", card.kind, record.id, exc.response.get("error")
            )

    draw_in_order(services.engine, card.id, record.stamp, send)


def thread_line(services: Outlet, card: PostedCard | None, text: str) -> None:
    if card is None or not text:
        return
    try:
        services.poster.chat_postMessage(channel=card.channel_id, thread_ts=card.ts, text=text)
    except SlackApiError as exc:
        log.warning("history line for card %s failed: %s", card.id, exc.response.get("error"))


def tell(services: Outlet, user_id: str, channel_id: str | None, text: str) -> None:
    """Tell one person something only they see: in the channel they acted from, else by direct message."""
    try:
        if channel_id and not channel_id.startswith("D"):
            services.poster.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        else:
            services.poster.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user_id, exc.response.get("error"))


def card_places(engine: Engine, onboarding_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    """The cards in the channel so far: (kind, subject) -> (channel id, ts)."""
    with session_scope(engine) as session:
        return {(c.kind, c.subject): (c.channel_id, c.ts) for c in cards_of(session, onboarding_id)}


def fresh_record(engine: Engine, onboarding_id: int) -> OnboardingRecord | None:
    with session_scope(engine) as session:
        return load(session, onboarding_id)


def publish(services: Outlet, changed: Changed | None, *, now: datetime) -> OnboardingRecord | None:
    """Show what a committed change did; returns the onboarding as it now stands (None when gone)."""
    if changed is None:
        return None
    # The onboarding as it now stands (as the change left it, or read under its lock) and its cards.
    record = changed.state if isinstance(changed.state, OnboardingRecord) else None
    if record is None:
        with session_scope(services.engine) as session:
            record = load(session, changed.onboarding_id, lock=True, cards=True)
    if record is None:
        return None
    posted = record.posted or {}
    refresh(services, record, stages=changed.stages, now=now, posted=posted, others=False)
    lanes = services.follow_ups
    if lanes is None:
        _follow_up(services, changed, record, posted, now)
    else:
        lanes.submit(record.id, lambda: _follow_up(services, changed, record, posted, now))
    return record


def _follow_up(services: Outlet, changed: Changed, record: OnboardingRecord, posted: Cards, now: datetime) -> None:
    """What a change shows besides the clicked stage cards: the other cards, thread lines, new posts."""
    refresh(services, record, stages=set(), now=now, handoff=changed.handoff, rated=changed.rated, posted=posted)
    lines = [(posted.get((line.kind.value, line.subject)), line) for line in changed.lines]
    ask_card = posted.get((CardKind.STAGE.value, changed.ask.stage)) if changed.ask is not None else None
    for card, line in lines:
        thread_line(services, card, history.line(line.history))
    if changed.ask is not None:
        asked = record.person_by_id(changed.ask.person_id)
        milestone = next((m for m in record.milestones if m.id == changed.ask.milestone_id), None)
        if asked is not None and milestone is not None:
            thread_line(services, ask_card, cards.ask_to_confirm(asked, milestone))
    if changed.moved is not None:
        finished, started = changed.moved
        ob = record.onboarding
        try:
            services.poster.chat_postMessage(
                channel=ob.shared_channel_id or "", text=cards.stage_summary(record, finished, started)
            )
        except SlackApiError as exc:
            log.warning("the stage summary for onboarding %s failed: %s", ob.id, exc.response.get("error"))
        post_card(services, record, CardKind.STAGE.value, started.value, now)
        if started is Stage.GO_LIVE:
            post_card(services, record, CardKind.SIGNOFF.value, "", now)
        if finished in RATED_STAGES:
            post_card(services, record, CardKind.RATING.value, finished.value, now)
    if changed.completed:
        ob = record.onboarding
        try:
            services.poster.chat_postMessage(channel=ob.shared_channel_id or "", text=cards.completed_summary(record))
        except SlackApiError as exc:
            log.warning("the closing summary for onboarding %s failed: %s", ob.id, exc.response.get("error"))
        post_card(services, record, CardKind.RATING.value, Stage.ADOPTION.value, now)
    if changed.low_rating is not None:
        alert_low_rating(services, record, changed.low_rating)


def alert_low_rating(services: Outlet, record: OnboardingRecord, low: LowRating) -> None:
    """Tell the CSM in the internal channel; a later change or comment goes into the first alert's thread."""
    ob = record.onboarding
    if not ob.internal_channel_id:
        log.warning("onboarding %s has no internal channel for a low rating", ob.id)
        return
    with session_scope(services.engine) as session:
        thread = ratings.alert_ts(session, low.rating_id)
    try:
        if thread:
            services.poster.chat_postMessage(channel=ob.internal_channel_id, thread_ts=thread,
                                             text=voice.low_rating_followup(low))  # fmt: skip
            return
        csm = record.person(Role.IMPLEMENTATION_CSM)
        text = voice.low_rating_alert(ob.customer_name, csm.slack_user_id if csm else None, low)
        ts = services.poster.chat_postMessage(channel=ob.internal_channel_id, text=text)["ts"]
    except SlackApiError as exc:
        log.warning("the low-rating alert for onboarding %s failed: %s", ob.id, exc.response.get("error"))
        return
    with session_scope(services.engine) as session:
        ratings.mark_alerted(session, low.rating_id, ts)


SETUP_PARTS = (CardKind.HANDOFF, CardKind.WELCOME, CardKind.OVERVIEW, CardKind.STAGE)
PART_NAMES = {CardKind.HANDOFF: "handoff", CardKind.WELCOME: "welcome", CardKind.OVERVIEW: "plan",
              CardKind.STAGE: "first stage card"}  # fmt: skip


def _first_stage(record: OnboardingRecord) -> str:
    return min(record.stages, key=lambda s: s.position).key if record.stages else record.onboarding.stage


def missing_setup(engine: Engine, record: OnboardingRecord) -> list[CardKind]:
    """The setup posts of an onboarding that never reached Slack."""
    with session_scope(engine) as session:
        stored = {(c.kind, c.subject) for c in cards_of(session, record.id)}
    wanted = {kind: (kind.value, _first_stage(record) if kind is CardKind.STAGE else "") for kind in SETUP_PARTS}
    return [kind for kind, key in wanted.items() if key not in stored]


SETUP_REFUSALS = 12  # refusals audited per onboarding before the sweep stops trying (the status button still works)


def retry_setups(services: Outlet, *, now: datetime) -> int:
    """Post again what Slack refused of any onboarding's setup; returns how many parts went out."""
    posted = 0
    for onboarding_id in with_failed_setup(services.engine, most_failures=SETUP_REFUSALS):
        record = fresh_record(services.engine, onboarding_id)
        if record is None or not (missing := missing_setup(services.engine, record)):
            continue
        failures = post_setup(services, record, actor=audit.SYSTEM, now=now)
        posted += len(missing) - len(failures)
    return posted


def post_setup(services: Outlet, record: OnboardingRecord, *, actor: str, now: datetime) -> list[str]:
    """Post what is missing of the setup: the handoff (internally), the welcome, the pinned plan and the
    first stage card (to the customer); what failed, in words.

    Each part is stored as it lands, so running this again posts only what is still missing (and a
    failure is audited and can be retried from `/onboard status`); the onboarding itself was stored
    whole before anything was posted.
    """
    ob = record.onboarding
    failures: list[str] = []
    posted: list[tuple[str, str, str]] = []
    for kind in missing_setup(services.engine, record):
        channel = ob.internal_channel_id if kind is CardKind.HANDOFF else ob.shared_channel_id
        subject = _first_stage(record) if kind is CardKind.STAGE else ""
        shown = _render(services, record, kind.value, subject, now)
        try:
            ts = services.poster.chat_postMessage(channel=channel or "", blocks=shown.blocks, text=shown.text)["ts"]
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            failures.append(f"I couldn't post the {PART_NAMES[kind]} in <#{channel}> (Slack said `{error}`).")
            log.warning("posting the %s of onboarding %s failed: %s", kind.value, ob.id, error)
            continue
        with session_scope(services.engine) as session:
            session.add(PostedCard(onboarding_id=record.id, kind=kind.value, subject=subject, channel_id=channel or "",
                                   ts=ts, created_at=now, updated_at=now))  # fmt: skip
        posted.append((PART_NAMES[kind], channel or "", ts))
        if kind is CardKind.HANDOFF:
            for part in handoff_posts.pack(handoff_posts.internal_story(record)):
                try:
                    services.poster.chat_postMessage(channel=channel or "", blocks=part, thread_ts=ts,
                                                     text=handoff_posts.internal_story_text(record))  # fmt: skip
                except SlackApiError as exc:
                    log.warning("the handoff notes of onboarding %s failed: %s", ob.id, exc.response.get("error"))
        if kind is CardKind.OVERVIEW:
            try:
                services.client.pins_add(channel=channel or "", timestamp=ts)
            except SlackApiError as exc:
                log.info("could not pin the plan for onboarding %s: %s", ob.id, exc.response.get("error"))
    with session_scope(services.engine) as session:
        for what, channel, ts in posted:
            audit.record(session, onboarding_id=record.id, entity="message", action="posted", actor=actor,
                         actor_side=Side.VENDOR.value, field=what, new=f"{channel}/{ts}", at=now)  # fmt: skip
        for failure in failures:
            audit.record(session, onboarding_id=record.id, entity="message", action="post_failed", actor=actor,
                         actor_side=Side.VENDOR.value, reason=failure, at=now)  # fmt: skip
    return failures
