"""Delivering the heaviest morning against a fake Slack that is slow and keeps Slack's channel limit.

    python bench/deliver.py                                   # 1,000 onboardings, 100 ms, 16 in flight
    python bench/deliver.py --onboardings 10000 --latency-ms 100 --in-flight 16
    DATABASE_URL=postgresql://user@host/empty_db python bench/deliver.py

The book of business is bench/sweep.py's, with every customer in New York and vendor people of
its own on every onboarding (no two onboardings' DMs share a person, so no digest joins them: the
most posts), and the moment is 09:00 there on a Monday: every rule fires at once. One sweep decides and claims (committed), then
the outbox is delivered by `bot.slack.delivery.deliver_due` to a fake Slack in its own process that
answers every call after --latency-ms and answers 429 (Retry-After: 1) to a second post in one
channel within a second. Then the outbox is put back as the sweep left it and delivered again by one
deliverer with one call in flight (serial), in the same run. Serial takes a long time at this size,
so unless --serial-full it runs for --serial-seconds only and its time to drain is extrapolated
from its rate; the output says so.

Prints, for each: posts, rows carried, time to drain, posts per second, 429s received, the busiest
channel (most posts) and its rate, the most posts any channel took within one second, the
closest two attempts to post in one channel; and the speed-up of concurrent over serial.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sweep import build, one_pass  # noqa: E402

from bot.core.clock import ShiftedClock  # noqa: E402
from bot.planning.playbook import load_playbooks  # noqa: E402
from bot.slack.delivery import DEFAULT_IN_FLIGHT, DeliveryReport, deliver_due  # noqa: E402
from store.db import make_engine  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import AuditEntry, Notification, Onboarding, Person  # noqa: E402

TOKEN = "xoxb-bench-token"
MONDAY_9_NEW_YORK = "2026-05-04T13:00:00+00:00"
SNAPSHOT = "bench_outbox_snapshot"


# -- the fake Slack, in a process of its own (its threads must not share a GIL with the deliverer) ----
def serve_fake(conn: Connection, latency: float, channels: list[str], users: list[str]) -> None:
    from bot.fake_slack import FakeSlack

    fake = FakeSlack(bot_token=TOKEN, latency=latency, channel_rate_limit=True)
    for channel in channels:
        fake.add_channel(channel, name=channel.lower())
    for user in users:
        fake.add_user(user, name=user.lower())
    fake.start()
    conn.send(fake.url)
    while True:
        command = conn.recv()
        if command == "stats":
            with fake._cond:
                calls = [(c.method, c.args.get("channel"), c.status, c.at) for c in fake.calls]
            conn.send(calls)
        elif command == "reset":
            fake.reset()
            for channel in channels:
                fake.add_channel(channel, name=channel.lower())
            for user in users:
                fake.add_user(user, name=user.lower())
            conn.send("ok")
        else:
            fake.stop()
            conn.send("stopped")
            return


@dataclass
class Outlet:
    engine: Engine
    client: WebClient
    bot_user_id: str = "U0BOT"
    playbooks: dict = field(default_factory=load_playbooks)


@dataclass
class Figures:
    name: str
    report: DeliveryReport
    seconds: float
    calls: list[tuple[str, str | None, int, float]]
    complete: bool = True
    rows_due: int = 0
    posts_expected: int = 0  # the whole morning's posts (the concurrent run's), for extrapolating a sample

    def lines(self) -> list[str]:
        posts = [c for c in self.calls if c[0] == "chat.postMessage"]
        taken = [c for c in posts if c[2] == 200]
        limited = sum(1 for c in self.calls if c[2] == 429)
        by_channel: dict[str, list[float]] = {}
        attempts: dict[str, list[float]] = {}
        for _method, channel, status, at in posts:
            attempts.setdefault(channel or "", []).append(at)
            if status == 200:
                by_channel.setdefault(channel or "", []).append(at)
        busiest, times = max(by_channel.items(), key=lambda kv: len(kv[1]), default=("-", []))
        span = (max(times) - min(times)) if len(times) > 1 else 0.0
        rate = f"{(len(times) - 1) / span:.2f} posts/s over {span:.1f} s" if span else "a single post"
        most_in_a_second = max((_most_within(ts, 1.0) for ts in by_channel.values()), default=0)
        gaps = [b - a for ts in attempts.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
        rate_now = len(taken) / self.seconds if self.seconds else 0.0
        out = [
            f"{self.name}:",
            f"  posts: {len(taken):,} carrying {len(self.report.sent):,} outbox rows"
            f" ({len(self.report.failed)} failed, {len(self.report.retrying)} to retry,"
            f" {len(self.report.postponed)} held)",
        ]
        if self.complete:
            out.append(f"  time to drain: {self.seconds:.1f} s, {rate_now:.1f} posts/s")
        else:
            out.append(
                f"  ran {self.seconds:.1f} s on a sample ({len(self.report.sent):,} of {self.rows_due:,} rows):"
                f" {rate_now:.1f} posts/s; time to drain EXTRAPOLATED to the morning's {self.posts_expected:,}"
                f" posts at that rate: {self.drain_seconds(self.posts_expected):.0f} s"
            )
        out += [
            f"  429s received: {limited} (deliverer counted {self.report.rate_limited}); other calls:"
            f" {dict(Counter(c[0] for c in self.calls if c[0] != 'chat.postMessage'))}",
            f"  busiest channel: {busiest} with {len(times)} posts, {rate}",
            f"  most posts any channel took within one second: {most_in_a_second};"
            f" closest two attempts in one channel: {min(gaps, default=float('nan')):.3f} s apart",
        ]
        return out

    def drain_seconds(self, posts: int) -> float:
        """Measured, or for a sample: the morning's posts (`posts`) at the sample's posts per second."""
        if self.complete:
            return self.seconds
        return posts / max(len(self.report.posts), 1) * self.seconds


def _most_within(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def snapshot(engine: Engine) -> int:
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {SNAPSHOT} AS SELECT * FROM notifications"))
        return conn.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


def restore(engine: Engine, audit_before: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
        conn.execute(text(f"INSERT INTO notifications SELECT * FROM {SNAPSHOT}"))
        conn.execute(text("DELETE FROM audit_log WHERE id > :last"), {"last": audit_before})


def unsent(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(Notification).where(Notification.status != "sent")
        return conn.execute(query).scalar_one()


def deliver(
    name: str,
    outlet: Outlet,
    now: datetime,
    fake: Connection,
    *,
    in_flight: int,
    budget: float | None,
    posts_expected: int = 0,
) -> Figures:
    fake.send("reset")
    fake.recv()
    rows = unsent(outlet.engine)
    started = perf_counter()
    stop = (lambda: perf_counter() - started >= budget) if budget else None
    report = deliver_due(outlet, now, clock=ShiftedClock(now), in_flight=in_flight, stop=stop)
    seconds = perf_counter() - started
    left = unsent(outlet.engine) - len(report.failed)
    fake.send("stats")
    calls = fake.recv()
    return Figures(name, report, seconds, calls, complete=left == 0, rows_due=rows, posts_expected=posts_expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onboardings", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="the fake Slack's delay on every answer")
    parser.add_argument(
        "--in-flight", type=int, default=DEFAULT_IN_FLIGHT, help="calls in flight for the concurrent deliverer"
    )
    parser.add_argument("--serial-seconds", type=float, default=60.0, help="how long the serial deliverer runs")
    parser.add_argument("--serial-full", action="store_true", help="let the serial deliverer drain it all")
    args = parser.parse_args()
    now = datetime.fromisoformat(MONDAY_9_NEW_YORK).astimezone(UTC)

    scratch = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        scratch = tempfile.mkdtemp(prefix="deliver-bench-")
        url = f"sqlite:///{scratch}/deliver.db"
    engine = make_engine(url)
    fake_conn = process = None
    try:
        upgrade(engine)
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(Onboarding.__table__)).scalar():
                print("the database already holds onboardings: point DATABASE_URL at an empty one", file=sys.stderr)
                return 2
        started = perf_counter()
        build(engine, args.onboardings, now, ("America/New_York",), csm_book=1, team=1)
        print(f"database: {engine.url.render_as_string(hide_password=True)} ({engine.dialect.name})")
        print(f"built {args.onboardings:,} onboardings, all in New York, in {perf_counter() - started:.1f} s")
        swept = one_pass(engine, now, load_playbooks(), commit=True)
        print(
            f"sweep at Monday 09:00 New York: {swept['notices']:,} notices decided, {swept['new']:,} outbox rows"
            f" claimed in {swept['seconds']:.1f} s"
        )
        if engine.dialect.name == "postgresql":  # what autovacuum does to a table that just grew
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE notifications"))
        audit_before = snapshot(engine)

        with engine.connect() as conn:
            channels = [
                c
                for row in conn.execute(select(Onboarding.shared_channel_id, Onboarding.internal_channel_id))
                for c in row
                if c
            ]
            users = [u for (u,) in conn.execute(select(Person.slack_user_id).where(Person.slack_user_id.is_not(None)))]
        ctx = multiprocessing.get_context("spawn")
        fake_conn, child = ctx.Pipe()
        process = ctx.Process(target=serve_fake, args=(child, args.latency_ms / 1000, channels, users), daemon=True)
        process.start()
        api_url = fake_conn.recv()
        outlet = Outlet(engine, WebClient(token=TOKEN, base_url=api_url, timeout=30))
        print(
            f"fake Slack in its own process: {args.latency_ms:g} ms per answer, one post a second per channel"
            f" (429 with Retry-After: 1 otherwise)"
        )

        concurrent = deliver(
            f"concurrent ({args.in_flight} in flight)", outlet, now, fake_conn, in_flight=args.in_flight, budget=None
        )
        print("\n".join(concurrent.lines()))
        restore(engine, audit_before)
        serial = deliver(
            "serial (one deliverer, one call in flight)",
            outlet,
            now,
            fake_conn,
            in_flight=1,
            budget=None if args.serial_full else args.serial_seconds,
            posts_expected=len(concurrent.report.posts),
        )
        print("\n".join(serial.lines()))
        if not serial.complete:
            print(
                f"  (serial ran for {args.serial_seconds:g} s of the same morning, in the same order, then stopped;"
                " its time to drain is the concurrent run's post count at its posts per second: an extrapolation, not a"
                " measurement; the sample starts with the urgent single-row posts, the cheapest, so it errs in"
                " serial's favour)"
            )
        ratio = serial.drain_seconds(len(concurrent.report.posts)) / concurrent.seconds
        kind = "measured" if serial.complete else "serial extrapolated"
        print(f"speed-up: concurrent drains {ratio:.1f}x faster than serial ({kind})")
        return 0
    finally:
        if fake_conn is not None:
            fake_conn.send("stop")
            fake_conn.recv()
        if process is not None:
            process.join(timeout=10)
        engine.dispose()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
