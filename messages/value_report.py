"""The value report: its preview (with Post and Edit buttons), the posted report, the edit form, the chart's text fallback."""

from __future__ import annotations

from typing import Any

from bot.core.ids import Action, Field, View
from bot.core.payloads import OnboardingRef
from bot.value.report import ReportFacts
from messages import blocks as b
from messages.templates import Templates

INTRO_MAX = 2000


def intro(templates: Templates, facts: ReportFacts) -> str:
    """The opening words as mrkdwn (values escaped)."""
    return templates.render("value_report_intro", cap=INTRO_MAX, **facts.values)


def intro_as_typed(templates: Templates, facts: ReportFacts) -> str:
    """The opening words as a person would type them, to start the edit form with."""
    return intro(templates, facts).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def report_blocks(
    templates: Templates, facts: ReportFacts, *, edited_intro: str | None = None, preview: bool = False
) -> list[dict[str, Any]]:
    """`edited_intro` is person-typed (from the edit form) and escaped here."""
    opening = b.esc(edited_intro) if edited_intro is not None else intro(templates, facts)
    out = [
        b.header(f"Value report · {facts.customer}"),
        b.section(opening),
        # The health score is the vendor's own reading: the preview shows it, the customer's channel never does.
        b.section(templates.render("value_report_numbers", **(facts.values if preview else _for_customer(facts)))),
        b.context(templates.render("value_report_trend", cap=1900, **facts.values)),
    ]
    if preview:
        ref = OnboardingRef(facts.onboarding_id).encode()
        out.append(b.context(templates.render("value_report_preview_note", cap=1900, **facts.values)))
        out.append(
            b.actions(
                b.button("Post to channel", Action.REPORT_POST, ref, style="primary"),
                b.button("Edit text", Action.REPORT_EDIT, ref),
                block_id=f"report.{facts.onboarding_id}",
            )
        )
    return out


def _for_customer(facts: ReportFacts) -> dict[str, Any]:
    return {**facts.values, "health_score": None}


def report_text(facts: ReportFacts) -> str:
    return f"Value report · {b.esc(facts.customer)}"


def edit_view(templates: Templates, facts: ReportFacts) -> dict[str, Any]:
    return b.modal(
        View.REPORT_EDIT,
        "Value report",
        [
            b.input_block(
                Field.REPORT_TEXT,
                "Opening words",
                b.text_input(initial=intro_as_typed(templates, facts), multiline=True, max_length=INTRO_MAX),
                hint="The numbers and the chart follow as they are.",
            )
        ],
        submit="Post to channel",
        private_metadata=OnboardingRef(facts.onboarding_id).encode(),
    )


def chart_fallback(templates: Templates, facts: ReportFacts) -> str:
    return templates.render("chart_fallback", **facts.values)


def chart_title(facts: ReportFacts) -> str:
    return f"{facts.customer}: weekly active users and seats since go-live"
