"""Several replicas on one PostgreSQL database: two `serve` processes and one `scheduler`.

The same clicks on the same card reach both replicas at once while the scheduler sweeps: each
change is applied once (no lost update, one history line), the click that lost the race is told
so, privately, and every automated post goes out once. PostgreSQL only: SQLite is a file on one
machine, not a database replicas share.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.ids import Action
from bot.core.notices import Audience
from bot.slack import publish
from store import outbox
from store.db import session_scope
from store.models import AuditEntry, Notification
from store.onboardings import load
from tests.cards_helpers import card, milestone, ref, start_onboarding
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, VENDOR_AE, VENDOR_CSM, VENDOR_TEAM
from tests.slack_sender import SlackSender
from tests.test_cli import ONBOARD_BOT
from tests.test_outbox import notice

pytestmark = pytest.mark.skipif(
    not os.environ.get("ONBOARD_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="replicas share a PostgreSQL database: set ONBOARD_TEST_DATABASE_URL (SQLite is one machine's file)",
)

STALE = "changed meanwhile"
DEADLINE_S = 20.0


class Process:
    """One `onboard-bot` process, its stderr read line by line on a thread of its own."""

    def __init__(self, args: list[str], env: dict[str, str], cwd) -> None:
        self.proc = subprocess.Popen([ONBOARD_BOT, *args], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern: str, count: int = 1, timeout: float = DEADLINE_S) -> re.Match:
        def found() -> list[re.Match]:
            return [m for line in self.lines if (m := re.search(pattern, line))]

        with self.changed:
            ok = self.changed.wait_for(lambda: len(found()) >= count or self.proc.poll() is not None, timeout)
            matches = found()
        if not ok or len(matches) < count:
            pytest.fail(f"no {count} line(s) matching {pattern!r} from {self.proc.args}:\n" + "".join(self.lines))
        return matches[count - 1]

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return "".join(self.lines)


@pytest.fixture
def replicas(harness, database_url, tmp_path):
    """Two bot replicas in HTTP mode and one scheduler sweeping every 1.2 s, all on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ONBOARD_", "DATABASE_URL"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=harness.fake.url,
               DATABASE_URL=database_url)  # fmt: skip
    serve = ["serve", "--host", "127.0.0.1", "--port", "0"]  # migrated already: a release step, not theirs
    started = [Process(serve, env, tmp_path), Process(serve, env, tmp_path),
               Process(["scheduler", "--every", "0.02"], env, tmp_path)]  # fmt: skip
    try:
        urls = [p.wait_for(r"listening on (http://\S+?)/slack/events").group(1) for p in started[:2]]
        started[2].wait_for("scheduler started")
        for url in urls:  # what a load balancer asks before sending a replica anything
            with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                assert resp.status == 200
        yield [SlackSender(u + "/slack/events", SIGNING_SECRET, VENDOR_TEAM) for u in urls], started[2]
    finally:
        logs = [p.stop() for p in started]
    for log in logs:
        assert "Traceback" not in log, log


def _until(check, what: str, timeout: float = DEADLINE_S):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def test_two_replicas_and_a_scheduler_apply_each_click_once_and_post_nothing_twice(harness, replicas):
    senders, scheduler = replicas
    ob = start_onboarding(harness)
    harness.settle()
    c = card(harness, ob.id, "stage", "pre_kickoff")
    keys = ["intake_received", "project_owner_named", "admin_access"]
    now = datetime.now(UTC)
    due = [notice(ob.id, key, audience=Audience.INTERNAL, urgent=True, period=f"{now:%Y-%m-%d}",
                  not_before=now - timedelta(minutes=1)) for key in keys]  # fmt: skip
    with session_scope(harness.engine) as s:
        outbox.claim(s, due[:1])
    sweeps_before = len([line for line in scheduler.lines if "sweep at" in line])

    for round_, (key, action) in enumerate(
        (k, a) for k in keys for a in (Action.MILESTONE_START, Action.MILESTONE_DONE)
    ):
        if round_ == 2:  # something new for the sweep to say while the clicks go on
            with session_scope(harness.engine) as s:
                outbox.claim(s, due[1:])
        before = ref(harness, ob.id, key)
        updates = len(card_updates(harness, c))
        urls = [harness.fake.response_url(c.channel_id, c.ts) for _ in senders]
        answered = len(harness.fake.calls_to("response_url"))
        gate = threading.Barrier(len(senders))
        replies: list = [None, None]

        def click(i: int, before=before, urls=urls, gate=gate, replies=replies, action=action) -> None:
            gate.wait()
            replies[i] = senders[i].block_action(
                action, user_id=(VENDOR_CSM, VENDOR_AE)[i], value=before.encode(), channel_id=c.channel_id,
                message_ts=c.ts, response_url=urls[i],
            )  # fmt: skip

        both = [threading.Thread(target=click, args=(i,)) for i in range(len(senders))]
        for t in both:
            t.start()
        for t in both:
            t.join(timeout=DEADLINE_S)
        assert [r.status for r in replies] == [200, 200]
        # Each replica rebuilds the card once: the one that applied it, and the one that found it changed.
        harness.fake.wait_for("chat.update", lambda call: call.args["ts"] == c.ts, count=updates + 2)
        told = harness.fake.wait_for("response_url", count=answered + 1).args
        assert STALE in told["text"] and told.get("response_type") == "ephemeral"
        after = milestone(harness, ob.id, key)
        assert after.version == before.version + 1, "applied once, not lost, not twice"

    # One of the two clicks of each round was told, privately, that it lost; the other was applied.
    answers = [call.args for call in harness.fake.calls_to("response_url")]
    assert len(answers) == 2 * len(keys) and all(STALE in a["text"] for a in answers)

    # The sweeps went on meanwhile and delivered everything due, once.
    scheduler.wait_for("sweep at", count=sweeps_before + 2)
    _until(lambda: _all_sent(harness, [n.dedupe_key for n in due]), "the scheduler to deliver the due notices")
    harness.settle()
    posted = Counter(
        key
        for call in harness.fake.calls_to("chat.postMessage")
        if call.ok
        for key in ((call.args.get("metadata") or {}).get("event_payload") or {}).get("dedupe_keys", [])
    )
    assert {n.dedupe_key for n in due} <= posted.keys()
    assert max(posted.values()) == 1, f"posted twice: {[k for k, n in posted.items() if n > 1]}"

    # One history line per applied change (and one ask to confirm), none for the clicks that lost.
    thread = [
        call.args["text"] for call in harness.fake.calls_to("chat.postMessage") if call.args.get("thread_ts") == c.ts
    ]
    with session_scope(harness.engine) as s:
        audited = s.exec(select(AuditEntry).where(AuditEntry.entity == "milestone", AuditEntry.field == "status")).all()
        record = load(s, ob.id)
    assert Counter(a.action for a in audited) == {"start": len(keys), "done": len(keys)}
    asked = sum(m.status == "awaiting_confirmation" for m in record.milestones if m.key in keys)
    assert len(thread) == len(set(thread)) == 2 * len(keys) + asked, thread
    # The card as it stands shows the store as it stands.
    shown = next(m for m in harness.fake.messages(c.channel_id) if m["ts"] == c.ts)
    expected = publish._render(harness.services, record, "stage", "pre_kickoff", harness.services.clock.now())
    assert shown["blocks"] == expected.blocks


def card_updates(harness, c) -> list:
    return [call for call in harness.fake.calls_to("chat.update") if call.args["ts"] == c.ts]


def _all_sent(harness, keys: list[str]) -> bool:
    with session_scope(harness.engine) as s:
        rows = s.exec(select(Notification).where(Notification.dedupe_key.in_(keys))).all()  # type: ignore[attr-defined]
    return len(rows) == len(keys) and all(r.status == outbox.SENT for r in rows)
