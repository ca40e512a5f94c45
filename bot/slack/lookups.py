"""The few Slack look-ups listeners need: who a user is (and which team), what a channel is."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.onboarding.handoff import ChannelFacts

_MISSING_CHANNEL = ("channel_not_found", "not_in_channel", "missing_scope")

# What a look-up made before an acknowledgement may raise when Slack is slow or busy (429, timeout):
# the person is asked to submit again rather than kept waiting past Slack's 3 seconds.
SLACK_SLOW = (SlackApiError, SlackClientError, OSError)
SLOW = "Slack is slow to answer right now, so I couldn't check this. Submit again in a moment."


def channel_facts(client: WebClient, channel_id: str) -> ChannelFacts:
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") in _MISSING_CHANNEL:
            return ChannelFacts(exists=False, bot_is_member=False, is_ext_shared=False)
        raise
    return ChannelFacts(
        exists=True,
        bot_is_member=bool(info.get("is_member")),
        is_ext_shared=bool(info.get("is_ext_shared")),
        name=info.get("name", channel_id),
    )


def user_identities(client: WebClient, user_ids: set[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """(home team, display name) of each user; a user Slack doesn't know has team None."""
    teams: dict[str, str | None] = {}
    names: dict[str, str] = {}
    for user_id in sorted(user_ids):
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise
            teams[user_id] = None
            continue
        teams[user_id] = user.get("team_id")
        profile = user.get("profile") or {}
        names[user_id] = (
            profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user["name"]
        )
    return teams, names


def user_timezone(client: WebClient, user_id: str) -> str | None:
    """The timezone Slack has for a user (users.info `tz`, an IANA name), None when it has none."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        if exc.response.get("error") in ("user_not_found", "account_inactive"):
            return None
        raise
    tz = user.get("tz")
    return tz if isinstance(tz, str) and tz else None
