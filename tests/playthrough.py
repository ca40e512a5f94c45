"""People playing an onboarding through the bot's own controls, under a clock swept every business hour.

The vendor's CSM starts it with `/onboard new`; from then on everyone acts only by pressing what the
bot rendered for them, in a channel they are in, and each press is made by the person the control
names (a milestone's owner, the sponsor on the sign-off card, the addressee of a nudge). Nothing is
written to the store behind the bot's back. The script each person follows:

- 10:00: each vendor-side owner marks done what is due (a milestone's due day or later); each
  customer-side owner confirms what waits for them, from the latest nudge addressed to them when
  there is one, else from the stage card; the customer says something in the channel.
- The IT item of the plan (SSO) is marked blocked by its owner once its card is up (the CSM then tries
  to move on without it) and unblocked nine business days later; the escalation DM is picked up by
  the first reader after the CSM (who is away that week).
- The customer goes quiet for two weeks in the setup stage: no messages, no presses.
- 12:00: the champion answers each rating card with a 4.
- 15:00: the CSM presses "Move on" on the current stage once its last milestone is due (a refusal
  is answered with what holds the stage; the next day they try again); the sponsor signs off two
  business days after the sign-off card first asks, and the CSM countersigns; the CSM completes the
  onboarding when the adoption card offers it and nothing on that card is left open.

Every answer the bot sends back to a press is kept in `answers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from sqlmodel import select

from bot.automation.rules import decide
from bot.core.calendar import add_business_days, is_business_day
from bot.core.domain import Stage
from bot.core.ids import Action, Field
from bot.core.payloads import MilestoneRef
from bot.planning.timeline import plan_onboarding
from bot.runtime.sweep import run_sweep
from store.db import session_scope
from store.models import Milestone, Onboarding, PostedCard
from tests.cards_helpers import as_text, button_values, team_of
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    SHARED_CHANNEL,
    VENDOR_CSM,
    VENDOR_MANAGER,
    Harness,
)
from tests.handoff_flow import HandoffFlow, basics, choice, day, state, team, text, user
from tests.slack_sender import Reply
from tests.test_journey import ONGOING, _everyone_in_slack, _milestones_on
from tests.test_outbox import ManualClock

NEW_YORK = ZoneInfo("America/New_York")
START = date(2026, 5, 4)  # a Monday: the contract is signed and handed over
BLOCKED_KEY = "sso_live"
BLOCKED_FOR = 9  # business days: long enough to climb the ladder
SILENT_FROM, SILENT_DAYS = START + timedelta(days=14), 14
RATING = 4
HOURS = range(9, 17)  # the customer's business hours, each swept on the hour


def local(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), NEW_YORK).astimezone(UTC)


@dataclass
class Answer:
    """What the bot said back to one press."""

    at: datetime
    who: str
    action: str
    text: str
    blocks: list[dict[str, Any]]


@dataclass
class Playthrough:
    h: Harness
    playbook: str
    frozen: FrozenDateTimeFactory
    onboarding_id: int = 0
    answers: list[Answer] = field(default_factory=list)
    completed_on: date | None = None
    blocked_on: date | None = None
    unblocked_on: date | None = None
    picked_up_by: str | None = None
    rated: set[str] = field(default_factory=set)
    nudged_confirms: int = 0
    signoff_offered_on: date | None = None
    _seen_answers: int = 0
    _said: int = 0

    # -- the clock ---------------------------------------------------------------------------

    def hours(self, until: date) -> Iterator[datetime]:
        d = START
        while d <= until:
            if is_business_day(d):
                for hour in HOURS:
                    yield local(d, hour)
            d += timedelta(days=1)

    def at(self, moment: datetime) -> None:
        self.frozen.move_to(moment)

    def sweep(self, moment: datetime) -> None:
        rules = partial(decide, playbooks=self.h.services.playbooks)
        run_sweep(self.h.services, moment, decide=rules, clock=ManualClock(moment))
        self.h.settle()

    # -- the handoff -------------------------------------------------------------------------

    def hand_off(self) -> None:
        self.at(local(START, 9))
        target = plan_onboarding(self.h.services.playbooks[self.playbook], START, None, it_in_scope=["sso"]).go_live
        HandoffFlow(self.h).complete(
            basics_=basics(
                playbook=choice(self.playbook),
                contract_signed=day(START.isoformat()),
                target_go_live=day(target.isoformat()),
            ),
            team_=team(ongoing_csm=user(ONGOING)),
            customer_=_everyone_in_slack(),
        )
        self.h.settle()
        with session_scope(self.h.engine) as s:
            ob = s.exec(select(Onboarding).order_by(Onboarding.id.desc())).first()
            assert ob is not None
            self.onboarding_id = ob.id

    # -- a day ---------------------------------------------------------------------------------

    def play(self, until: date) -> None:
        """Run the days until the onboarding is complete, or `until`."""
        for moment in self.hours(until):
            self.at(moment)
            today, hour = moment.astimezone(NEW_YORK).date(), moment.astimezone(NEW_YORK).hour
            if self.completed_on is None:
                if hour == 10:
                    self.morning(today)
                elif hour == 11:
                    self.blocked_item(today)
                elif hour == 12:
                    self.rate()
                elif hour == 15:
                    self.afternoon(today)
            self.pick_up_escalation()
            self.sweep(moment)
            if self.completed_on is not None and today > add_business_days(self.completed_on, 5):
                return

    def silent(self, today: date) -> bool:
        return SILENT_FROM <= today < SILENT_FROM + timedelta(days=SILENT_DAYS)

    def morning(self, today: date) -> None:
        if not self.silent(today):
            self.say(CUSTOMER_CHAMPION, "Morning! Picking up where we left off.")
        for card in self.stage_cards():
            for _ in range(40):  # each press redraws the card; read it again after each
                press = self.next_press(card, today)
                if press is None:
                    break
                action_id, value, who = press
                if action_id == Action.MILESTONE_CONFIRM and self.confirm_from_nudge(value, who):
                    continue
                self.press(card, action_id, value, who)

    def next_press(self, card: PostedCard, today: date) -> tuple[str, str, str] | None:
        for mid, customers, vendors, buttons in _milestones_on(self.shown(card)):
            m = self.milestone(mid)
            if m.key == "go_live_signed" or (m.key == BLOCKED_KEY and self.unblocked_on is None):
                continue
            if Action.MILESTONE_CONFIRM in buttons and customers and not self.silent(today):
                return Action.MILESTONE_CONFIRM, buttons[Action.MILESTONE_CONFIRM], customers[0]
            if Action.MILESTONE_DONE in buttons and vendors and m.due_on <= today:
                return Action.MILESTONE_DONE, buttons[Action.MILESTONE_DONE], vendors[0]
        return None

    def confirm_from_nudge(self, card_value: str, who: str) -> bool:
        """Confirm from the latest nudge in the shared channel that offers it to `who`, if there is one."""
        wanted = MilestoneRef.decode(card_value).milestone_id
        cards = {c.ts for c in self.stage_cards()}
        for message in reversed(self.h.fake.messages(SHARED_CHANNEL)):
            if message["ts"] in cards or f"<@{who}>" not in as_text(message.get("blocks", [])):
                continue
            for value in button_values(message, Action.MILESTONE_CONFIRM):
                if MilestoneRef.decode(value).milestone_id == wanted:
                    self.record(who, Action.MILESTONE_CONFIRM, self.click(Action.MILESTONE_CONFIRM, value, who,
                                                                           SHARED_CHANNEL, message["ts"]))  # fmt: skip
                    self.nudged_confirms += 1
                    return True
        return False

    def blocked_item(self, today: date) -> None:
        card, found = self.card_with(BLOCKED_KEY)
        if card is None or found is None:
            return
        m = self.milestone(found[0])
        buttons = found[3]
        if self.blocked_on is None and Action.MILESTONE_BLOCK in buttons and today >= m.start_on:
            opened = len(self.h.fake.calls_to("views.open"))
            owner = found[2][0]
            self.click(Action.MILESTONE_BLOCK, buttons[Action.MILESTONE_BLOCK], owner, card.channel_id, card.ts)
            form = self.h.fake.view(self.h.fake.wait_for("views.open", count=opened + 1).response["view"]["id"])
            values = {
                Field.BLOCKED_WHAT: text("The identity provider is in a change freeze until their audit ends"),
                Field.BLOCKED_WHO: text("Acme IT security"),
                Field.BLOCKED_SINCE: day(today.isoformat()),
            }
            reply = self.h.slack.view_submission(form, state(values), user_id=owner, team_id=team_of(owner))
            assert reply.status == 200 and not reply.text, reply.text
            self.h.settle()
            self.blocked_on = today
            self.try_to_move_on(card)  # the customer would rather go live without SSO; the bot says no
        elif (
            self.blocked_on
            and self.unblocked_on is None
            and Action.MILESTONE_UNBLOCK in buttons
            and today >= add_business_days(self.blocked_on, BLOCKED_FOR)
        ):
            self.press(card, Action.MILESTONE_UNBLOCK, buttons[Action.MILESTONE_UNBLOCK], found[2][0])
            self.unblocked_on = today

    def pick_up_escalation(self) -> None:
        """The first escalation DM to reach someone other than the CSM is picked up by its reader."""
        if self.picked_up_by:
            return
        for reader in (VENDOR_MANAGER,):
            dm = f"D{reader[1:]}"
            for message in self.h.fake.messages(dm):
                values = button_values(message, Action.ESCALATION_ACK)
                if values:
                    answer = self.click(Action.ESCALATION_ACK, values[0], reader, dm, message["ts"])
                    self.record(reader, Action.ESCALATION_ACK, answer)
                    self.h.settle()
                    self.picked_up_by = reader
                    return

    def rate(self) -> None:
        for message in self.h.fake.messages(SHARED_CHANNEL):
            if message["ts"] in self.rated:
                continue
            for block in message.get("blocks", []):
                for element in block.get("elements", []) if block.get("type") == "actions" else []:
                    if element.get("action_id") == f"{Action.RATE}.{RATING}":
                        answered = self.click(
                            element["action_id"], element["value"], CUSTOMER_CHAMPION, SHARED_CHANNEL, message["ts"]
                        )
                        self.record(CUSTOMER_CHAMPION, element["action_id"], answered)
                        self.h.settle()
                        self.rated.add(message["ts"])

    def afternoon(self, today: date) -> None:
        self.sign_off(today)
        card = next((c for c in self.stage_cards() if button_values(self.shown(c), Action.STAGE_ADVANCE)), None)
        if card is not None:
            stage = Stage(card.subject)
            with session_scope(self.h.engine) as s:
                dues = [m.due_on for m in s.exec(select(Milestone).where(
                    Milestone.onboarding_id == self.onboarding_id, Milestone.stage == stage.value))]  # fmt: skip
            if dues and today >= max(dues):
                self.try_to_move_on(card)
            return
        adoption = self.card("stage", Stage.ADOPTION.value)
        values = button_values(self.shown(adoption), Action.ONBOARDING_COMPLETE) if adoption else []
        if adoption and values and not any(found[3] for found in _milestones_on(self.shown(adoption))):
            self.press(adoption, Action.ONBOARDING_COMPLETE, values[0], VENDOR_CSM)
            self.completed_on = today

    def try_to_move_on(self, card: PostedCard) -> None:
        values = button_values(self.shown(card), Action.STAGE_ADVANCE)
        if values:
            answer = self.click(Action.STAGE_ADVANCE, values[0], VENDOR_CSM, card.channel_id, card.ts)
            self.record(VENDOR_CSM, Action.STAGE_ADVANCE, answer)

    def sign_off(self, today: date) -> None:
        """The sponsor signs two business days after the card first asks (a private reminder comes
        meanwhile); the CSM countersigns at once."""
        signoff = self.card("signoff")
        if signoff is None:
            return
        if self.signoff_offered_on is None and button_values(self.shown(signoff), Action.SIGNOFF_SPONSOR):
            self.signoff_offered_on = today
        if self.signoff_offered_on is None or today < add_business_days(self.signoff_offered_on, 2):
            return
        for action_id, who in ((Action.SIGNOFF_SPONSOR, CUSTOMER_SPONSOR), (Action.SIGNOFF_CSM, VENDOR_CSM)):
            values = button_values(self.shown(signoff), action_id)
            if values:
                self.press(signoff, action_id, values[0], who)

    # -- pressing, as Slack sends it --------------------------------------------------------------

    def press(self, card: PostedCard, action_id: str, value: str, who: str) -> None:
        """Press a button on a card and wait until the card shows the result."""
        before = sum(1 for c in self.h.fake.calls_to("chat.update") if c.args["ts"] == card.ts)
        self.record(who, action_id, self.click(action_id, value, who, card.channel_id, card.ts))
        self.h.fake.wait_for("chat.update", lambda c: c.args["ts"] == card.ts, count=before + 1)
        self.h.settle()

    def click(self, action_id: str, value: str, who: str, channel: str, ts: str) -> Reply:
        return self.h.slack.block_action(
            action_id,
            user_id=who,
            team_id=team_of(who),
            value=value,
            channel_id=channel,
            message_ts=ts,
        )

    def record(self, who: str, action_id: str, reply) -> None:
        assert reply.status == 200, reply.text
        self.h.settle()
        for call in self.h.fake.calls_to("response_url")[self._seen_answers :]:
            self.answers.append(
                Answer(datetime.now(UTC), who, action_id, call.args.get("text", ""), call.args.get("blocks", []))
            )
        self._seen_answers = len(self.h.fake.calls_to("response_url"))

    def say(self, who: str, words: str) -> None:
        self._said += 1
        ts = f"{datetime.now(UTC).timestamp():.0f}.{self._said:06d}"
        team = team_of(who)
        event = {"type": "message", "channel": SHARED_CHANNEL, "user": who, "text": words, "ts": ts,
                 "event_ts": ts, "channel_type": "channel", "team": team, "user_team": team, "source_team": team}  # fmt: skip
        assert self.h.slack.event(event).status == 200
        self.h.settle()

    # -- reading what Slack shows ---------------------------------------------------------------

    def card(self, kind: str, subject: str = "") -> PostedCard | None:
        with session_scope(self.h.engine) as s:
            return s.exec(
                select(PostedCard).where(
                    PostedCard.onboarding_id == self.onboarding_id,
                    PostedCard.kind == kind,
                    PostedCard.subject == subject,
                )
            ).first()

    def stage_cards(self) -> list[PostedCard]:
        return [c for stage in Stage if (c := self.card("stage", stage.value)) is not None]

    def card_with(self, key: str) -> tuple[PostedCard | None, tuple | None]:
        for card in self.stage_cards():
            for found in _milestones_on(self.shown(card)):
                if self.milestone(found[0]).key == key:
                    return card, found
        return None, None

    def shown(self, card: PostedCard) -> dict[str, Any]:
        return next(m for m in self.h.fake.messages(card.channel_id) if m["ts"] == card.ts)

    def milestone(self, milestone_id: int) -> Milestone:
        with session_scope(self.h.engine) as s:
            found = s.get(Milestone, milestone_id)
            assert found is not None
            return found
