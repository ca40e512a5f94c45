"""The one-line history entries in a card's thread, from what a change did (bot.core.effects)."""

from __future__ import annotations

from datetime import date

from bot.core.effects import Event, History
from messages.blocks import esc, mention


def _day(d: date | None) -> str:
    return f"{d:%a %d %b}" if d else "?"


def line(h: History) -> str:
    who, title, detail = mention(h.actor), f"*{esc(h.title)}*", esc(h.detail)
    match h.event:
        case Event.STARTED:
            return f"{who} started {title}."
        case Event.DONE:
            return f"{who} marked {title} done."
        case Event.DONE_BY_PRODUCT:
            return f"The product reported `{esc(h.detail)}` on {_day(h.after)}, so {title} is done. :white_check_mark:"
        case Event.AWAITING:
            return f"{who} marked {title} done; it now waits for the customer's confirmation."
        case Event.CONFIRMED:
            return f"{who} confirmed {title}. :white_check_mark:"
        case Event.REJECTED:
            return f"{who} sent {title} back to in progress: {detail}"
        case Event.BLOCKED:
            return f"{who} marked {title} blocked: {detail}"
        case Event.UNBLOCKED:
            return f"{who} unblocked {title}."
        case Event.DUE_CHANGED:
            return f"{who} moved {title} from {_day(h.before)} to {_day(h.after)}: {detail}"
        case Event.REASSIGNED:
            return f"{who} reassigned {title} to {' and '.join(esc(n) for n in h.names) or 'nobody'}."
        case Event.ADDED:
            return f"{who} added {title}, due {_day(h.after)}."
        case Event.STAGE_ADVANCED:
            return f"{who} moved the project on to *{h.stage.label if h.stage else '?'}*."
        case Event.SPONSOR_SIGNED:
            return f"{who} signed off go-live. :tada:"
        case Event.CSM_COUNTERSIGNED:
            return f"{who} countersigned. We're live; the 30-day review is on {_day(h.after)}."
        case Event.GATE_OVERRIDDEN:
            return f"{who} overrode the readiness gate: {detail}"
        case Event.COMPLETED:
            return f"{who} completed the onboarding: the account is with its ongoing CSM now."
    raise ValueError(h.event)
