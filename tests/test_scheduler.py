"""Sweeps, the sweep lock, the long-lived scheduler and the `sweep` / `scheduler` commands."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.core.notices import Audience, Rule
from bot.runtime import cli, locks
from bot.runtime.locks import (
    LEASE_TTL,
    SWEEP,
    acquire_lease,
    default_holder,
    holder_is_gone,
    release_lease,
    renew_lease,
    sweep_lock,
)
from bot.runtime.scheduler import StopSignal, make_scheduler, run_until_stopped
from bot.runtime.sweep import DryRunWrite, describe_plan, run_delivery, run_sweep
from bot.slack.delivery import CLAIM_HOLD
from store import outbox
from store.db import make_engine, session_scope
from store.models import AuditEntry, Lease, Notification
from tests.conftest import BOT_TOKEN, INTERNAL_CHANNEL, SHARED_CHANNEL, VENDOR_CSM
from tests.test_delivery import CrashAfterPost
from tests.test_outbox import MONDAY_9, ManualClock, make_onboarding, notice, rows


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def deciding(*notices):
    def decide(session: Session, now: datetime):
        return [n for n in notices if n.not_before <= now + timedelta(days=1)]

    return decide


@pytest.fixture
def ob(harness) -> int:
    return make_onboarding(harness.engine)


# -- run_sweep ------------------------------------------------------------------------------------
def test_a_sweep_decides_claims_and_delivers(harness, ob):
    decide = deciding(notice(ob, "sso"), notice(ob, "crm", audience=Audience.SHARED))

    report = run_sweep(harness.services, MONDAY_9, decide=decide, clock=ManualClock())

    assert (report.ran, report.decided, report.claimed) == (True, 2, 2)
    assert len(report.delivery.posts) == 2
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


def test_rerunning_a_sweep_sends_nothing_twice(harness, ob):
    decide = deciding(notice(ob, "sso"), notice(ob, "crm", audience=Audience.SHARED))
    clock = ManualClock()
    run_sweep(harness.services, MONDAY_9, decide=decide, clock=clock)

    again = run_sweep(harness.services, MONDAY_9, decide=decide, clock=clock)
    later = run_sweep(harness.services, clock.advance(minutes=5), decide=decide, clock=clock)

    assert again.claimed == later.claimed == 0
    assert again.delivery.posts == later.delivery.posts == []
    assert len(harness.fake.calls_to("chat.postMessage")) == 2


def test_a_crash_between_deciding_and_sending_loses_nothing_and_sends_nothing_twice(harness, ob):
    decide = deciding(notice(ob, "a", audience=Audience.INTERNAL), notice(ob, "b", audience=Audience.INTERNAL))
    crashing = dataclasses.replace(harness.services, client=CrashAfterPost(token=BOT_TOKEN, base_url=harness.fake.url))
    clock = ManualClock()

    with pytest.raises(SystemExit):
        run_sweep(crashing, MONDAY_9, decide=decide, clock=clock)
    assert {r.status for r in rows(harness.engine)} == {outbox.SENDING}, "decided and claimed before the crash"
    assert count(harness.engine, Lease) == 0, "the lease went with the crashed sweep"

    clock.advance(seconds=CLAIM_HOLD.total_seconds())
    report = run_sweep(harness.services, clock.now(), decide=decide, clock=clock)

    assert report.claimed == 0 and len(report.delivery.recovered) == 2
    assert len(harness.fake.messages(INTERNAL_CHANNEL)) == 1
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


def test_before_business_hours_only_urgent_notices_are_claimed(harness, ob):
    early = MONDAY_9 - timedelta(hours=2)
    nudge = notice(ob, "sso", not_before=MONDAY_9)
    escalation = notice(ob, "sso", rule=Rule.BLOCKED, audience=Audience.INTERNAL, urgent=True, not_before=MONDAY_9)
    decide = deciding(nudge, escalation)
    clock = ManualClock(early)

    report = run_sweep(harness.services, early, decide=decide, clock=clock)

    assert (report.decided, report.claimed, report.waiting) == (2, 1, 1)
    assert [r.dedupe_key for r in rows(harness.engine)] == [escalation.dedupe_key]
    assert report.delivery.posts == [], "the escalation waits in the outbox for business hours"
    assert "1 wait for business hours" in report.summary()

    opened = run_sweep(harness.services, clock.advance(hours=2), decide=decide, clock=clock)

    assert (opened.claimed, opened.waiting) == (1, 0)
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


def test_a_nudge_made_moot_overnight_is_never_sent(harness, ob):
    """Decided before business hours, the milestone is done before they open: nothing is said."""
    done = threading.Event()
    nudge = notice(ob, "sso", not_before=MONDAY_9)

    def decide(session: Session, now: datetime):
        return [] if done.is_set() else [nudge]

    clock = ManualClock(MONDAY_9 - timedelta(hours=3))
    run_sweep(harness.services, clock.now(), decide=decide, clock=clock)
    done.set()  # marked done at 07:00
    report = run_sweep(harness.services, clock.advance(hours=3), decide=decide, clock=clock)

    assert report.decided == report.claimed == 0
    assert count(harness.engine, Notification) == 0 and harness.fake.calls_to("chat.postMessage") == []


def test_a_dry_run_before_business_hours_says_what_would_wait(harness, ob):
    nudge = notice(ob, "sso", not_before=MONDAY_9)
    report = run_sweep(harness.services, MONDAY_9 - timedelta(hours=1), decide=deciding(nudge), dry_run=True)

    assert (report.claimed, report.waiting) == (0, 1)
    assert "[new, waits for business hours] overdue sso" in describe_plan(report)
    assert count(harness.engine, Notification) == 0


def test_a_sweep_skips_while_another_holds_the_lock(harness, ob):
    with sweep_lock(harness.engine, "someone else") as held:
        assert held
        report = run_sweep(harness.services, MONDAY_9, decide=deciding(notice(ob)), holder="me")
    assert not report.ran and count(harness.engine, Notification) == 0
    assert "another sweeper" in report.summary()


def test_two_schedulers_at_once_deliver_each_post_once(harness, ob, database_url):
    notices = [notice(ob, s) for s in ("a", "b")] + [notice(ob, "c", audience=Audience.SHARED, urgent=True)]
    gave_up = [threading.Event(), threading.Event()]
    reports, errors = [], []

    def scheduler(i: int) -> None:
        def decide(session, now):
            gave_up[1 - i].wait(timeout=10)  # keep the lock until the other sweeper has tried it
            return notices

        engine = make_engine(database_url)
        try:
            services = dataclasses.replace(harness.services, engine=engine)
            reports.append(run_sweep(services, MONDAY_9, decide=decide, clock=ManualClock(), holder=f"sweeper-{i}"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            gave_up[i].set()
            engine.dispose()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors, errors
    assert sorted(r.ran for r in reports) == [False, True]
    assert len(harness.fake.calls_to("chat.postMessage")) == 2
    assert len(harness.fake.messages(SHARED_CHANNEL)) == 1
    assert len([c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == VENDOR_CSM]) == 1
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


# -- dry run --------------------------------------------------------------------------------------
def test_a_dry_run_posts_nothing_and_writes_nothing(harness, ob):
    claim_first = notice(ob, "crm")
    with session_scope(harness.engine) as s:
        outbox.claim(s, [claim_first])

    def decide(session, now):
        session.add(AuditEntry(entity="milestone", action="rules_wrote", actor="system"))
        session.flush()
        return [notice(ob, "sso", why="SSO is 3 days overdue"), claim_first]

    report = run_sweep(harness.services, MONDAY_9, decide=decide, dry_run=True)

    assert report.dry_run and (report.decided, report.claimed) == (2, 1)
    assert [(p.notice.subject, p.status) for p in report.planned] == [("sso", None), ("crm", outbox.PENDING)]
    assert count(harness.engine, AuditEntry) == 0 and count(harness.engine, Notification) == 1
    assert count(harness.engine, Lease) == 0
    assert harness.fake.calls == []


def test_a_dry_run_refuses_rules_that_commit(harness, ob):
    def decide(session, now):
        session.add(AuditEntry(entity="milestone", action="rules_wrote", actor="system"))
        session.commit()
        return []

    with pytest.raises(DryRunWrite):
        run_sweep(harness.services, MONDAY_9, decide=decide, dry_run=True)
    assert count(harness.engine, AuditEntry) == 0


# -- locks ------------------------------------------------------------------------------------------
def test_lease_is_taken_when_free_or_expired_renewed_and_released(clean_db):
    now = MONDAY_9
    assert acquire_lease(clean_db, "job", "a", ttl=timedelta(minutes=1), now=now)
    assert acquire_lease(clean_db, "job", "a", ttl=timedelta(minutes=1), now=now), "the holder may take it again"
    assert not acquire_lease(clean_db, "job", "b", now=now + timedelta(seconds=59))
    assert not renew_lease(clean_db, "job", "b", now=now)
    assert renew_lease(clean_db, "job", "a", ttl=timedelta(minutes=1), now=now + timedelta(seconds=50))
    assert not acquire_lease(clean_db, "job", "b", now=now + timedelta(seconds=100))
    assert acquire_lease(clean_db, "job", "b", now=now + timedelta(seconds=111)), "a's lease ran out"
    assert not renew_lease(clean_db, "job", "a", now=now + timedelta(seconds=112)), "and a knows it lost it"
    release_lease(clean_db, "job", "a")
    assert count(clean_db, Lease) == 1, "only the holder can release"
    release_lease(clean_db, "job", "b")
    assert acquire_lease(clean_db, "job", "c")


def test_sweep_lock_lets_one_holder_in_at_a_time(clean_db):
    with sweep_lock(clean_db, "a") as first, sweep_lock(clean_db, "b") as second:
        assert first and not second
    with sweep_lock(clean_db, "b") as again:
        assert again, "released on the way out"
    assert count(clean_db, Lease) == 0


def test_overlapping_jobs_of_one_process_exclude_each_other(clean_db):
    holding, done = threading.Event(), threading.Event()

    def other_job() -> None:
        with sweep_lock(clean_db, default_holder()) as acquired:
            assert acquired
            holding.set()
            done.wait(timeout=10)

    job = threading.Thread(target=other_job)
    job.start()
    try:
        assert holding.wait(timeout=10)
        with sweep_lock(clean_db, default_holder()) as acquired:
            assert not acquired
    finally:
        done.set()
        job.join(timeout=10)


def test_sweep_lock_is_released_when_the_sweep_raises(clean_db):
    with pytest.raises(RuntimeError), sweep_lock(clean_db, "a"):
        raise RuntimeError("sweep failed")
    with sweep_lock(clean_db, "b") as acquired:
        assert acquired


# -- the scheduler -----------------------------------------------------------------------------------
def test_scheduler_jobs_and_intervals(harness):
    scheduler = make_scheduler(harness.services, decide=deciding(), every_minutes=2)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["sweep"].trigger.interval == timedelta(minutes=2)
    assert jobs["deliver"].trigger.interval == timedelta(minutes=1)
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert make_scheduler(harness.services, decide=deciding()).get_job("sweep").trigger.interval == timedelta(minutes=5)


def test_scheduler_sweeps_at_start_and_stops_cleanly(harness, ob):
    just_now = datetime.now(UTC) - timedelta(minutes=1)
    decide = deciding(notice(ob, "sso", audience=Audience.INTERNAL, urgent=True, not_before=just_now))
    stop = StopSignal()
    started = threading.Event()
    runner = threading.Thread(
        target=run_until_stopped,
        args=(harness.services,),
        kwargs={"decide": decide, "stop": stop, "on_started": started.set},
    )
    runner.start()
    try:
        assert started.wait(timeout=10)
        harness.fake.wait_for("chat.postMessage", timeout=10)
    finally:
        stop.set()
        runner.join(timeout=10)
        stop.close()
    assert not runner.is_alive()
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}


SCHEDULER_SCRIPT = """
import logging, sys
from bot.runtime.app import build_services
from bot.runtime.config import Settings
from bot.runtime.scheduler import run_until_stopped
from store.db import make_engine
from store.migrate import upgrade

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
settings = Settings(slack_bot_token=sys.argv[1], slack_api_url=sys.argv[2], database_url=sys.argv[3])
engine = make_engine(settings.database_url)
upgrade(engine)
run_until_stopped(build_services(settings, engine=engine), decide=lambda session, now: [])
"""


def test_scheduler_process_stops_cleanly_on_sigterm(tmp_path, fake_slack):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ONBOARD_", "DATABASE_URL"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCHEDULER_SCRIPT, BOT_TOKEN, fake_slack.url, f"sqlite:///{tmp_path / 's.db'}"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "scheduler started" in line:
                break
        else:
            pytest.fail("the scheduler did not start:\n" + "".join(seen))
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = "".join(seen) + rest
    assert proc.returncode == 0, log
    assert "scheduler stopped" in log and "Traceback" not in log


# -- the commands -------------------------------------------------------------------------------------
@pytest.fixture
def command(monkeypatch, tmp_path, database_url, fake_slack):
    """Run `onboard-bot ...` in this process, with the rules replaced by `command.notices`."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ONBOARD_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.logs, "configure", lambda *args, **kwargs: None)
    rules = types.ModuleType("bot.automation.rules")
    rules.decide = lambda session, now, playbooks, **_: [n for n in run.notices if n.not_before <= now]
    monkeypatch.setitem(sys.modules, "bot.automation.rules", rules)

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    run.notices = []
    return run


def test_sweep_dry_run_says_what_would_be_posted_to_whom_and_why(harness, ob, command, capsys):
    command.notices = [
        notice(ob, "sso", why="SSO users: 3 days overdue, owner Chris"),
        notice(ob, "", rule=Rule.WEEKLY_OVERVIEW, audience=Audience.SHARED, period="2026-W19", why="Monday overview"),
    ]

    assert command("sweep", "--now", "2026-05-04T09:00-04:00", "--dry-run") == 0

    out = capsys.readouterr().out
    assert out.startswith("Dry run at 2026-05-04 13:00 UTC: nothing was posted and nothing was written.")
    assert "2 notice(s) decided, 2 new would be posted now, 0 new would wait" in out
    assert re.search(rf"\[new\] overdue sso -> dm {VENDOR_CSM}, from 2026-05-04 13:00 UTC", out)
    assert f"[new] weekly_overview (onboarding) -> shared {SHARED_CHANNEL}" in out
    assert "why: SSO users: 3 days overdue, owner Chris" in out and "why: Monday overview" in out
    assert count(harness.engine, Notification) == 0 and harness.fake.calls == []


def test_sweep_command_posts_at_the_given_time(harness, ob, command, capsys):
    command.notices = [notice(ob, "sso")]

    assert command("sweep", "--now", "2026-05-04T13:00") == 0

    assert "sweep at 2026-05-04 13:00 UTC: 1 decided, 1 new, 0 wait for business hours; 1 post(s)" in (
        capsys.readouterr().out
    )
    assert len(harness.fake.calls_to("chat.postMessage")) == 1
    assert command("sweep", "--now", "2026-05-04T13:05") == 0
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


def test_sweep_now_is_read_in_the_given_timezone(harness, ob, command, capsys):
    command.notices = [notice(ob, "sso")]
    assert command("sweep", "--now", "2026-05-04T09:00", "--tz", "America/New_York", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("Dry run at 2026-05-04 13:00 UTC")
    # an offset of its own wins over --tz
    assert command("sweep", "--now", "2026-05-04T09:00+02:00", "--tz", "America/New_York", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("Dry run at 2026-05-04 07:00 UTC")
    # a time of day is today in that timezone
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo")).date()
    nine = datetime.combine(today, time_of_day(9), ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    assert command("sweep", "--now", "09:00", "--tz", "Asia/Tokyo", "--dry-run") == 0
    assert capsys.readouterr().out.startswith(f"Dry run at {nine:%Y-%m-%d %H:%M} UTC")
    with pytest.raises(SystemExit) as bad_zone:
        command("sweep", "--now", "09:00", "--tz", "New York")
    assert bad_zone.value.code == 2 and "not an IANA timezone" in capsys.readouterr().err


def test_commands_refuse_bad_arguments_and_missing_rules(command, monkeypatch, capsys):
    with pytest.raises(SystemExit) as bad_time:
        command("sweep", "--now", "monday")
    with pytest.raises(SystemExit) as bad_every:
        command("scheduler", "--every", "0")
    assert bad_time.value.code == bad_every.value.code == 2
    monkeypatch.setitem(sys.modules, "bot.automation.rules", None)
    assert command("sweep", "--dry-run") == 2
    assert "onboard-bot: the rules (bot.automation.rules) cannot be loaded" in capsys.readouterr().err


def _gone_pid() -> int:
    """The pid of a process that has come and gone (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_lease_is_short_and_kept_alive_while_its_holder_works(clean_db):
    assert LEASE_TTL.total_seconds() <= 60, "a dead holder must not block the sweeps for long"
    with locks._leased(clean_db, SWEEP, "a", timedelta(seconds=0.6)) as acquired:  # the lease itself, on any database
        assert acquired
        time.sleep(1.0)  # well past the first expiry: the renewer has pushed it out
        assert not acquire_lease(clean_db, SWEEP, "b")
    assert acquire_lease(clean_db, SWEEP, "b")


def test_a_lease_left_by_a_dead_holder_elsewhere_is_taken_once_it_runs_out(clean_db):
    now = MONDAY_9
    assert acquire_lease(clean_db, SWEEP, "another-host:4242:1", now=now)
    assert not acquire_lease(clean_db, SWEEP, default_holder(), now=now + LEASE_TTL / 2), "it might still live"
    assert acquire_lease(clean_db, SWEEP, default_holder(), now=now + LEASE_TTL)


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_at_once(clean_db):
    dead = f"{socket.gethostname()}:{_gone_pid()}:140000000000"
    assert holder_is_gone(dead)
    assert acquire_lease(clean_db, SWEEP, dead)
    assert acquire_lease(clean_db, SWEEP, default_holder()), "its process is gone: no need to wait"
    assert not renew_lease(clean_db, SWEEP, dead)


def test_a_live_holders_lease_is_not_taken(clean_db):
    for live in (
        f"{socket.gethostname()}:{os.getppid()}:1",  # another process here, alive
        f"{socket.gethostname()}:{os.getpid()}:1",  # another thread of this process
        f"another-host:{_gone_pid()}:1",  # no pid of ours means anything there
        "a holder of another form",
    ):
        assert not holder_is_gone(live), live
        assert acquire_lease(clean_db, SWEEP, live)
        assert not acquire_lease(clean_db, SWEEP, default_holder()), live
        release_lease(clean_db, SWEEP, live)


def test_a_long_delivery_does_not_hold_the_sweep_lock(harness, ob):
    claim_first = notice(ob, "crm", audience=Audience.SHARED)
    with session_scope(harness.engine) as s:
        outbox.claim(s, [claim_first])
    posting, go_on = threading.Event(), threading.Event()

    def hold(call) -> None:
        if call.method == "chat.postMessage":
            posting.set()
            go_on.wait(timeout=10)

    listener = harness.fake.add_listener(hold)
    results: list = []
    runner = threading.Thread(
        target=lambda: results.append(run_delivery(harness.services, MONDAY_9, clock=ManualClock(), holder="deliverer"))
    )
    runner.start()
    try:
        assert posting.wait(timeout=10)
        report = run_sweep(harness.services, MONDAY_9, decide=deciding(notice(ob, "sso")), holder="sweeper")
    finally:
        go_on.set()
        runner.join(timeout=10)
        harness.fake.remove_listener(listener)

    assert report.ran and report.claimed == 1, "the sweep ran while the delivery was posting"
    assert report.delivery is None, "its rows are left to the deliverer already running"
    [delivered] = results
    assert len(delivered.posts) == 2, "the running deliverer took the sweep's row too, in its next round"
    assert {r.status for r in rows(harness.engine)} == {outbox.SENT}
