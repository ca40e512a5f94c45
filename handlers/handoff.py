"""`/onboard new`: the sales-to-CS handoff modal, four steps, then the onboarding is started.

Each step checks its own inputs and answers `response_action: errors` until they are right; the
draft travels in `private_metadata` and nothing is stored until the last step is valid.
"""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.core.calendar import today_in
from bot.core.domain import ROLE_LABELS, Role
from bot.core.ids import Field, View, person_field
from bot.onboarding.handoff import (
    CUSTOMER_ROLES,
    VENDOR_FIELDS,
    HandoffDraft,
    metadata_problem,
    read_basics,
    read_customer,
    read_story,
    read_team,
)
from bot.onboarding.start import AlreadyRunning, StartResult, start_onboarding
from bot.runtime.services import Services
from bot.slack import publish
from bot.slack.lookups import SLACK_SLOW, SLOW, channel_facts, user_identities
from handlers.boundary import Submission, on_view, open_view
from handlers.commands import CommandCall, CommandRouter, Subcommand
from messages import handoff_modal as modal
from messages.blocks import esc
from messages.handoff_posts import who

log = logging.getLogger(__name__)

NOT_YOURS = "Only the vendor's team can set up an onboarding."


def register(app: App, services: Services, router: CommandRouter) -> None:
    playbooks = services.playbooks

    def open_handoff(call: CommandCall) -> None:
        call.ack()
        channel = call.command.get("channel_id", "")
        today = today_in(services.settings.default_timezone, services.clock.now()).isoformat()
        draft = HandoffDraft(
            timezone=services.settings.default_timezone,
            shared_channel_id=channel if channel.startswith(("C", "G")) else "",
            signed_default=today,
        )
        open_view(
            services,
            call.client,
            call.command["trigger_id"],
            modal.basics_view(draft, playbooks=playbooks, today=today),
        )

    router.add(
        Subcommand(
            name="new",
            usage="/onboard new",
            summary="Start an onboarding: the sales-to-CS handoff, then the plan.",
            run=open_handoff,
        )
    )

    def step(callback_id: View):
        return on_view(app, services, callback_id, HandoffDraft.from_metadata, vendor_only=True, refusal=NOT_YOURS)

    @step(View.HANDOFF_BASICS)
    def basics(s: Submission[HandoffDraft]) -> None:
        form, draft = s.form, s.payload
        tz = form.option(Field.TIMEZONE) or draft.timezone
        errors = read_basics(form, draft, today=today_in(tz, services.clock.now()), known_playbooks=set(playbooks))
        if errors:
            s.ack(response_action="errors", errors=errors)
            return
        s.replace(modal.team_view(draft, default_csm=s.actor.user_id))

    @step(View.HANDOFF_TEAM)
    def team(s: Submission[HandoffDraft]) -> None:
        form, draft = s.form, s.payload
        picked = {c for c in (form.conversation(Field.SHARED_CHANNEL), form.conversation(Field.INTERNAL_CHANNEL)) if c}
        users = {u for f in VENDOR_FIELDS.values() if (u := form.user(f))}
        try:
            channels = {c: channel_facts(services.quick, c) for c in picked}
            teams, names = user_identities(services.quick, users)
        except SLACK_SLOW:
            s.refuse(SLOW)
            return
        errors = read_team(
            form, draft, channels=channels, user_names=names, user_teams=teams, vendor_team_id=services.vendor_team_id
        )
        if errors:
            s.ack(response_action="errors", errors=errors)
            return
        shared_name = channels[draft.shared_channel_id].name
        s.replace(modal.customer_view(draft, shared_channel_name=shared_name))

    @step(View.HANDOFF_CUSTOMER)
    def customer(s: Submission[HandoffDraft]) -> None:
        form, draft = s.form, s.payload
        users = {u for role in CUSTOMER_ROLES if (u := form.user(person_field(role.value, "user")))}
        try:
            teams, names = user_identities(services.quick, users)
        except SLACK_SLOW:
            s.refuse(SLOW)
            return
        errors = read_customer(form, draft, user_names=names, user_teams=teams, vendor_team_id=services.vendor_team_id)
        if not errors and (problem := metadata_problem(draft)):
            errors = {person_field(Role.ECONOMIC_BUYER.value, "name"): problem}
        if errors:
            s.ack(response_action="errors", errors=errors)
            return
        s.replace(modal.story_view(draft))

    @step(View.HANDOFF_STORY)
    def story(s: Submission[HandoffDraft]) -> None:
        draft = s.payload
        errors = read_story(s.form, draft)
        if errors:
            s.ack(response_action="errors", errors=errors)
            return
        s.replace(modal.working_view(draft.customer_name))

        # After the ack: the plan, the records and the posts may take longer than Slack's 3 seconds.
        now = services.clock.now()
        try:
            result = start_onboarding(services.engine, draft, playbooks, actor=s.actor.user_id, now=now)
        except AlreadyRunning as running:
            lines = [
                f"<#{running.channel_id}> already has an onboarding under way, so I didn't start another one. "
                "Use `/onboard status` in that channel to see where it stands."
            ]
            s.client.views_update(view_id=s.view["id"], view=modal.result_view(running.customer_name, lines))
            return
        result.post_failures = publish.post_setup(services, result.record, actor=s.actor.user_id, now=now)
        s.client.views_update(view_id=s.view["id"], view=modal.result_view(draft.customer_name, _result_lines(result)))


def _result_lines(result: StartResult) -> list[str]:
    ob = result.record.onboarding
    lines = [
        f"The plan has {len(result.record.milestones)} milestones in <#{ob.shared_channel_id}>; "
        f"the full handoff is in <#{ob.internal_channel_id}>."
    ]
    if not result.feasibility.feasible:
        lines.append(f":warning: {result.feasibility.reason}")
    if result.readiness.ready:
        lines.append(":white_check_mark: Ready for kickoff.")
    else:
        lines.append(
            ":no_entry: Not ready for kickoff yet:\n" + "\n".join(f"• {c.text}" for c in result.readiness.missing)
        )
    unowned = sorted(
        {
            ROLE_LABELS[Role(role)]
            for m in result.record.milestones
            for role, owner in ((m.customer_owner_role, m.customer_owner_id), (m.vendor_owner_role, m.vendor_owner_id))
            if role and owner is None
        }
    )
    if unowned:
        lines.append(
            ":warning: Milestones with no owner yet, for: " + ", ".join(unowned) + ". "
            "Name them with *Assign owner* under *My tasks* on the stage card."
        )
    lines.extend(f":x: {failure}" for failure in result.post_failures)
    if result.account_taken:
        account, holder = result.account_taken
        lines.append(
            f":warning: Account id `{esc(account)}` already belongs to the onboarding of {esc(holder)}, so I left it "
            "off this one. Check the id, then set it with `/onboard account-id`."
        )
    elif ob.external_account_id:
        lines.append(f"Usage reports for account `{esc(ob.external_account_id)}` count for {esc(ob.customer_name)}.")
    csm = result.record.person(Role.IMPLEMENTATION_CSM)
    lines.append(f"Implementation CSM: {who(csm)}")
    return lines
