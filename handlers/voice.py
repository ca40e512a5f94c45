"""The customer's rating of a finished stage: a score in one click, a comment in a form."""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.core.effects import Kind
from bot.core.ids import Action, Field, View
from bot.core.payloads import RatingChoice, StageRef
from bot.onboarding import voice
from bot.runtime.services import Services
from bot.slack import publish
from handlers.boundary import Interaction, Submission, on_action, on_view
from messages import voice as voice_blocks

log = logging.getLogger(__name__)

NO_FORM = (
    "I couldn't open the comment form here, but your score is kept if you clicked one. "
    "You can also tell your CSM in this channel how it went."
)


def register(app: App, services: Services) -> None:
    @on_action(app, services, re.compile(rf"^{re.escape(Action.RATE)}\.[1-5]$"), RatingChoice)
    def rate(i: Interaction[RatingChoice]) -> None:
        choice = i.payload
        outcome = voice.rate(services.engine, choice.onboarding_id, choice.stage, i.actor, score=choice.score,
                             now=services.clock.now())  # fmt: skip
        publish.publish(services, outcome.changed, now=services.clock.now())
        i.say(outcome.message)

    @on_action(app, services, Action.RATE_COMMENT, StageRef)
    def comment(i: Interaction[StageRef]) -> None:
        refused, draft = voice.draft(services.engine, i.payload.onboarding_id, i.payload.stage, i.actor)
        if refused is not None or draft is None:
            i.say(refused or voice.GONE)
            return
        try:
            i.open_view(services, voice_blocks.comment_form(i.payload, draft.customer, draft.score, draft.comment))
        except SlackApiError as exc:
            log.info("could not open the rating form: %s", exc.response.get("error"))
            i.say(NO_FORM)

    @on_view(app, services, View.RATING_COMMENT, StageRef.decode)
    def submitted(s: Submission[StageRef]) -> None:
        raw, text = s.form.option(Field.RATING_SCORE), s.form.text(Field.RATING_COMMENT)
        if raw not in {str(n) for n in voice.SCORES}:
            s.refuse("Pick a score from 1 to 5.", Field.RATING_SCORE)
            return
        if wrong := voice.comment_problem(text):
            s.refuse(wrong, Field.RATING_COMMENT)
            return
        s.ack()  # the inputs are fine: close the form, then store the answer and say so
        ref = s.payload
        outcome = voice.rate(services.engine, ref.onboarding_id, ref.stage, s.actor, score=int(raw), comment=text,
                             now=services.clock.now())  # fmt: skip
        record = publish.publish(services, outcome.changed, now=services.clock.now())
        if record is None:
            record = publish.fresh_record(services.engine, ref.onboarding_id)
        channel = record.onboarding.shared_channel_id if record is not None else None
        publish.tell(
            services, s.actor.user_id, channel, outcome.message if outcome.kind is not Kind.MISSING else voice.GONE
        )
