"""The App Home: "my onboardings" and "needs my attention" for the vendor's team."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Side, Stage
from bot.milestones.progress import health_word, overdue
from bot.runtime.services import Services
from messages import blocks as b
from store.db import session_scope
from store.models import PostedCard
from store.queries import milestones_of, onboardings_of
from sqlmodel import col, select

HOME_BLOCKS_MAX = 100


def home_view(services: Services, user_id: str, now: datetime) -> dict[str, Any]:
    with session_scope(services.engine) as session:
        mine = onboardings_of(session, user_id)
        plans = milestones_of(session, [ob.id for ob in mine])
        people = {ob.id: ob for ob in mine}
        cards = list(session.exec(select(PostedCard).where(col(PostedCard.onboarding_id).in_(list(people)))))
    card_of = {(c.onboarding_id, c.kind, c.subject): c for c in cards}

    def link(onboarding_id: int, stage: str) -> dict[str, Any] | None:
        card = card_of.get((onboarding_id, "stage", stage)) or card_of.get((onboarding_id, "overview", ""))
        if card is None:
            return None
        return b.button("Open card", f"home.open.{onboarding_id}.{stage}", url=services.permalink(card.channel_id, card.ts))

    blocks: list[dict[str, Any]] = [b.header("My onboardings")]
    if not mine:
        blocks.append(b.section("No onboardings with you on the team yet. Start one with `/onboard new`."))
    for ob in mine[:30]:
        today = today_in(ob.timezone, now)
        items = plans[ob.id]
        text = (f"*{ob.customer_name}* · {Stage(ob.stage).label} · go-live {ob.target_go_live_on:%a %d %b} · "
                f"{health_word(ob, items, today)}")
        blocks.append(b.section(text, accessory=link(ob.id, ob.stage)))

    attention = []
    for ob in mine:
        today = today_in(ob.timezone, now)
        late = {m.id for m in overdue(plans[ob.id], today)}
        for m in plans[ob.id]:
            why = {
                MilestoneStatus.BLOCKED: "blocked",
                MilestoneStatus.AWAITING_CONFIRMATION: "awaiting the customer's confirmation",
            }.get(MilestoneStatus(m.status)) or ("overdue" if m.id in late else None)
            if why:
                attention.append((ob, m, why))
    blocks += [b.divider(), b.header("Needs my attention")]
    if not attention:
        blocks.append(b.section("Nothing overdue, blocked or waiting. :sunny:"))
    room = HOME_BLOCKS_MAX - len(blocks) - 1
    for ob, m, why in attention[:room]:
        blocks.append(b.section(f"*{m.title}* ({ob.customer_name}) · {why} · due {m.due_on:%a %d %b}",
                                accessory=link(ob.id, m.stage)))
    if len(attention) > room:
        blocks.append(b.context(f"…and {len(attention) - room} more."))
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        if services.side_of(body.get("team_id")) is not Side.VENDOR:
            return
        client.views_publish(user_id=user, view=home_view(services, user, datetime.now(UTC)))
