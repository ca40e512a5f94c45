"""The facts a message builder needs, built the same way for every rule (keys: see bot.automation.rules)."""

from __future__ import annotations

from typing import Any

from bot.automation.rules.account import Account


def display(person: Any) -> str:
    """A Slack mention for someone in Slack, their name otherwise, "" for nobody."""
    if person is None:
        return ""
    return f"<@{person.slack_user_id}>" if person.slack_user_id else person.name


def base(account: Account) -> dict[str, Any]:
    return {"customer_name": account.onboarding.customer_name}


def milestone(account: Account, m: Any) -> dict[str, Any]:
    shown = account.shown
    return {
        "customer_name": account.onboarding.customer_name,
        "milestone_id": m.id,
        "version": m.version,
        "key": m.key,
        "title": m.title,
        "due_on": m.due_on.isoformat(),
        "stage": m.stage,
        "status": m.status,
        "customer_owner": shown.get(m.customer_owner_id, ""),
        "vendor_owner": shown.get(m.vendor_owner_id, ""),
        "customer_owner_role": m.customer_owner_role or "",
        "vendor_owner_role": m.vendor_owner_role or "",
    }


def item(account: Account, m: Any) -> dict[str, Any]:
    """A milestone as one line of a list: its owner is the customer-side one, else the vendor-side one."""
    shown = account.shown
    return {
        "key": m.key,
        "title": m.title,
        "due_on": m.due_on.isoformat(),
        "owner": shown.get(m.customer_owner_id) or shown.get(m.vendor_owner_id, ""),
    }
