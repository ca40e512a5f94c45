"""The customer's voice: the rating card of a finished stage, its comment form, and the CSM's alert."""

from __future__ import annotations

from typing import Any

from bot.core.domain import Stage
from bot.core.effects import LowRating
from bot.core.ids import Action, Field, View
from bot.core.payloads import RatingChoice, StageRef
from messages import blocks as b

SCORE_WORDS = {1: "1 · poor", 2: "2", 3: "3 · fine", 4: "4", 5: "5 · great"}


def score_action(score: int) -> str:
    return f"{Action.RATE}.{score}"


def rating_card(onboarding_id: int, customer: str, stage: Stage, answered: int, asked: int) -> list[dict[str, Any]]:
    """Asks the customer's people how the stage went; shows how many answered, never who gave what."""
    out = [
        b.section(
            f"*{stage.label} is done.* How did it go for you, {b.esc(customer)}? One click is enough; "
            "you can change your answer, or add a comment for the vendor's team."
        ),
        b.actions(
            *(
                b.button(SCORE_WORDS[score], score_action(score), RatingChoice(onboarding_id, stage, score).encode())
                for score in SCORE_WORDS
            ),
            b.button("Add a comment…", Action.RATE_COMMENT, StageRef(onboarding_id, stage).encode()),
            block_id=f"rating.{stage.value}",
        ),
    ]
    out.append(b.context(answered_line(answered, asked)))
    return out


def answered_line(answered: int, asked: int) -> str:
    if answered == 0:
        return "No answers yet. Only the vendor's team sees the scores, and never in this channel."
    if asked >= answered:
        counted = f"{answered} of {asked} have"
    else:
        counted = "1 person has" if answered == 1 else f"{answered} people have"
    return f"{counted} answered. Thank you. Scores go to the vendor's team only."


def rating_card_text(stage: Stage) -> str:
    return f"{stage.label} is done: how did it go? Rate it from 1 to 5."


def comment_form(ref: StageRef, customer: str, score: int | None, comment: str) -> dict[str, Any]:
    options = [b.option(SCORE_WORDS[s], str(s)) for s in SCORE_WORDS]
    return b.modal(
        View.RATING_COMMENT,
        f"How {ref.stage.label} went",
        [
            b.section(f"Tell the vendor's team how *{ref.stage.label}* went for {b.esc(customer)}."),
            b.input_block(
                Field.RATING_SCORE,
                "Your score",
                b.static_select(options, initial=str(score) if score else None, placeholder="1 (poor) to 5 (great)"),
            ),
            b.input_block(
                Field.RATING_COMMENT,
                "What went well, and what didn't?",
                b.text_input(initial=comment, multiline=True, max_length=1000),
                optional=True,
                hint="Only the vendor's team sees this.",
            ),
        ],
        submit="Send",
        private_metadata=ref.encode(),
    )


def low_rating_alert(customer: str, csm_id: str | None, low: LowRating) -> str:
    """The internal alert (or the line in its thread) when a customer-side person rates a stage low."""
    to = f"{b.mention(csm_id)} " if csm_id else ""
    change = f" (changed from {low.before})" if low.before is not None else ""
    said = (
        f"{to}:warning: {b.mention(low.user_id)} at {b.esc(customer)} rated *{low.stage.label}* "
        f"{low.score} of 5{change}."
    )
    if low.comment:
        said += "\n" + _quote(low.comment)
    else:
        said += " No comment yet."
    return said + "\nA call this week to hear them out is the usual next step."


def low_rating_followup(low: LowRating) -> str:
    change = f"changed their score to {low.score} of 5" if low.before is not None else f"kept {low.score} of 5"
    said = f"{b.mention(low.user_id)} {change}."
    if low.comment:
        said += "\n" + _quote(low.comment)
    return said


def _quote(text: str) -> str:
    return "\n".join(f"> {b.esc(line)}" for line in b.clip(text, 1000).splitlines() or [""])
