"""`/onboard status`, `/onboard list` and `/onboard milestone add` (vendor side)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from sqlalchemy import func
from sqlmodel import select

from bot.slack import publish as cards
from bot.core.calendar import today_in
from bot.core.domain import MilestoneStatus, Side, Stage
from bot.slack.forms import FormValues
from bot.core.ids import Field, View
from bot.milestones.progress import health_word
from bot.runtime.services import Services
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages import blocks as b
from messages import handoff_posts
from messages import milestone_modals as forms
from store import audit
from store.db import session_scope
from store.models import Milestone
from store.onboardings import load
from store.queries import is_manager, milestones_of, onboarding_in_channel, onboardings_named, onboardings_of

TITLE_MAX = 200


def _now() -> datetime:
    return datetime.now(UTC)


def register(app: App, services: Services, router: CommandRouter) -> None:
    def status(call: CommandCall) -> None:
        name = " ".join(call.args).strip()
        with session_scope(services.engine) as session:
            found = onboarding_in_channel(session, call.command.get("channel_id", "")) if not name else None
            if found is None and name:
                matches = onboardings_named(session, name)
                if len(matches) > 1:
                    names = ", ".join(m.customer_name for m in matches[:10])
                    return call.ack(response_type="ephemeral", text=f"Several onboardings match “{name}”: {names}.")
                found = matches[0] if matches else None
            record = load(session, found.id) if found else None
        if record is None:
            hint = f"No onboarding matches “{name}”." if name else "This channel has no onboarding."
            return call.ack(response_type="ephemeral", text=f"{hint} Try `/onboard status <customer>`.")
        today = today_in(record.onboarding.timezone, _now())
        word = health_word(record.onboarding, record.milestones, today)
        blocks = handoff_posts.plan_overview(record)[:-1] + [b.context(f"Health: *{word}* · stage {Stage(record.onboarding.stage).label}")]
        call.ack(response_type="ephemeral", text=f"{record.onboarding.customer_name}: {word}", blocks=blocks)

    def listing(call: CommandCall) -> None:
        everyone = "--all" in call.args
        with session_scope(services.engine) as session:
            if everyone and not is_manager(session, call.user_id):
                return call.ack(response_type="ephemeral", text="`--all` is for CSM managers.")
            rows = onboardings_of(session, None if everyone else call.user_id)
            plans = milestones_of(session, [ob.id for ob in rows])
        if not rows:
            return call.ack(response_type="ephemeral", text="No active onboardings" + ("." if everyone else " with you on the team."))
        lines = []
        for ob in rows[:40]:
            today = today_in(ob.timezone, _now())
            items = plans[ob.id]
            blocked = sum(1 for m in items if m.status == MilestoneStatus.BLOCKED)
            days = (ob.target_go_live_on - today).days
            when = f"go-live in {days} days" if days >= 0 else f"go-live was {-days} days ago"
            lines.append(
                f"*{ob.customer_name}* · {Stage(ob.stage).label} · {when} · {health_word(ob, items, today)}"
                + (f" · {blocked} blocked" if blocked else "")
            )
        more = [b.context(f"…and {len(rows) - 40} more.")] if len(rows) > 40 else []
        title = "All active onboardings" if everyone else "Your onboardings"
        call.ack(response_type="ephemeral", text=title, blocks=[b.section(f"*{title}*"), b.section("\n".join(lines)), *more])

    def milestone(call: CommandCall) -> None:
        if call.args[:1] != ["add"]:
            return call.ack(response_type="ephemeral", text="Use `/onboard milestone add`.")
        call.ack()
        with session_scope(services.engine) as session:
            here = onboarding_in_channel(session, call.command.get("channel_id", ""))
            mine = onboardings_of(session, call.user_id)
        choices = [(ob.id, ob.customer_name) for ob in mine][:100]
        if here is None and not choices:
            return call.respond(response_type="ephemeral", text="You have no active onboardings to add a milestone to.")
        today = today_in(services.settings.default_timezone, _now())
        view = forms.add_view(choices, preselected=here.id if here else None, today=today)
        call.client.views_open(trigger_id=call.command["trigger_id"], view=view)

    router.add(Subcommand("status", "/onboard status [customer]", "Where an onboarding stands (this channel's, or by name).", status))
    router.add(Subcommand("list", "/onboard list [--all]", "Your onboardings: stage, days to go-live, health, blocked.", listing))
    router.add(Subcommand("milestone", "/onboard milestone add", "Add a milestone to a live plan.", milestone))

    @app.view(View.MILESTONE_ADD)
    def add(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]
        if services.side_of(user.get("team_id")) is not Side.VENDOR:
            return ack(response_action="errors", errors={Field.MILESTONE_TITLE: "Only the vendor's team can add milestones."})
        form = FormValues(view)
        raw_id = view.get("private_metadata") or form.option(Field.ONBOARDING) or ""
        title = form.text(Field.MILESTONE_TITLE)
        start, due = form.date(Field.MILESTONE_START), form.date(Field.MILESTONE_DUE)
        errors: dict[str, str] = {}
        if not title:
            errors[Field.MILESTONE_TITLE] = "Describe the outcome."
        elif len(title) > TITLE_MAX:
            errors[Field.MILESTONE_TITLE] = f"Keep it under {TITLE_MAX} characters."
        if start is None:
            errors[Field.MILESTONE_START] = "Pick a start date."
        if due is None:
            errors[Field.MILESTONE_DUE] = "Pick a due date."
        elif start and due < start:
            errors[Field.MILESTONE_DUE] = "The due date comes before the start."
        elif due.weekday() >= 5:
            errors[Field.MILESTONE_DUE] = "That's a weekend; pick a business day."
        if not raw_id.isdigit():
            errors[Field.ONBOARDING] = "Pick the onboarding."
        if errors:
            return ack(response_action="errors", errors=errors)
        now = _now()
        with session_scope(services.engine) as session:
            record = load(session, int(raw_id))
            if record is None:
                return ack(response_action="errors", errors={Field.MILESTONE_TITLE: "That onboarding no longer exists."})
            ob = record.onboarding
            stage = form.option(Field.MILESTONE_STAGE) or ob.stage
            customer_role, vendor_role = form.option(Field.CUSTOMER_OWNER), form.option(Field.VENDOR_OWNER)
            by_role = {p.role: p for p in reversed(record.people)}
            count = session.exec(select(func.count()).select_from(Milestone).where(Milestone.onboarding_id == ob.id)).one()
            m = Milestone(
                onboarding_id=ob.id, stage=stage, key=f"added_{uuid.uuid4().hex[:8]}", title=title,
                track=form.option(Field.MILESTONE_TRACK) or "business", position=count,
                customer_owner_role=customer_role, vendor_owner_role=vendor_role,
                customer_owner_id=by_role[customer_role].id if customer_role in by_role else None,
                vendor_owner_id=by_role[vendor_role].id if vendor_role in by_role else None,
                start_on=start, due_on=due,
                client_verified="yes" in form.options(Field.MILESTONE_CLIENT_VERIFIED),
            )
            session.add(m)
            session.flush()
            audit.record(session, onboarding_id=ob.id, entity="milestone", entity_id=m.id, action="added",
                         new=title, actor=user["id"], actor_side=Side.VENDOR.value, at=now)
        ack()
        with session_scope(services.engine) as session:
            record = load(session, int(raw_id))
        cards.refresh(services, record, stages={stage}, now=now)
        cards.thread_line(services, cards.card_for_stage(services, record.onboarding.id, stage),
                          f"<@{user['id']}> added *{title}*, due {due:%a %d %b}.")
