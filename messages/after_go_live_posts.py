"""What the post-go-live cadence and the adoption plays say (bot.automation.rules.after_go_live),
every sentence from messages.templates, and the button that opens the value report's preview."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.ids import Action
from bot.core.notices import Rule
from bot.core.payloads import OnboardingRef
from messages import blocks as b
from messages.templates import Templates

TEMPLATES = {
    Rule.POST_GO_LIVE_CHECK_IN: "post_go_live_check_in",
    Rule.VALUE_REPORT: "value_report_due",
    Rule.SUCCESS_STORY: "success_story_prompt",
    Rule.EXPANSION_CONVERSATION: "expansion_conversation_prompt",
    Rule.FIRST_BUSINESS_REVIEW: "first_business_review_due",
    Rule.EXPANSION_READINESS: "expansion_readiness_due",
    Rule.EXECUTIVE_SUMMARY: "executive_summary",
}
PLAY_TEMPLATES = {"value_demonstration": "value_demonstration_play", "intervention": "intervention_play"}
RULES = frozenset({*TEMPLATES, Rule.VALUE_PLAY})
# Only the executive summary is for the customer's eyes; the rest speak to the vendor's team.
FOR_THE_CUSTOMER = frozenset({Rule.EXECUTIVE_SUMMARY})
# What a rendering may read, with its default when the notice left it out.
_DEFAULTS: dict[str, Any] = {
    "customer_name": "", "went_live_on": None, "weeks_live": 0, "active": None, "seats": None,
    "activation_percent": None, "activation_target_percent": 70, "trend": "too_early", "trend_change_percent": 0,
    "below_peak_percent": 0, "peak": 0, "last": 0, "milestones_done": 0, "milestones_open": 0,
    "success_criteria": "", "month": "1", "reached": [], "reached_count": 0, "next": [], "next_review_on": None,
    "weeks": 8, "play": "",
}  # fmt: skip


def _values(facts: dict[str, Any]) -> dict[str, Any]:
    out = {**_DEFAULTS, **facts}
    for key in ("went_live_on", "next_review_on", "due_on"):
        if isinstance(out.get(key), str):
            try:
                out[key] = date.fromisoformat(out[key])
            except ValueError:
                out[key] = None
    return out


def template_of(rule: str, play: str) -> str:
    if rule == Rule.VALUE_PLAY:
        if play not in PLAY_TEMPLATES:
            raise ValueError(f"no play named {play!r}")
        return PLAY_TEMPLATES[play]
    return TEMPLATES[Rule(rule)]


def line(templates: Templates, rule: str, subject: str, facts: dict[str, Any]) -> str:
    """The post's mrkdwn, from its template (a play is named by the notice's subject)."""
    return templates.render(template_of(rule, subject), **_values(facts))


def preview_button(onboarding_id: int) -> dict[str, Any]:
    return b.button(
        "Preview the value report", Action.REPORT_PREVIEW, OnboardingRef(onboarding_id).encode(), style="primary"
    )


_NUMBERS: dict[str, Any] = {
    "customer_name": "Acme Corp", "went_live_on": date(2026, 4, 6), "weeks_live": 7, "active": 41, "seats": 50,
    "activation_percent": 82, "activation_target_percent": 70, "trend": "growing", "trend_change_percent": 24,
    "below_peak_percent": 0, "peak": 41, "last": 41, "milestones_done": 11, "milestones_open": 2,
    "success_criteria": "Every region reports weekly from the tool", "due_on": date(2026, 5, 6),
}  # fmt: skip
_SUMMARY: dict[str, Any] = {
    "month": "1", "reached": ["Go-live signed off", "Admin training"], "reached_count": 9,
    "next": ["Regional rollout"], "next_review_on": date(2026, 7, 6),
}  # fmt: skip
# Values each template is rendered with when a team's templates are checked.
SAMPLES: dict[str, dict[str, Any]] = {
    "after_go_live_numbers": _NUMBERS,
    **{name: _NUMBERS for name in TEMPLATES.values() if name != "executive_summary"},
    "executive_summary": _NUMBERS | _SUMMARY,
    "value_demonstration_play": {**_NUMBERS, "trend": "flat", "trend_change_percent": 2, "weeks": 8},
    "intervention_play": {**_NUMBERS, "trend": "declining", "peak": 40, "last": 22, "below_peak_percent": 45},
}
