"""The `onboard-bot` command as an operator runs it: real processes, real stderr."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET, VENDOR_CSM, VENDOR_TEAM
from tests.slack_sender import SlackSender

ONBOARD_BOT = shutil.which("onboard-bot") or str(Path(sys.executable).with_name("onboard-bot"))


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ONBOARD_", "DATABASE_URL"))}
    env.update(overrides)
    return env


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([ONBOARD_BOT, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=60)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_missing_token_is_one_clear_line(tmp_path):
    line = _one_line_error(_run("serve", cwd=tmp_path))
    assert line.startswith("onboard-bot: SLACK_BOT_TOKEN is not set")


def test_malformed_database_url_is_one_clear_line(tmp_path):
    line = _one_line_error(_run("migrate", cwd=tmp_path, DATABASE_URL="oracle://db/x"))
    assert "DATABASE_URL is invalid" in line


def test_unreachable_database_is_one_clear_line(tmp_path):
    line = _one_line_error(_run("migrate", cwd=tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none"))
    assert line.startswith("onboard-bot: DATABASE_URL cannot be used")


def test_serve_refuses_an_unmigrated_database(tmp_path, fake_slack):
    line = _one_line_error(
        _run(
            "serve",
            cwd=tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}",
        )
    )
    assert "run `onboard-bot migrate`" in line


def test_refused_token_is_one_clear_line(tmp_path, fake_slack):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert _run("migrate", cwd=tmp_path, DATABASE_URL=db).returncode == 0
    line = _one_line_error(
        _run(
            "serve",
            cwd=tmp_path,
            SLACK_BOT_TOKEN="xoxb-revoked",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.url,
            DATABASE_URL=db,
        )
    )
    assert "SLACK_BOT_TOKEN was refused by Slack: invalid_auth" in line


def test_migrate_is_idempotent(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    first = _run("migrate", cwd=tmp_path, DATABASE_URL=db)
    assert first.returncode == 0 and "database migrated" in first.stdout
    again = _run("migrate", cwd=tmp_path, DATABASE_URL=db)
    assert again.returncode == 0 and "already up to date" in again.stdout


def _start_serving(tmp_path, fake_slack, *extra: str, **env: str):
    """`onboard-bot serve --migrate` in HTTP mode on a free port; returns once it says where it listens."""
    proc = subprocess.Popen(
        [ONBOARD_BOT, "serve", "--migrate", *extra, "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
            **env,
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if match := re.search(r"listening on (http://\S+?)/slack/events", line):
            return match.group(1), proc, seen
    proc.wait(timeout=10)
    pytest.fail("server exited before listening:\n" + "".join(seen))


@pytest.fixture
def served_bot(tmp_path, fake_slack):
    """The bot serving over HTTP, logging at DEBUG."""
    base, proc, seen = _start_serving(tmp_path, fake_slack, ONBOARD_LOG_LEVEL="DEBUG")
    yield base, proc, seen
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_served_bot_answers_logs_one_line_and_leaks_nothing(served_bot):
    base, proc, seen = served_bot
    with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
        assert resp.status == 200

    sender = SlackSender(base + "/slack/events", SIGNING_SECRET, VENDOR_TEAM)
    personal = "jane.doe.personal@example.com"
    reply = sender.command(f"frobnicate {personal}", user_id=VENDOR_CSM)
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert sender.command("help", user_id=VENDOR_CSM, signature="v0=" + "1" * 64).status == 401

    proc.terminate()
    _, rest = proc.communicate(timeout=10)
    log = "".join(seen) + rest

    request_lines = [line for line in log.splitlines() if "onboard_bot.requests" in line]
    assert len(request_lines) == 2, log
    assert "command /onboard" in request_lines[0] and "status=200" in request_lines[0]
    assert "status=401" in request_lines[1]
    assert f"team={VENDOR_TEAM}" in request_lines[0] and f"user={VENDOR_CSM}" in request_lines[0]
    for secret in (BOT_TOKEN, SIGNING_SECRET, personal, "frobnicate"):
        assert secret not in log, f"{secret!r} leaked into the log"


def test_socket_mode_when_app_token_is_set(tmp_path, fake_slack):
    """With SLACK_APP_TOKEN the bot opens a Socket Mode connection (and still serves /healthz)."""
    fake_slack.reset()
    proc = subprocess.Popen(
        [ONBOARD_BOT, "serve", "--migrate", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=fake_slack.app_token,
            SLACK_API_URL=fake_slack.url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'socket.db'}",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:
            if match := re.search(r"Socket Mode as team (\S+); health check on port (\d+)", line):
                break
        else:
            pytest.fail("the bot did not start in Socket Mode")
        assert match.group(1) == VENDOR_TEAM
        call = fake_slack.wait_for("apps.connections.open", timeout=15)
        assert call.headers["authorization"] == f"Bearer {fake_slack.app_token}"
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(2)}/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_broken_playbooks_dir_is_one_clear_line(tmp_path, fake_slack):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "ours.toml").write_text('key = "ours"\nname = 3\n')
    line = _one_line_error(
        _run(
            "serve",
            "--migrate",
            cwd=tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.url,
            DATABASE_URL=db,
            ONBOARD_PLAYBOOKS_DIR=str(playbooks),
        )
    )
    assert "ONBOARD_PLAYBOOKS_DIR has" in line and "ours.toml" in line


def test_playbooks_validate_command(tmp_path):
    assert _run("playbooks", "validate", cwd=tmp_path).returncode == 0
    (tmp_path / "bad.toml").write_text('key = "bad"\nname = "Bad"\n')
    result = _run("playbooks", "validate", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1 and "bad.toml:" in result.stdout


def test_serve_with_scheduler_runs_both_and_stops_cleanly(tmp_path, fake_slack):
    base, proc, seen = _start_serving(tmp_path, fake_slack, "--with-scheduler")
    try:
        assert any("scheduler running beside the server" in line for line in seen)
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=20)
    assert "Traceback" not in "".join(seen) + rest


@pytest.mark.parametrize("flag", ["--turns", "--work-threads"])
@pytest.mark.parametrize("value", ["0", "many"])
def test_serve_refuses_a_thread_count_it_cannot_use(tmp_path, flag, value):
    result = _run("serve", flag, value, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"argument {flag}: " in result.stderr
    assert ("give between 1 and 256" if value == "0" else f"not a whole number: '{value}'") in result.stderr
