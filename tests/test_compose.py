"""compose.yaml: PostgreSQL, a one-shot migration, two HTTP replicas and one scheduler, with health checks.

Docker is not needed: the file is read as Compose reads it (YAML with merge keys), and each
service's command is parsed by the bot's own command line, so a typo there fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.runtime.cli import _parser
from bot.runtime.server import HEALTH_PATH

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def _bots(services: dict) -> dict:
    return {name: s for name, s in services.items() if s.get("command", [None, None])[1:2] == ["serve"]}


def test_the_services_and_what_each_runs(services):
    assert set(services) == {"db", "migrate", "bot-1", "bot-2", "scheduler"}
    assert services["db"]["image"].startswith("postgres:")
    for name, service in services.items():
        if name != "db":
            assert service["command"][0] == "onboard-bot" and service["build"] == "."
            _parser().parse_args(service["command"][1:])  # a command the bot knows, with options it takes
    assert services["migrate"]["command"] == ["onboard-bot", "migrate"] and services["migrate"]["restart"] == "no"
    assert len(_bots(services)) == 2
    assert [n for n, s in services.items() if "scheduler" in s.get("command", [])] == ["scheduler"], "one scheduler"


def test_replicas_run_in_http_mode_after_the_migration_and_never_migrate(services):
    for name in [*_bots(services), "scheduler"]:
        service = services[name]
        assert "--migrate" not in service["command"], f"{name} must leave migrating to the release step"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["environment"]["SLACK_APP_TOKEN"] == "", "HTTP mode"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_every_long_running_service_has_a_health_check(services):
    assert services["migrate"]["healthcheck"] == {"disable": True}, "a one-shot job has no health to check"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    for name, bot in _bots(services).items():
        port = bot["command"][bot["command"].index("--port") + 1]
        check = " ".join(bot["healthcheck"]["test"])
        assert f"127.0.0.1:{port}{HEALTH_PATH}" in check, name
        assert any(p.endswith(f":{port}") for p in bot["ports"])
    assert "ping" in " ".join(services["scheduler"]["healthcheck"]["test"])


def test_the_image_serves_on_the_port_the_replicas_use(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    exposed = re.search(r"^EXPOSE (\d+)", dockerfile, re.MULTILINE)
    assert exposed is not None
    for bot in _bots(services).values():
        assert bot["command"][bot["command"].index("--port") + 1] == exposed.group(1)
    assert re.search(r"^RUN pip install \.", dockerfile, re.MULTILINE), "the image provides `onboard-bot`"
