"""One fake Slack and one real app server for the whole session; a clean store for every test.

The database is a SQLite file by default; set ONBOARD_TEST_DATABASE_URL to run on PostgreSQL.
Every Web API call the app makes and every body it answers with is checked against Slack's spec
and Block Kit limits; a test that provokes a problem fails at teardown.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import freezegun
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from bot.demo.blockkit import unknown_in, unknown_in_call
from bot.fake_slack import FakeSlack
from bot.runtime.app import build_services, create_app
from bot.runtime.cli import WORK_TURNS
from bot.runtime.config import Settings
from bot.runtime.server import EVENTS_PATH, make_server, make_wsgi
from bot.runtime.services import Services
from bot.runtime.usage_api import usage_front
from bot.slack.turns import InTurns, Turns
from store.db import make_engine
from store.migrate import upgrade
from store.models import ALL_TABLES
from tests.slack_checks import check_ack_body, check_recorded_call
from tests.slack_sender import Reply, SlackSender

# The app server (waitress) runs in this process, so a test's frozen clock reaches it too, but not
# evenly: freezegun answers with real time to calls near a `threading` frame. Its idle-connection
# sweep then saw real time while a new connection's last activity was frozen months earlier, and it
# dropped connections before reading their requests (now and then: a broken pipe in some test).
# The server keeps real time; the app's own code still sees the frozen clock.
# pytest times each phase of a test with `_pytest.timing`; a fixture that freezes the clock would
# otherwise have its setup timed against the frozen clock, and --durations reported ~1.8e9 s.
freezegun.configure(extend_ignore_list=["waitress", "_pytest.timing"])

VENDOR_TEAM = "T0VENDOR"
CUSTOMER_TEAM = "T0CUSTOMER"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-0000-test-token"
USAGE_TOKEN = "usage-token-0123456789abcdef"

VENDOR_CSM = "U0CSM"
VENDOR_MANAGER = "U0MANAGER"
VENDOR_AE = "U0AE"
CUSTOMER_CHAMPION = "U0CHAMPION"
CUSTOMER_SPONSOR = "U0SPONSOR"
SHARED_CHANNEL = "C0SHARED"
INTERNAL_CHANNEL = "C0INTERNAL"


def pytest_report_header(config) -> str:
    return f"onboard-bot test database: {_database_url_label()}"


def _database_url_label() -> str:
    url = os.environ.get("ONBOARD_TEST_DATABASE_URL")
    return url.split("@")[-1] if url else "SQLite (temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("ONBOARD_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine) -> Engine:
    with engine.begin() as conn:
        for table in reversed(ALL_TABLES):
            conn.execute(delete(table))
    return engine


def populate_directory(fake: FakeSlack) -> None:
    fake.add_user(VENDOR_CSM, name="casey", real_name="Casey Vendor", email="casey@vendor.example")
    fake.add_user(VENDOR_MANAGER, name="morgan", real_name="Morgan Lead", email="morgan@vendor.example")
    fake.add_user(VENDOR_AE, name="alex", real_name="Alex Seller", email="alex@vendor.example")
    fake.add_user(
        CUSTOMER_CHAMPION, name="chris", real_name="Chris Customer", team_id=CUSTOMER_TEAM, email="chris@acme.example"
    )
    fake.add_user(
        CUSTOMER_SPONSOR, name="sam", real_name="Sam Sponsor", team_id=CUSTOMER_TEAM, email="sam@acme.example"
    )
    members = (VENDOR_CSM, VENDOR_MANAGER, CUSTOMER_CHAMPION, CUSTOMER_SPONSOR)
    fake.add_channel(SHARED_CHANNEL, name="acme-onboarding", is_ext_shared=True, members=members)
    fake.add_channel(INTERNAL_CHANNEL, name="acme-internal", members=(VENDOR_CSM, VENDOR_MANAGER, VENDOR_AE))


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(vendor_team_id=VENDOR_TEAM, bot_token=BOT_TOKEN).start()
    populate_directory(fake)
    yield fake
    fake.stop()


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, able to say when every listener it started has finished.

    Listeners go on after the ack; a test must not end (and the next one clean the store) while one
    of them is still writing.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=10, thread_name_prefix="listener")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._idle:
            self._busy += 1

        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return super().submit(run)

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=timeout):
                raise AssertionError(f"{self._busy} listener(s) still running after {timeout}s")


@dataclass
class Harness:
    """The running app, what it talks to, and how to talk to it."""

    fake: FakeSlack
    slack: SlackSender
    services: Services
    base_url: str
    listeners: TrackingExecutor
    problems: list[str] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.services.engine

    def settle(self) -> None:
        """Wait until every listener started so far has finished its work after the ack."""
        self.listeners.wait_idle()


@pytest.fixture(scope="session")
def listeners() -> Iterator[TrackingExecutor]:
    executor = TrackingExecutor()
    yield executor
    executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def _server(fake_slack, engine, listeners) -> Iterator[tuple[Services, str]]:
    settings = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=str(engine.url.render_as_string(hide_password=False)),
        onboard_usage_token=USAGE_TOKEN,
    )
    # One tracked pool for the listeners and the work after their acks, so `settle` waits for both;
    # the work takes turns as it does in `serve`, two at a time (bot.slack.turns).
    turns = Turns(WORK_TURNS)
    services = build_services(settings, engine=engine, work=InTurns(listeners, turns), turns=turns)
    app = create_app(services, listener_executor=listeners)
    server = make_server(make_wsgi(app, engine, usage_front(services)), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, name="app-server", daemon=True)
    thread.start()
    yield services, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def harness(_server, fake_slack, clean_db, listeners) -> Iterator[Harness]:
    services, base_url = _server
    fake_slack.reset()
    if services.draws is not None:  # the fake's channels start over, with the same message timestamps
        services.draws.forget()
    problems: list[str] = []

    def check_call(call) -> None:
        problems.extend(f"{call.method}: {p}" for p in check_recorded_call(call))
        # Every message and view the bot builds must be drawable by the demo sandbox's renderer.
        problems.extend(
            f"{call.method}: the sandbox page cannot draw {p}" for p in unknown_in_call(call.method, call.args)
        )

    def check_reply(reply: Reply) -> None:
        if reply.status == 200 and reply.headers.get("Content-Type", "").startswith("application/json"):
            problems.extend(f"ack body: {p}" for p in check_ack_body(reply.json))
            view = reply.json.get("view")
            drawn = unknown_in(reply.json.get("blocks")) + (
                unknown_in(view.get("blocks")) if isinstance(view, dict) else []
            )
            problems.extend(f"ack body: the sandbox page cannot draw {p}" for p in drawn)

    fake_slack.add_listener(check_call)
    sender = SlackSender(
        base_url + EVENTS_PATH,
        SIGNING_SECRET,
        VENDOR_TEAM,
        on_reply=[check_reply],
        new_trigger_id=fake_slack.new_trigger_id,
        new_response_url=fake_slack.response_url,
    )
    h = Harness(
        fake=fake_slack, slack=sender, services=services, base_url=base_url, listeners=listeners, problems=problems
    )
    yield h
    listeners.wait_idle()
    fake_slack.remove_listener(check_call)
    assert not problems, "Slack would reject what the app sent:\n" + "\n".join(problems)
