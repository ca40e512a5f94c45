"""Moving a stage on, completing the onboarding, the go-live sign-off, and "My tasks" for whoever clicks it."""

from __future__ import annotations

from slack_bolt import App

from bot.core.calendar import today_in
from bot.core.domain import Act
from bot.core.effects import GONE, CardKind, Hold, Kind, Need, Outcome
from bot.core.ids import Action
from bot.core.payloads import OnboardingRef, StageRef
from bot.milestones import permissions
from bot.milestones.stage_moves import Signer, advance_stage, complete_onboarding, sign_off
from bot.runtime.services import Services
from bot.slack import publish
from handlers.boundary import Interaction, on_action
from messages import cards as card_blocks
from messages import stage_holds


def register(app: App, services: Services) -> None:
    def answer(i: Interaction, outcome: Outcome) -> None:
        publish.publish(services, outcome.changed, now=services.clock.now())
        if outcome.holds:
            # Name each milestone holding the stage, with the button that fixes it.
            onboarding_id = outcome.holds[0].onboarding_id
            posted = publish.card_places(services.engine, onboarding_id)

            def link(hold: Hold) -> str | None:
                signing = Need.SIGN_OFF in hold.needs
                card = posted.get((CardKind.SIGNOFF, "") if signing else (CardKind.STAGE, hold.stage.value))
                return services.permalink(*card) if card else None

            i.say(outcome.message, stage_holds.refusal(outcome.message, outcome.holds, link))
        elif outcome.kind is not Kind.APPLIED:
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
        may = permissions.offers(record, i.actor)
        i.say("Your open milestones", card_blocks.my_tasks(record, i.actor.user_id, today, may))

    @on_action(app, services, Action.STAGE_ADVANCE, StageRef)
    def advance(i: Interaction[StageRef]) -> None:
        ref = i.payload
        outcome = advance_stage(
            services.engine,
            ref.onboarding_id,
            ref.stage,
            i.actor,
            now=services.clock.now(),
            playbooks=services.playbooks,
        )
        answer(i, outcome)

    @on_action(app, services, Action.ONBOARDING_COMPLETE, OnboardingRef)
    def complete(i: Interaction[OnboardingRef]) -> None:
        answer(i, complete_onboarding(services.engine, i.payload.onboarding_id, i.actor, now=services.clock.now()))

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
