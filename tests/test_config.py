import pytest

from bot.runtime.config import ConfigError, load_settings

ALL_VARS = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "ONBOARD_DEFAULT_TIMEZONE",
    "ONBOARD_PLAYBOOKS_DIR",
    "ONBOARD_LOG_LEVEL",
    "ONBOARD_USAGE_TOKEN",
    "ONBOARD_TEMPLATES_DIR",
    "ONBOARD_DELIVERY_IN_FLIGHT",
]


@pytest.fixture(autouse=True)
def empty_env(monkeypatch, tmp_path):
    for name in ALL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults():
    s = load_settings()
    assert s.database_url == "sqlite:///onboard-bot.db"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.default_timezone == "UTC"
    assert not s.socket_mode


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN is invalid: must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "SLACK_APP_TOKEN is invalid"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL is invalid"),
        ("DATABASE_URL", "mysql://db/onboard", "DATABASE_URL is invalid: unsupported database 'mysql'"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is invalid"),
        ("ONBOARD_DEFAULT_TIMEZONE", "Mars/Olympus", "ONBOARD_DEFAULT_TIMEZONE is invalid: unknown timezone"),
        ("ONBOARD_PLAYBOOKS_DIR", "/no/such/dir", "ONBOARD_PLAYBOOKS_DIR is invalid"),
        ("ONBOARD_LOG_LEVEL", "chatty", "ONBOARD_LOG_LEVEL is invalid"),
    ],
)
def test_malformed_setting_names_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_http_mode_needs_token_and_signing_secret(monkeypatch):
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set"):
        load_settings().require_slack()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is not set"):
        load_settings().require_slack()
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    load_settings().require_slack()


def test_socket_mode_when_app_token_is_set(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    s = load_settings()
    assert s.socket_mode
    s.require_slack()  # no signing secret needed over a socket


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgresql://db.internal/onboard\nONBOARD_DEFAULT_TIMEZONE=Europe/Berlin\n"
    )
    s = load_settings()
    assert s.database_url == "postgresql://db.internal/onboard"
    assert s.default_timezone == "Europe/Berlin"


def test_every_setting_can_be_given_by_its_field_name(tmp_path):
    token = "a-long-random-usage-token"
    s = load_settings(
        usage_token=token,
        log_level="DEBUG",
        delivery_in_flight=3,
        templates_dir=tmp_path,
        default_timezone="Europe/Berlin",
    )
    assert (s.usage_token, s.log_level, s.delivery_in_flight) == (token, "DEBUG", 3)
    assert (s.templates_dir, s.default_timezone) == (tmp_path, "Europe/Berlin")


def test_a_field_name_is_checked_like_its_variable():
    with pytest.raises(ConfigError, match="ONBOARD_USAGE_TOKEN is invalid: must be at least 16 characters"):
        load_settings(usage_token="short")
