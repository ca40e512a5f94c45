"""The app factory: settings in, a ready Bolt app out."""

from __future__ import annotations

import time
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy.engine import Engine

import handlers
from bot.planning.playbook import load_playbooks
from bot.runtime.config import ConfigError, Settings
from bot.runtime.logs import log_request
from bot.runtime.services import Services
from store.db import make_engine


class OnboardApp(App):
    """Bolt's App, logging one line for every request it dispatches (rejected ones included)."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        response = super().dispatch(req)
        log_request(req, response, time.perf_counter() - started)
        return response


def make_client(settings: Settings) -> WebClient:
    # Reads and updates are retried on 429 (honouring Retry-After) and on dropped connections.
    # New posts go through the outbox, which has its own dedupe, so a retry cannot post twice.
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def build_services(settings: Settings, *, engine: Engine | None = None, client: WebClient | None = None) -> Services:
    """Load the playbooks, connect to the database and ask Slack who we are (the vendor's team id)."""
    playbooks = load_playbooks(settings.playbooks_dir)
    client = client or make_client(settings)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack: {exc.response.get('error', 'unknown error')}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"SLACK_API_URL {settings.slack_api_url} cannot be reached: {exc}") from None
    return Services(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        client=client,
        vendor_team_id=auth["team_id"],
        bot_user_id=auth["user_id"],
        playbooks=playbooks,
        team_url=auth.get("url") or "",
    )


def create_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    app = OnboardApp(
        listener_executor=listener_executor,
        client=services.client,
        signing_secret=services.settings.slack_signing_secret or "",
        # build_services already checked the token with auth.test.
        token_verification_enabled=False,
        name="onboard-bot",
    )
    handlers.register(app, services)
    return app
