"""Today's health score for every account, stored, and a drop past the threshold said internally.

Today's score (customer-local day) is that day's HealthSnapshot, written when it differs from what
is stored for the day (so later sweeps of a day write only what moved). When it is
`health_drop_points` or more below the snapshot of `health_compare_days` days earlier, the CSM and
the CSM's manager each hear it by DM (once per ISO week), with both scores and both sets of parts,
and the play: the part that pulled the score down the most (its fall times its weight), which the
message turns into what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from bot.automation.health import Health, score
from bot.automation.rules import facts
from bot.automation.rules.account import Account
from bot.core.domain import Role
from bot.core.notices import Notice, Rule


def score_today(account: Account) -> Health:
    sponsor = account.person(Role.EXECUTIVE_SPONSOR)
    return score(account.signals, account.settings, bool(sponsor is not None and sponsor.slack_user_id))


def health_drop(account: Account, health: Health) -> Iterator[Notice]:
    if account.previous_health is None:
        return
    previous, previous_parts = account.previous_health
    drop = previous - health.score
    if drop < account.settings.health_drop_points or account.snoozed(Rule.HEALTH_DROP, ""):
        return
    compared = account.local.today - timedelta(days=account.settings.health_compare_days)
    said = facts.base(account) | {
        "score": health.score,
        "previous_score": previous,
        "previous_day": compared.isoformat(),
        "drop": drop,
        "parts": health.parts,
        "previous_parts": previous_parts,
        "play": _weakest(health.parts, previous_parts),
    }
    why = f"health {previous} -> {health.score} since {compared.isoformat()}"
    seen = set()
    for role in (Role.IMPLEMENTATION_CSM, Role.CSM_MANAGER):
        person = account.person(role)
        route = account.dm(person)
        if route is None or route[1] in seen:
            continue
        seen.add(route[1])
        to_them = said | {"addressed": facts.display(person)}
        yield account.notice(Rule.HEALTH_DROP, "", account.local.week, route, to_them, why)


def _points(part: object) -> float:
    if isinstance(part, dict):
        score, weight = part.get("score"), part.get("weight", 1)
        if isinstance(score, (int, float)) and isinstance(weight, (int, float)):
            return score * weight
    return 0.0


def _weight(part: object) -> float:
    weight = part.get("weight", 1) if isinstance(part, dict) else 1
    return weight if isinstance(weight, (int, float)) else 1


def _weakest(parts: dict, before: dict) -> str:
    """The part whose fall cost the score the most; the lowest one when none fell."""
    if not parts:
        return ""
    fell = {name: _points(before.get(name)) - _points(part) for name, part in parts.items()}
    name, most = max(fell.items(), key=lambda item: item[1])
    return name if most > 0 else min(parts, key=lambda n: _points(parts[n]) / max(1, _weight(parts[n])))
