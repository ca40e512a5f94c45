"""The handoff to the ongoing CSM in Slack: the written handoff posted internally, the introduction in the
shared channel, the invitation to it, and the post kept current once the handoff is accepted.

Called after the handoff's transaction has committed, like every publish (bot.slack.publish).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack.publish import Outlet
from messages import ongoing as words
from store import account_handoffs
from store.db import session_scope
from store.models import AccountHandoff
from store.onboardings import OnboardingRecord

log = logging.getLogger(__name__)


def _stored(services: Outlet, onboarding_id: int) -> AccountHandoff | None:
    with session_scope(services.engine) as session:
        return account_handoffs.handoff_of(session, onboarding_id)


def announce(services: Outlet, record: OnboardingRecord) -> list[str]:
    """Post the written handoff internally, introduce the ongoing CSM to the customer and invite them in.

    Returns what failed, in words, for the CSM who wrote the handoff.
    """
    ob = record.onboarding
    handoff = _stored(services, record.id)
    if handoff is None:
        return ["The handoff isn't stored, so nothing was posted."]
    failures: list[str] = []
    if ob.internal_channel_id:
        try:
            ts = services.poster.chat_postMessage(
                channel=ob.internal_channel_id,
                blocks=words.internal_post(record, handoff),
                text=words.internal_post_text(record),
            )["ts"]
        except SlackApiError as exc:
            failures.append(
                f"I couldn't post the handoff in <#{ob.internal_channel_id}> ({exc.response.get('error')})."
            )
        else:
            with session_scope(services.engine) as session:
                account_handoffs.set_post_ts(session, record.id, ts)
    else:
        failures.append("This onboarding has no internal channel, so the written handoff was stored but not posted.")
    if ob.shared_channel_id:
        failures += invite(services, ob.shared_channel_id, handoff.ongoing_csm_user_id)
        try:
            services.poster.chat_postMessage(channel=ob.shared_channel_id, text=words.shared_intro(record, handoff))
        except SlackApiError as exc:
            failures.append(f"I couldn't introduce them in <#{ob.shared_channel_id}> ({exc.response.get('error')}).")
    return failures


def invite(services: Outlet, channel_id: str, user_id: str) -> list[str]:
    """Invite `user_id` to the channel unless they are in it already."""
    try:
        members = services.client.conversations_members(channel=channel_id, limit=1000)["members"]
    except SlackApiError as exc:
        log.warning("could not read the members of %s: %s", channel_id, exc.response.get("error"))
        members = []
    if user_id in members:
        return []
    try:
        services.client.conversations_invite(channel=channel_id, users=user_id)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "already_in_channel":
            return []
        return [f"I couldn't invite <@{user_id}> to <#{channel_id}> (Slack said `{error}`); please add them."]
    return []


def refresh_post(services: Outlet, record: OnboardingRecord) -> None:
    """Show the acceptance on the internal post (its button goes)."""
    handoff = _stored(services, record.id)
    if handoff is None or not handoff.post_ts or not record.onboarding.internal_channel_id:
        return
    try:
        services.client.chat_update(
            channel=record.onboarding.internal_channel_id,
            ts=handoff.post_ts,
            blocks=words.internal_post(record, handoff),
            text=words.internal_post_text(record),
        )
        services.poster.chat_postMessage(
            channel=record.onboarding.internal_channel_id,
            thread_ts=handoff.post_ts,
            text=words.accepted_line(handoff.accepted_by or ""),
        )
    except SlackApiError as exc:
        log.warning("updating the handoff post of onboarding %s failed: %s", record.id, exc.response.get("error"))
