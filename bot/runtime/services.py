"""What every listener and job needs, built once at start and passed in explicitly."""

from __future__ import annotations

import functools
from concurrent.futures import Executor
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.core.clock import Clock, SystemClock
from bot.core.domain import Side
from bot.core.signing import Seal
from bot.planning.playbook import Playbook
from bot.runtime.config import Settings
from bot.slack.client import LOOKUP_TIMEOUT, without_retries
from bot.slack.draws import Draws
from bot.slack.lanes import Lanes
from messages.templates import Templates


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    client: WebClient
    vendor_team_id: str
    bot_user_id: str
    playbooks: dict[str, Playbook]
    team_url: str = ""  # e.g. https://vendor.slack.com/, for links to messages
    clock: Clock = field(default_factory=SystemClock)  # "now" for every listener, sweep and delivery
    # Where a click's work after its ack runs (the database, the card updates): a pool apart from
    # the listeners', so that acks never queue behind that work. None: on the listener's own thread.
    work: Executor | None = None
    # Where what a change shows after the clicked card runs, in order per onboarding (bot.slack.lanes);
    # None: at once, after the card.
    follow_ups: Lanes | None = None
    # Keeps every card's redraws in the order of the states they show (bot.slack.draws).
    draws: Draws | None = field(default_factory=Draws)

    @functools.cached_property
    def poster(self) -> WebClient:
        """For new posts: never retried blindly, since Slack cannot tell a retried post from a new one."""
        return without_retries(self.client)

    @functools.cached_property
    def quick(self) -> WebClient:
        """For look-ups before an ack: a short timeout and no sleeping retry."""
        return without_retries(self.client, timeout=LOOKUP_TIMEOUT)

    @functools.cached_property
    def templates(self) -> Templates:
        """The message templates: the shipped ones, each overridden by a file of its name in ONBOARD_TEMPLATES_DIR."""
        return Templates(self.settings.templates_dir)

    @functools.cached_property
    def seal(self) -> Seal:
        """Seals what modals carry; keyed by the signing secret (HTTP) or the app or bot token (Socket Mode)."""
        s = self.settings
        return Seal(s.slack_signing_secret or s.slack_app_token or s.slack_bot_token or self.vendor_team_id)

    def permalink(self, channel_id: str, ts: str) -> str:
        base = self.team_url or "https://slack.com/"
        return f"{base.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"

    def side_of(self, team_id: str | None) -> Side | None:
        """The vendor is the team the bot is installed in; any other team in a channel is the customer's
        side (whether someone is one of this customer's people is the store's to say). No team: None."""
        if not team_id:
            return None
        return Side.VENDOR if team_id == self.vendor_team_id else Side.CUSTOMER
