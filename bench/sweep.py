"""One sweep (the rules deciding, the outbox claiming) over many onboardings, beside a plain read of the same candidates.

    python bench/sweep.py                          # 10,000 onboardings x 30 milestones, scratch SQLite file
    python bench/sweep.py --onboardings 1000       # the statement count must equal the 10,000 run's
    python bench/sweep.py --timezone America/New_York --now 2026-05-04T13:00:00+00:00   # the heaviest case
    python bench/sweep.py --csm-book 1             # every onboarding with vendor people of its own
    DATABASE_URL=postgresql://user@host/empty_db python bench/sweep.py

With DATABASE_URL the database must hold no onboardings yet (the tables are created by the
migrations); without it a scratch SQLite file is made and removed. The data is built with bulk
inserts, shaped like a real book of business: most past milestones done, some overdue, blocked or
awaiting the customer, customer activity of varying recency, last week's health snapshots, some
open escalations and snoozes, a few onboardings no longer active. The vendor's people are shared the
way a team is: one implementation CSM (and account executive) per --csm-book onboardings (40: the
middle of DOMAIN's one CSM per 30-50 accounts at the bench's tier), and one CSM manager and
escalation contact per --team CSMs (8); each onboarding still has customer people of its own.

A sweep is what the scheduler runs in one transaction: `bot.automation.rules.decide`, then `store.outbox.claim`
of what it decided and may go out now (`bot.runtime.sweep.may_go_out`: urgent, or in the customer's business
hours); delivery to Slack is not part of it. By default the customers are spread over six
timezones, so at the default "now" some are outside their hours; `--timezone` puts them all in one,
and at its Monday 09:00 every notice of the week's busiest morning is new at once. Two kinds are timed:
- the first sweep of the day, when nothing it decides has been claimed yet (on a Monday every rule
  fires, so this is the heaviest sweep of the week: tens of thousands of new outbox rows);
- a later sweep, when an earlier one has claimed it all (every sweep of the day after the first).
Prints, for each: the time of decide and of claim (best of --repeat, after one warm-up pass), and
the SQL statements issued (a `before_cursor_execute` listener); the first sweep's peak Python memory
(tracemalloc, in a pass of its own); the time of the plain query that reads the same candidate
milestones (the sweep's own SQL and parameters, run straight on the DB-API cursor, best of
--repeat); the time of storing the first sweep's new outbox rows and nothing else (the driver's
bare bulk write: the floor under any first sweep that keeps one outbox row per notice); and the
ratios. Timed passes are rolled back, so each sees the same data; one first
sweep is committed (and its commit timed) to set up the later ones.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import sys
import tempfile
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot.automation import collector  # noqa: E402
from bot.automation.rules import decide  # noqa: E402
from bot.planning.playbook import load_playbooks  # noqa: E402
from bot.runtime.sweep import may_go_out  # noqa: E402
from store import outbox  # noqa: E402
from store.db import make_engine  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import (  # noqa: E402
    Activity,
    Escalation,
    HealthSnapshot,
    Milestone,
    Notification,
    Onboarding,
    Person,
    Snooze,
)  # fmt: skip

MILESTONES = 30
TIMEZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo")
PLAYBOOK_KEYS = ("standard_30", "standard_60", "enterprise_90", "light")
PEOPLE = (  # side, role, in Slack
    ("vendor", "implementation_csm", True), ("vendor", "csm_manager", True),
    ("vendor", "escalation_contact", True), ("vendor", "account_executive", True),
    ("customer", "economic_buyer", False), ("customer", "executive_sponsor", True), ("customer", "champion", True),
    ("customer", "project_owner", True), ("customer", "day_to_day_owner", False),
)  # fmt: skip
# How milestones stand: those whose due date has passed, and those still ahead.
PAST = {"done": 85, "in_progress": 10, "blocked": 3, "awaiting_confirmation": 2}
AHEAD = {"not_started": 90, "done": 5, "blocked": 3, "awaiting_confirmation": 2}
STORY = ("sold", "commitments", "success_criteria", "first_value_definition", "full_value_definition", "concerns",
         "political_dynamics")  # fmt: skip
TABLES = (Onboarding, Person, Milestone, Activity, HealthSnapshot, Escalation, Snooze)
CANDIDATES = "SELECT milestones.id"  # how the sweep's candidate-milestone query starts
CHUNK = 5000
CSM_BOOK, TEAM = 40, 8
TEAM_ROLES = ("csm_manager", "escalation_contact")  # one per team of CSMs; the other vendor roles one per CSM


class Book:
    """The rows of `n` onboardings, made deterministically from a seed."""

    def __init__(
        self,
        n: int,
        now: datetime,
        seed: int = 7,
        timezones: tuple[str, ...] = TIMEZONES,
        csm_book: int = CSM_BOOK,
        team: int = TEAM,
    ) -> None:
        self.rnd, self.now, self.today, self.timezones = random.Random(seed), now, now.date(), timezones
        self.csm_book, self.team = csm_book, team
        self.rows: dict[type, list[dict]] = {t: [] for t in TABLES}
        self.person_id = self.milestone_id = 0
        for i in range(1, n + 1):
            self.onboarding(i)

    def onboarding(self, i: int) -> None:
        rnd, now, today = self.rnd, self.now, self.today
        signed = today - timedelta(days=rnd.randint(5, 80))
        self.rows[Onboarding].append(dict(
            id=i, customer_name=f"Customer {i}", stage="setup", tier=2, acv_cents=2_000_000,
            status="active" if rnd.random() < 0.95 else rnd.choice(("live", "handed_off", "cancelled")),
            playbook_key=PLAYBOOK_KEYS[i % len(PLAYBOOK_KEYS)], timezone=self.timezones[i % len(self.timezones)],
            contract_signed_on=signed, target_go_live_on=signed + timedelta(days=60),
            shared_channel_id=f"CS{i:07d}", internal_channel_id=f"CI{i:07d}", created_by="U0CSM",
            created_at=datetime.combine(signed, time(0), tzinfo=UTC), updated_at=now,
            it_dependencies=[], **dict.fromkeys(STORY, ""),
        ))  # fmt: skip
        ids, slack = self.people(i)
        long_blocked = [self.milestone(i, k, signed, ids) for k in range(MILESTONES)]
        for key in [k for k in long_blocked if k][: rnd.randint(0, 1)]:
            raised = now - timedelta(days=rnd.randint(2, 4))
            self.rows[Escalation].append(dict(onboarding_id=i, rule="blocked", subject=key, opened_on=raised.date(),
                                              level=0, raised_at=raised, level_raised_at=raised))  # fmt: skip
        silent = rnd.random() < 0.1
        said: set[tuple[str | None, datetime]] = set()  # one activity row per message (a unique index)
        for _ in range(rnd.randint(0, 15)):
            back = timedelta(days=rnd.randint(10, 40) if silent else rnd.randint(0, 20), minutes=rnd.randint(0, 1440))
            who = slack[rnd.choice(("executive_sponsor", "champion", "project_owner"))]
            if (who, now - back) in said:
                continue
            said.add((who, now - back))
            self.rows[Activity].append(dict(onboarding_id=i, slack_user_id=who, side="customer", kind="message",
                                            at=now - back))  # fmt: skip
        self.rows[HealthSnapshot].append(dict(onboarding_id=i, day=today - timedelta(days=7),
                                              score=rnd.randint(40, 100), parts={}))  # fmt: skip
        if rnd.random() < 0.02:
            self.rows[Snooze].append(dict(onboarding_id=i, rule="overdue", subject="", until=now + timedelta(days=1),
                                          snoozed_by="U0CSM", created_at=now))  # fmt: skip

    def people(self, i: int) -> tuple[dict[str, int], dict[str, str | None]]:
        """Each role's person id, and its Slack id (a vendor's person shares theirs across onboardings)."""
        ids, slack = {}, {}
        csm = (i - 1) // self.csm_book
        for side, role, in_slack in PEOPLE:
            self.person_id += 1
            ids[role] = self.person_id
            if not in_slack:
                slack[role] = None
            elif side == "customer":
                slack[role] = f"U{self.person_id:08d}"
            else:
                holder = csm // self.team if role in TEAM_ROLES else csm
                slack[role] = f"UV{role[:3].upper()}{holder:05d}"
            self.rows[Person].append(dict(
                id=self.person_id, onboarding_id=i, side=side, role=role, name=f"{role} {i}",
                slack_user_id=slack[role], created_at=self.now,
            ))  # fmt: skip
        return ids, slack

    def milestone(self, i: int, k: int, signed: date, ids: dict[str, int]) -> str | None:
        """Add the k-th milestone; its key when it has been blocked more than a week."""
        self.milestone_id += 1
        due = signed + timedelta(days=2 * k + 1)
        odds = PAST if due < self.today else AHEAD
        status = self.rnd.choices(list(odds), weights=list(odds.values()))[0]
        blocked_since = self.today - timedelta(days=self.rnd.randint(1, 20)) if status == "blocked" else None
        key = {3: "kickoff_held", 4: "kickoff_recap"}.get(k, f"m{k:02d}")
        done_at = datetime.combine(due, time(0), tzinfo=UTC) + timedelta(hours=self.rnd.randint(-60, 30))
        self.rows[Milestone].append(dict(
            id=self.milestone_id, onboarding_id=i, stage="kickoff" if k in (3, 4) else "setup", key=key,
            title=f"Milestone {k} of customer {i} reached", track="business", position=k,
            customer_owner_role="project_owner", vendor_owner_role="implementation_csm",
            customer_owner_id=ids["project_owner"], vendor_owner_id=ids["implementation_csm"],
            start_on=due - timedelta(days=2), due_on=due, status=status, client_verified=False, first_value=False,
            depends_on=["kickoff_held"] if k == 4 else [], blocked_since=blocked_since,
            blocked_reason="Waiting on access" if blocked_since else None,
            blocked_unblocker="project_owner" if blocked_since else None,
            completed_at=done_at if status == "done" else None, version=1,
        ))  # fmt: skip
        return key if blocked_since is not None and (self.today - blocked_since).days > 7 else None


def build(
    engine: Engine,
    n: int,
    now: datetime,
    timezones: tuple[str, ...] = TIMEZONES,
    csm_book: int = CSM_BOOK,
    team: int = TEAM,
) -> None:
    rows = Book(n, now, timezones=timezones, csm_book=csm_book, team=team).rows
    with engine.begin() as conn:
        for table, batch in rows.items():
            for start in range(0, len(batch), CHUNK):
                conn.execute(insert(table.__table__), batch[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table in rows:
                name = table.__tablename__
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        # what autovacuum would have done to a database in use: statistics, visibility map, hint bits
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def one_pass(
    engine: Engine, now: datetime, playbooks, *, trace: bool = False, commit: bool = False, keep: bool = False
) -> dict:
    """One sweep's decide and claim in one transaction (rolled back unless `commit`), timed apart.

    With `keep`, the notices that may go out are returned too (kept alive, they would weigh on
    every later pass, so only when asked).
    """
    statements: list[tuple[str, object]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        # parameters only for the candidate query (the plain query reruns it): the outbox insert's are huge
        statements.append((statement, parameters if statement.lstrip().startswith(CANDIDATES) else None))

    gc.collect()
    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session, collector.paused():
            if trace:
                tracemalloc.start()
            started = perf_counter()
            notices = decide(session, now, playbooks=playbooks)
            decided = perf_counter()
            ready = [n for n in notices if may_go_out(n, now)]
            new = outbox.claim(session, ready)
            claimed = perf_counter()
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
            if commit:
                session.commit()
            else:
                session.rollback()
            ended = perf_counter()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    rules = Counter(n.rule.value for n in notices)
    return {
        "decide": decided - started,
        "claim": claimed - decided,
        "seconds": claimed - started,
        "commit": ended - claimed,
        "peak": peak,
        "statements": statements,
        "rules": rules,
        "notices": len(notices),
        "new": new,
        "waiting": len(notices) - len(ready),
        "ready": ready if keep else None,
    }


def plain_query(engine: Engine, statements: list[tuple[str, object]]) -> tuple[float, int]:
    """The pass's own candidate-milestone SQL, run bare on the DB-API cursor; (seconds, rows).

    The cyclic garbage collector is paused for it, as `decide` pauses it for itself.
    """
    sql, params = next((s, p) for s, p in statements if s.lstrip().startswith(CANDIDATES))
    raw = engine.raw_connection()
    gc.collect()
    gc.disable()
    try:
        cursor = raw.cursor()
        started = perf_counter()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        elapsed = perf_counter() - started
        cursor.close()
        raw.rollback()
    finally:
        gc.enable()
        raw.close()
    return elapsed, len(rows)


def bare_write(engine: Engine, notices: list, now: datetime) -> tuple[float, int]:
    """Storing these notices' outbox rows and nothing else: (seconds, rows), rolled back.

    The driver's own bulk write straight into the outbox (PostgreSQL's COPY, SQLite's executemany
    of a plain INSERT), with the values already converted: the least that any sweep storing one
    outbox row per notice must spend on a day when all of them are new.
    """
    table = Notification.__table__
    names = outbox.COLUMNS
    columns = ", ".join(names)
    with engine.connect() as conn:
        values = outbox.driver_rows_of(conn, list({n.dedupe_key: n for n in notices}.values()), now)
        cursor = conn.connection.dbapi_connection.cursor()
        gc.collect()
        with collector.paused():
            started = perf_counter()
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in names)
                cursor.executemany(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", values)
            elapsed = perf_counter() - started
        cursor.close()
        conn.rollback()
    return elapsed, len(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onboardings", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed passes (and plain queries, and bare writes); the best counts"
    )
    parser.add_argument(
        "--now",
        default="2026-05-04T10:00:00+00:00",
        help="the sweep's now (ISO, aware); a Monday by default, so the weekly overview is due",
    )
    parser.add_argument(
        "--timezone",
        help="put every onboarding in this timezone (default: six, from Tokyo to "
        "Los Angeles); with --now at its 09:00 on a Monday, every notice is new and may go out",
    )
    parser.add_argument(
        "--csm-book", type=int, default=CSM_BOOK, help="onboardings per implementation CSM (1: nobody shared)"
    )
    parser.add_argument("--team", type=int, default=TEAM, help="CSMs per CSM manager")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now).astimezone(UTC)

    scratch = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        scratch = tempfile.mkdtemp(prefix="sweep-bench-")
        url = f"sqlite:///{scratch}/sweep.db"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(Onboarding.__table__)).scalar():
                print("the database already holds onboardings: point DATABASE_URL at an empty one", file=sys.stderr)
                return 2
        started = perf_counter()
        timezones = (args.timezone,) if args.timezone else TIMEZONES
        build(engine, args.onboardings, now, timezones, args.csm_book, args.team)
        print(f"database: {engine.url.render_as_string(hide_password=True)} ({engine.dialect.name})")
        print(
            f"built {args.onboardings:,} onboardings x {MILESTONES} milestones in {perf_counter() - started:.1f} s "
            f"({args.csm_book} per CSM, {args.team} CSMs per manager)"
        )

        playbooks = load_playbooks()
        warm = one_pass(engine, now, playbooks, keep=True)
        plain_query(engine, warm["statements"])  # warm caches for both
        bares = [bare_write(engine, warm["ready"], now) for _ in range(args.repeat)]
        del warm
        firsts = [one_pass(engine, now, playbooks) for _ in range(args.repeat)]
        traced = one_pass(engine, now, playbooks, trace=True)
        committed = one_pass(engine, now, playbooks, commit=True)
        laters = [one_pass(engine, now, playbooks) for _ in range(args.repeat)]
        first = min(firsts, key=lambda p: p["seconds"])
        later = min(laters, key=lambda p: p["seconds"])
        plains = [plain_query(engine, first["statements"]) for _ in range(args.repeat)]
        plain_seconds, candidates = min(plains)

        print(
            f"{first['notices']:,} notices decided ({', '.join(f'{k} {v}' for k, v in sorted(first['rules'].items()))})"
        )
        for name, best, tries in (("first sweep of the day", first, firsts), ("later sweep", later, laters)):
            runs = ", ".join(f"{p['seconds']:.2f}" for p in tries)
            print(
                f"{name}: {best['seconds']:.3f} s = decide {best['decide']:.3f} s + claim {best['claim']:.3f} s "
                f"({best['new']:,} new outbox rows, {best['waiting']:,} waiting for business hours; "
                f"best of {args.repeat}: {runs}); "
                f"{len(best['statements'])} SQL statements"
            )
            for sql, _ in best["statements"]:
                print(f"    {' '.join(sql.split())[:100]}")
        print(f"committing a first sweep: {committed['commit']:.3f} s")
        print(f"peak memory of a first sweep (tracemalloc): {traced['peak'] / 2**20:.1f} MiB")
        print(
            f"plain candidate query: {plain_seconds:.3f} s for {candidates:,} milestone rows "
            f"(best of {args.repeat}: {', '.join(f'{p[0]:.3f}' for p in plains)})"
        )
        bare_seconds, written = min(bares)
        print(
            f"storing the first sweep's {written:,} outbox rows and nothing else (bare COPY or executemany): "
            f"{bare_seconds:.3f} s = {bare_seconds / plain_seconds:.1f}x the plain query "
            f"(best of {args.repeat}: {', '.join(f'{b[0]:.3f}' for b in bares)})"
        )
        print(
            f"ratio to the plain query: decide {first['decide'] / plain_seconds:.1f}x, "
            f"first sweep {first['seconds'] / plain_seconds:.1f}x, later sweep {later['seconds'] / plain_seconds:.1f}x"
        )
        print(f"ratio of the first sweep's claim to the bare write: {first['claim'] / bare_seconds:.2f}x")
        checks = (
            ("decide within 10x the plain query", first["decide"] <= 10 * plain_seconds),
            ("a later sweep within 10x the plain query", later["seconds"] <= 10 * plain_seconds),
            ("the first sweep's claim within 2x the bare write", first["claim"] <= 2 * bare_seconds),
            ("the first sweep under 5 s", first["seconds"] < 5.0),
        )
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
        return 0
    finally:
        engine.dispose()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
