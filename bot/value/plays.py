"""The adoption plays running for one person, for their App Home: the latest of each onboarding's play
said to them in the last `RUNNING_DAYS` days (a play is said once a week while its trend lasts, so
one no longer said has stopped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from store.after_go_live import plays_said_to

RUNNING_DAYS = 8  # a week and a day: the next weekly play may wait for the customer's business hours


@dataclass(frozen=True)
class RunningPlay:
    onboarding_id: int
    customer_name: str
    play: str  # "value_demonstration" or "intervention"
    said_on: date  # the day it was last said to them
    facts: dict[str, Any]  # the latest play's facts (bot.automation.rules: value_play)


def running_plays(session: Session, slack_user_id: str, now: datetime) -> list[RunningPlay]:
    rows = plays_said_to(session, slack_user_id, now - timedelta(days=RUNNING_DAYS))
    latest = {row.onboarding_id: row for row in rows if row.onboarding_id is not None}
    out = []
    for oid, row in latest.items():
        facts = dict((row.payload or {}).get("facts") or {})
        said_on = (row.not_before or row.created_at).date()
        out.append(RunningPlay(oid, str(facts.get("customer_name", "")), row.subject, said_on, facts))
    return sorted(out, key=lambda p: (p.play != "intervention", p.customer_name))
