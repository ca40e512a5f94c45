"""Settings from the environment (and a `.env` file in the working directory, if there is one).

A missing or malformed setting raises `ConfigError` with one line naming the variable; the CLI
prints that line and exits non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.slack.delivery import DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT
from store.db import DatabaseURLError, normalise_url

SLACK_API_DEFAULT = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///onboard-bot.db"


class ConfigError(Exception):
    """A setting is missing or malformed. The message is one line, naming the variable."""


def _env(name: str):
    return Field(validation_alias=AliasChoices(name))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    slack_bot_token: Annotated[str | None, _env("SLACK_BOT_TOKEN")] = None
    slack_signing_secret: Annotated[str | None, _env("SLACK_SIGNING_SECRET")] = None
    slack_app_token: Annotated[str | None, _env("SLACK_APP_TOKEN")] = None
    slack_api_url: Annotated[str, _env("SLACK_API_URL")] = SLACK_API_DEFAULT
    database_url: Annotated[str, _env("DATABASE_URL")] = DEFAULT_DATABASE_URL
    default_timezone: Annotated[str, _env("ONBOARD_DEFAULT_TIMEZONE")] = "UTC"
    playbooks_dir: Annotated[Path | None, _env("ONBOARD_PLAYBOOKS_DIR")] = None
    log_level: Annotated[str, _env("ONBOARD_LOG_LEVEL")] = "INFO"
    delivery_in_flight: Annotated[int, _env("ONBOARD_DELIVERY_IN_FLIGHT")] = DEFAULT_IN_FLIGHT
    # POST /api/usage takes reports with this bearer token; unset, the endpoint is off.
    usage_token: Annotated[str | None, _env("ONBOARD_USAGE_TOKEN")] = None
    # A team's own message templates, overriding the shipped ones by file name.
    templates_dir: Annotated[Path | None, _env("ONBOARD_TEMPLATES_DIR")] = None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v and not v.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v or None

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        try:
            normalise_url(v)
        except DatabaseURLError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {v!r}; use an IANA name such as Europe/Berlin") from None
        return v

    @field_validator("usage_token")
    @classmethod
    def _usage_token(cls, v: str | None) -> str | None:
        if v is not None and v.strip() and len(v.strip()) < 16:
            raise ValueError("must be at least 16 characters (a long random string)")
        return v.strip() or None if v is not None else None

    @field_validator("playbooks_dir", "templates_dir")
    @classmethod
    def _directory(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise ValueError(f"{v} is not a directory")
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        level = v.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("delivery_in_flight")
    @classmethod
    def _in_flight(cls, v: int) -> int:
        if not 1 <= v <= MAX_IN_FLIGHT:
            raise ValueError(f"must be a whole number from 1 to {MAX_IN_FLIGHT}")
        return v

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require_slack(self) -> None:
        """Check the Slack settings that serving needs: HTTP mode signs, Socket Mode does not."""
        self.require("slack_bot_token", "slack_app_token" if self.socket_mode else "slack_signing_secret")

    def require(self, *names: str) -> None:
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"{env_name(name)} is not set: {_HINTS[name]}")


_HINTS = {
    "slack_bot_token": "set it to the app's Bot User OAuth Token (xoxb-...)",
    "slack_signing_secret": "set it to the app's Signing Secret (Basic Information page)",
    "slack_app_token": "set it to an app-level token with connections:write (xapp-...)",
}


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    first = alias.choices[0] if isinstance(alias, AliasChoices) else None
    return first if isinstance(first, str) else field.upper()


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = field if field.isupper() else env_name(field) if field in Settings.model_fields else field
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {message}") from None
