"""The CSM manager's weekly portfolio digest in words (messages/templates/portfolio_digest.md.j2).

Built from the notice's facts (bot.automation.rules documents them); every list is cut to
`ITEMS_SHOWN` lines with how many more, and every customer name to `NAME_MAX` characters, so the
whole stays one section within Slack's limits. A line links to the onboarding's shared channel.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.core.domain import Stage
from messages import blocks as b
from messages.templates import SHIPPED_TEMPLATES, Mrkdwn, Templates

ITEMS_SHOWN = 8
NAME_MAX = 60
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
HEADINGS = (
    ("went_live", "Went live"),
    ("moved_stage", "Moved to a new stage"),
    ("newly_behind", "Newly behind"),
    ("newly_at_risk", "Newly at risk"),
    ("escalations_opened", "Escalations opened"),
    ("escalations_closed", "Escalations closed"),
    ("low_ratings", "Low ratings from the customer"),
)
SCHEDULES = {"on_track": "on track", "at_risk": "at risk", "behind": "behind", "live": "live"}


def _stage(value: Any) -> str:
    try:
        return Stage(str(value)).label
    except ValueError:
        return str(value)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _what(kind: str, item: dict[str, Any]) -> str:
    if kind == "moved_stage":
        return f"{_stage(item.get('from'))} → {_stage(item.get('to'))}"
    if kind in ("newly_behind", "newly_at_risk"):
        was = SCHEDULES.get(str(item.get("was") or ""))
        return f"was {was}" if was else ""
    if kind.startswith("escalations_"):
        subject = str(item.get("subject") or "")
        return f"{item.get('rule', '')}: {subject}" if subject else str(item.get("rule") or "")
    if kind == "low_ratings":
        return f"{_stage(item.get('stage'))} rated {item.get('score')} of 5"
    return ""


def _item(kind: str, item: Any) -> dict[str, Any]:
    item = item if isinstance(item, dict) else {}
    channel = str(item.get("channel") or "")
    return {
        "where": Mrkdwn(f"<#{channel}> ") if _CHANNEL.match(channel) else "",
        "name": b.clip(str(item.get("customer_name") or "?"), NAME_MAX),
        "what": _what(kind, item),
        "on": _date(item.get("on")) if kind == "went_live" else None,
    }


def digest_text(facts: dict[str, Any], templates: Templates = SHIPPED_TEMPLATES) -> str:
    sections = []
    for kind, heading in HEADINGS:
        entries = facts.get(kind) or []
        if isinstance(entries, list) and entries:
            sections.append({
                "heading": heading,
                "lines": [_item(kind, e) for e in entries[:ITEMS_SHOWN]],
                "more": max(0, len(entries) - ITEMS_SHOWN),
            })  # fmt: skip
    return templates.render("portfolio_digest", **context_of(facts), sections=sections)


def context_of(facts: dict[str, Any]) -> dict[str, Any]:
    def count(name: str) -> int:
        value = facts.get(name)
        return value if isinstance(value, int) else 0

    return {
        "since": _date(facts.get("since")),
        "onboardings": count("onboardings"),
        **{name: count(name) for name in SCHEDULES},
        "compared": bool(facts.get("compared")),
    }


SAMPLE: dict[str, Any] = {
    **context_of({"since": "2026-04-27", "onboardings": 12, "on_track": 7, "at_risk": 2, "behind": 1, "live": 2,
                  "compared": True}),
    "sections": [{"heading": "Went live", "lines": [{"where": "", "name": "Acme Corp", "what": "", "on": date(2026, 4, 28)}],
                  "more": 0}],
}  # fmt: skip
