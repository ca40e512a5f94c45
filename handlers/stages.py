"""Moving a stage on, the go-live sign-off, and "My tasks" for whoever clicks it."""

from __future__ import annotations

from slack_bolt import App

from bot.core.calendar import today_in
from bot.core.domain import Act
from bot.core.effects import GONE, Kind, Outcome
from bot.core.ids import Action
from bot.core.payloads import OnboardingRef, StageRef
from bot.milestones import permissions
from bot.milestones.stage_moves import Signer, advance_stage, sign_off
from bot.runtime.services import Services
from bot.slack import publish
from handlers.boundary import Interaction, on_action
from messages import cards as card_blocks


def register(app: App, services: Services) -> None:
    def answer(i: Interaction, outcome: Outcome) -> None:
        publish.publish(services, outcome.changed, now=services.clock.now())
        if outcome.kind is not Kind.APPLIED:
            i.say(outcome.message)

    @on_action(app, services, Action.MY_TASKS, OnboardingRef)
    def my_tasks(i: Interaction[OnboardingRef]) -> None:
        record = publish.fresh_record(services.engine, i.payload.onboarding_id)
        if record is None:
            i.say(GONE)
            return
        if refused := permissions.check(record, i.actor, Act.MY_TASKS):
            i.say(refused)
            return
        today = today_in(record.onboarding.timezone, services.clock.now())
        i.say("Your open milestones", card_blocks.my_tasks(record, i.actor.user_id, today))

    @on_action(app, services, Action.STAGE_ADVANCE, StageRef)
    def advance(i: Interaction[StageRef]) -> None:
        ref = i.payload
        answer(i, advance_stage(services.engine, ref.onboarding_id, ref.stage, i.actor, now=services.clock.now()))

    def signing(signer: Signer):
        def listener(i: Interaction[OnboardingRef]) -> None:
            outcome = sign_off(
                services.engine,
                i.payload.onboarding_id,
                i.actor,
                signer,
                now=services.clock.now(),
                playbooks=services.playbooks,
            )
            answer(i, outcome)

        return listener

    on_action(app, services, Action.SIGNOFF_SPONSOR, OnboardingRef)(signing(Signer.SPONSOR))
    on_action(app, services, Action.SIGNOFF_CSM, OnboardingRef)(signing(Signer.CSM))
