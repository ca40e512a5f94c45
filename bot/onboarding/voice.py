"""The customer's voice: how a finished stage went, in a 1-5 score and an optional comment.

Any of the customer's named people may answer, once per stage, and change their answer. The card
shows how many answered, never who gave which score. A score of `LOW_SCORE` or less tells the CSM
internally at once (bot.slack.publish), with the comment when one comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.core.domain import Act, Stage, StageStatus
from bot.core.effects import GONE, Changed, Kind, LowRating, Outcome
from bot.core.text import problem
from bot.milestones import permissions
from bot.milestones.rules import Actor
from store import audit, ratings
from store.db import session_scope
from store.onboardings import load

SCORES = (1, 2, 3, 4, 5)
LOW_SCORE = 2
COMMENT_MAX = 1000
RATED_STAGES = tuple(s for s in Stage if s is not Stage.PRE_KICKOFF)  # the customer takes part from kickoff on

WORDS = {1: "poorly", 2: "not well", 3: "all right", 4: "well", 5: "very well"}


def comment_problem(comment: str) -> str | None:
    return problem(comment, COMMENT_MAX, multiline=True)


def rate(
    engine: Engine, onboarding_id: int, stage: Stage, actor: Actor, *, score: int, now: datetime,
    comment: str | None = None,
) -> Outcome:  # fmt: skip
    """Store the actor's answer for `stage`; the outcome's message thanks them, in words for them alone."""
    if score not in SCORES:
        return Outcome.refused("Pick a score from 1 to 5.")
    if comment is not None and (wrong := comment_problem(comment)):
        return Outcome.refused(wrong)
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return Outcome(Kind.MISSING, GONE)
        if refused := permissions.check(record, actor, Act.RATE):
            return Outcome.refused(refused)
        finished = next((s for s in record.stages if s.key == stage.value), None)
        if stage not in RATED_STAGES or finished is None or finished.status != StageStatus.DONE.value:
            return Outcome.refused(
                f"{stage.label} isn't finished yet, so there's nothing to rate. Ask again when it is."
            )
        done = ratings.rate(session, onboarding_id, stage.value, actor.user_id, score=score, now=now, comment=comment)
        row = done.rating
        audit.record(session, onboarding_id=onboarding_id, entity="rating", entity_id=row.id, action="rated",
                     actor=actor.user_id, actor_side=actor.side_value, field=stage.value, old=done.before,
                     new=score, at=now)  # fmt: skip
        changed = Changed(onboarding_id, rated=stage)
        changed_score = done.before is not None and done.before != score
        if score <= LOW_SCORE and (done.before is None or done.before > LOW_SCORE or changed_score or comment):
            changed.low_rating = LowRating(row.id, stage, actor.user_id, score, row.comment,
                                           done.before if changed_score else None)  # fmt: skip
    return Outcome(Kind.APPLIED, thanks(stage, score, done.before, commented=bool(comment)), changed)


def thanks(stage: Stage, score: int, before: int | None, *, commented: bool) -> str:
    said = f"You rated {stage.label} {score} of 5"
    if before is not None and before != score:
        said += f" (it was {before})"
    said += ". Thank you."
    if not commented:
        said += " You can change it, or add a comment, from the same message."
    if score <= LOW_SCORE:
        said += " Your CSM will be in touch about what went wrong."
    return said


@dataclass(frozen=True)
class Draft:
    """What the comment form opens with: the customer's name and the person's answer so far."""

    customer: str
    score: int | None
    comment: str


def draft(engine: Engine, onboarding_id: int, stage: Stage, actor: Actor) -> tuple[str | None, Draft | None]:
    """Why the actor can't answer for this stage (then None), or their answer so far."""
    with session_scope(engine) as session:
        record = load(session, onboarding_id)
        if record is None:
            return GONE, None
        if refused := permissions.check(record, actor, Act.RATE):
            return refused, None
        mine = ratings.rating_of(session, onboarding_id, stage.value, actor.user_id)
        return None, Draft(record.onboarding.customer_name, mine.score if mine else None, mine.comment if mine else "")
