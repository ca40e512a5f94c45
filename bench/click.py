"""Clicks under load: Start and Mark done on the cards of many onboardings at once, over HTTP.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/onboard_bench python bench/click.py --concurrency 20 --reset

The bot runs as `onboard-bot serve` in its own process on PostgreSQL (`DATABASE_URL`, migrated
here; it must hold no onboardings unless `--reset` empties it first), against a local fake Slack in
this process. Onboardings are started with the real start path and their setup posted (one shared
channel, one CSM each), then `--concurrency` people click at once, each on the cards of their own
onboardings: Start, then Mark done, on every pre-kickoff milestone, one click after the card showed
the last one, as a person does. A bare Bolt app on the same WSGI server (waitress, same threads),
which acks and sends one `chat.update` to the clicked card, takes the same clicks in the same run:
once as Bolt makes it (5 listener threads, which its `chat.update` calls keep busy), once with as
many listener threads as the bot has.

For each it prints p50 and p99 of the ack (the HTTP answer to the click) and of the card's update
(from the click being sent to that card's `chat.update` reaching the fake Slack), with the ratios,
the clicks answered a second and the server's CPU time per click (its processes' user and system
time over the measured clicks and what followed them, from /proc; Linux only). Then one person
clicks alone through `--alone` more onboardings on the idle server: the card's p50 there is the
cost of one click with nothing else running, the least the ratio can be under any load.
`--latency-ms` makes the fake Slack answer every Web API call that much later (both apps alike).
`--replicas N` runs N `serve` processes on the one database, each click going to the next in turn
(a load balancer's round robin), so one person's clicks on one card reach every replica.
Afterwards it checks that every click of the bot's was applied once (no lost update, no stale
answer) and that every clicked card shows its onboarding as it stands in the store.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from bot.core.ids import Action  # noqa: E402
from bot.core.payloads import MilestoneRef  # noqa: E402
from bot.fake_slack import FakeSlack  # noqa: E402
from bot.fake_slack import server as fake_server  # noqa: E402
from bot.fake_slack.server import Call  # noqa: E402
from bot.onboarding.handoff import Contact, HandoffDraft  # noqa: E402
from bot.onboarding.start import start_onboarding  # noqa: E402
from bot.runtime.app import LISTENER_THREADS, build_services  # noqa: E402
from bot.runtime.config import Settings  # noqa: E402
from bot.slack import publish  # noqa: E402
from store.db import make_engine, session_scope  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import ALL_TABLES, Milestone, Onboarding, PostedCard  # noqa: E402
from store.onboardings import load  # noqa: E402
from tests.slack_sender import SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
CUSTOMER_TEAM = "T0BENCHCUSTOMER"
STAGE = "pre_kickoff"
CARD_WAIT_S = 30.0


class TimedFake(FakeSlack):
    """The fake Slack, noting when each card's `chat.update` arrives, and answering after a delay.

    Its listening socket gets a backlog as deep as a real server's: with the standard library's
    default of 5, a burst of connections overflows it and the kernel drops the extra connection
    attempts, which come back a second later, and that second ended up in every p99.
    """

    def __init__(self, latency_s: float, **kw) -> None:
        fake_server._Server.request_queue_size = 1024
        super().__init__(**kw)
        self.latency_s = latency_s
        self.updates: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.arrived = threading.Condition()
        self.add_listener(self._noted)

    def _noted(self, call: Call) -> None:
        # Listeners run on the request's own thread before the answer is written: sleeping here
        # delays that one answer, like a slow Slack would, and nobody else's.
        if call.method == "chat.update" and call.ok:
            with self.arrived:
                self.updates[(call.args.get("channel"), call.args.get("ts"))].append(time.perf_counter())
                self.arrived.notify_all()
        if self.latency_s and call.method != "response_url":
            time.sleep(self.latency_s)

    def quiet(self, for_s: float = 1.0, at_most_s: float = 60.0) -> None:
        """Wait until no Web API call has arrived for `for_s` seconds."""
        deadline = time.monotonic() + at_most_s
        while time.monotonic() < deadline:
            count = len(self.calls)
            time.sleep(for_s)
            if len(self.calls) == count:
                return

    def seen(self, key: tuple[str, str]) -> int:
        with self.arrived:
            return len(self.updates[key])

    def wait_update(self, key: tuple[str, str], after: int, deadline: float) -> float | None:
        with self.arrived:
            done = self.arrived.wait_for(lambda: len(self.updates[key]) > after, timeout=deadline - time.monotonic())
            return self.updates[key][after] if done else None


@dataclass(frozen=True)
class Click:
    action: str
    value: str
    user_id: str
    channel_id: str
    ts: str


def bare_server(port: int, api_url: str, threads: int, listeners: int) -> None:
    """A Bolt app that acks every click and sends one `chat.update` to the clicked card, nothing else.

    With `listeners` 0 it keeps Bolt's own listener pool (5 threads); else it gets that many.
    """
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.runtime.server import make_server, make_wsgi

    app = App(
        client=WebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=listeners) if listeners else None,
    )

    @app.action(re.compile(".*"))
    def ack_and_update(ack, body, client):
        ack()
        container = body["container"]
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text="Updated",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Updated"}}],
        )

    server = make_server(make_wsgi(app, make_engine("sqlite://")), host="127.0.0.1", port=port, threads=threads)
    print(f"listening on http://127.0.0.1:{server.effective_port}/slack/events", file=sys.stderr, flush=True)
    server.run()


def _start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if match := re.search(r"listening on (http://\S+?)/slack/events", line):
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # never block on a full pipe
            return proc, match.group(1)
    raise SystemExit(f"server did not start: {' '.join(cmd)}\n{''.join(seen)}")


def _draft(i: int, today: date) -> HandoffDraft:
    csm, champion = f"UC{i:07d}", f"UK{i:07d}"
    return HandoffDraft(
        customer_name=f"Customer {i}",
        acv="40000.00",
        tier=2,
        contract_signed=today.isoformat(),
        target_go_live=(today + timedelta(days=49)).isoformat(),
        timezone="America/New_York",
        shared_channel_id=f"CS{i:07d}",
        internal_channel_id=f"CI{i:07d}",
        shared_channel_external=True,
        vendor={"implementation_csm": csm, "csm_manager": "U0BENCHMGR"},
        names={csm: f"CSM {i}", "U0BENCHMGR": "Manager"},
        customer=[
            Contact(role="executive_sponsor", name=f"Sponsor {i}", slack_user_id=champion),
            Contact(role="champion", name=f"Champion {i}", slack_user_id=champion),
            Contact(
                role="project_owner",
                name=f"Owner {i}",
                email=f"owner{i}@customer.example",
                has_capacity=True,
                has_authority=True,
            ),
        ],
    )


def build(services, fake: FakeSlack, n: int) -> list[list[Click]]:
    """`n` onboardings started and posted; for each, its clicks in order (Start then Mark done per milestone)."""
    now = datetime.now(UTC)
    plans = []
    for i in range(1, n + 1):
        draft = _draft(i, now.date())
        fake.add_user(draft.vendor["implementation_csm"], name=f"csm{i}")
        fake.add_user(draft.customer[1].slack_user_id or "", name=f"champion{i}", team_id=CUSTOMER_TEAM)
        members = (draft.vendor["implementation_csm"], draft.customer[1].slack_user_id or "")
        fake.add_channel(draft.shared_channel_id, name=f"customer-{i}", is_ext_shared=True, members=members)
        fake.add_channel(draft.internal_channel_id, name=f"customer-{i}-internal", members=members[:1])
        started = start_onboarding(services.engine, draft, services.playbooks, actor=members[0], now=now)
        if failures := publish.post_setup(services, started.record, actor=members[0], now=now):
            raise SystemExit(f"setting up onboarding {i} failed: {failures}")
        with session_scope(services.engine) as s:
            ob_id = started.record.onboarding.id
            card = (
                s.exec(
                    select(PostedCard).where(
                        PostedCard.onboarding_id == ob_id, PostedCard.kind == "stage", PostedCard.subject == STAGE
                    )
                )
                .scalars()
                .one()
            )
            milestones = s.exec(
                select(Milestone).where(Milestone.onboarding_id == ob_id, Milestone.stage == STAGE)
                .order_by(Milestone.position)
            ).scalars().all()  # fmt: skip
        clicks = []
        for m in milestones:
            for step, action in enumerate((Action.MILESTONE_START, Action.MILESTONE_DONE)):
                value = MilestoneRef(ob_id, m.id, m.version + step).encode()
                clicks.append(Click(action, value, members[0], card.channel_id, card.ts))
        plans.append(clicks)
    return plans


@dataclass(frozen=True)
class Run:
    acks: list[float]  # seconds from sending each click to its HTTP answer
    cards: list[float]  # seconds from sending each click to its card's chat.update reaching the fake Slack
    errors: int
    seconds: float  # from the first click sent to the last card updated


def cpu_seconds(pids: list[int]) -> float | None:
    """User and system CPU time the processes have used so far (None where /proc is not there)."""
    try:
        ticks = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    except (OSError, ValueError, IndexError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def run_clicks(fake: TimedFake, urls: list[str], plans: list[list[Click]], concurrency: int) -> Run:
    """Each worker clicks through its own onboardings' plans, `concurrency` of them at once.

    With several servers (replicas behind a load balancer), each click goes to the next one in turn,
    so one person's clicks on one card reach them all.
    """
    senders = [SlackSender(url + "/slack/events", SECRET, TEAM, new_response_url=fake.response_url) for url in urls]
    acks: list[float] = []
    cards: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(w: int, mine: list[list[Click]]) -> None:
        nonlocal errors
        turn = w
        for plan in mine:
            for c in plan:
                sender = senders[turn % len(senders)]
                turn += 1
                key = (c.channel_id, c.ts)
                before = fake.seen(key)
                sent = time.perf_counter()
                try:
                    ok = sender.block_action(c.action, user_id=c.user_id, value=c.value, channel_id=c.channel_id,
                                             message_ts=c.ts).status == 200  # fmt: skip
                except OSError:
                    ok = False
                acked = time.perf_counter()
                updated = fake.wait_update(key, before, time.monotonic() + CARD_WAIT_S) if ok else None
                with lock:
                    if not ok or updated is None:
                        errors += 1
                        continue
                    acks.append(acked - sent)
                    cards.append(updated - sent)

    shares = [plans[w::concurrency] for w in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency), shares))
    return Run(acks, cards, errors, time.perf_counter() - started)


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[q - 1] * 1000


WIDTHS = (9, 9, 10, 10)


@dataclass(frozen=True)
class Row:
    name: str
    run: Run  # the measured clicks, `--concurrency` people at once
    alone: Run  # one person clicking alone on the idle server
    cpu: float | None  # the server's CPU seconds over the measured clicks and what followed them

    @property
    def figures(self) -> tuple[float, float, float, float]:
        """ack p50, ack p99, card p50, card p99, in ms."""
        acks, cards = self.run.acks, self.run.cards
        return _pct(acks, 50), _pct(acks, 99), _pct(cards, 50), _pct(cards, 99)

    @property
    def rate(self) -> float:
        return len(self.run.cards) / self.run.seconds if self.run.seconds else float("nan")

    @property
    def cpu_per_click(self) -> float | None:
        return self.cpu / len(self.run.acks) if self.cpu is not None and self.run.acks else None


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.2f} ms"


def _times(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or not b or a != a or b != b else f"{a / b:.2f}x"


def _cards_current(services, fake: TimedFake, plans: list[list[Click]]) -> tuple[int, int]:
    """(clicked cards that show their onboarding as it stands in the store, clicked cards)."""
    keys = sorted({(c.channel_id, c.ts) for plan in plans for c in plan})
    now = services.clock.now()
    current = 0
    with session_scope(services.engine) as s:
        for channel_id, ts in keys:
            card = s.exec(select(PostedCard).where(PostedCard.channel_id == channel_id, PostedCard.ts == ts)).scalar()
            record = load(s, card.onboarding_id) if card is not None else None
            shown = next((m for m in fake.messages(channel_id) if m["ts"] == ts), None)
            if card is not None and record is not None and shown is not None:
                current += shown.get("blocks") == publish._render(services, record, card.kind, card.subject, now).blocks
    return current, len(keys)


def _applied(engine, plans: list[list[Click]]) -> tuple[int, int]:
    """(milestones the clicks finished: done, or marked done and waiting for the customer; milestones clicked)."""
    ids = {int(c.value.split(":")[2]) for plan in plans for c in plan}
    with session_scope(engine) as s:
        rows = s.exec(select(Milestone).where(Milestone.id.in_(ids))).scalars().all()  # type: ignore[attr-defined]
    finished = sum(m.status in ("done", "awaiting_confirmation") for m in rows)
    return finished, len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", "-c", type=int, default=20)
    parser.add_argument("--onboardings", type=int, default=None, help="measured onboardings (default 6 x concurrency)")
    parser.add_argument("--warmup", type=int, default=None, help="onboardings clicked first, not measured")
    parser.add_argument("--alone", type=int, default=5, help="onboardings one person clicks through alone, afterwards")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the fake Slack's delay before each answer")
    parser.add_argument("--threads", type=int, default=8, help="WSGI threads of each server (serve's default)")
    parser.add_argument("--work-threads", type=int, default=None, help="serve's --work-threads (default: serve's)")
    parser.add_argument("--turns", type=int, default=None, help="serve's --turns (default: serve's)")
    parser.add_argument(
        "--replicas", type=int, default=1, help="serve processes on the one database, taking the clicks in turn"
    )
    parser.add_argument("--reset", action="store_true", help="empty DATABASE_URL's tables first")
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--listeners", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(0, args.api_url, args.threads, args.listeners)
        return 0

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (it is migrated here; --reset empties it)")
    measured = args.onboardings or 6 * args.concurrency
    warmup = args.concurrency if args.warmup is None else args.warmup
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        if args.reset:
            for table in reversed(ALL_TABLES):
                conn.execute(delete(table))
        elif conn.execute(select(func.count()).select_from(Onboarding)).scalar():
            raise SystemExit("DATABASE_URL already holds onboardings: give an empty database, or --reset")

    with TimedFake(args.latency_ms / 1000, vendor_team_id=TEAM, bot_token=TOKEN) as fake:
        settings = Settings(
            slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=fake.url, database_url=url
        )
        services = build_services(settings, engine=engine)
        started = time.perf_counter()
        fake.latency_s = 0  # setting up is not measured
        plans = build(services, fake, warmup + measured + args.alone)
        fake.latency_s = args.latency_ms / 1000
        print(f"set up {len(plans)} onboardings in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.url,
               "DATABASE_URL": url, "ONBOARD_LOG_LEVEL": "INFO"}  # fmt: skip
        env.pop("SLACK_APP_TOKEN", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        bot_cmd = [sys.executable, "-m", "bot.runtime.cli", "serve", "--host", "127.0.0.1", "--port", "0",
                   "--threads", str(args.threads)]  # fmt: skip
        if args.work_threads:
            bot_cmd += ["--work-threads", str(args.work_threads)]
        if args.turns:
            bot_cmd += ["--turns", str(args.turns)]
        bare_cmd = [sys.executable, __file__, "--bare-server", "--api-url", fake.url, "--threads", str(args.threads)]
        wide_cmd = [*bare_cmd, "--listeners", str(LISTENER_THREADS)]
        servers = (
            ("onboard-bot serve" + (f" x {args.replicas}" if args.replicas > 1 else ""), bot_cmd, args.replicas),
            ("bare Bolt ack + chat.update", bare_cmd, 1),
            (f"  same, {LISTENER_THREADS} listener threads", wide_cmd, 1),
        )
        rows: list[Row] = []
        procs: list[subprocess.Popen] = []
        loaded, alone = plans[warmup : warmup + measured], plans[warmup + measured :]
        try:
            for name, cmd, copies in servers:
                started_here = [_start(cmd, env) for _ in range(copies)]
                procs.extend(proc for proc, _ in started_here)
                bases = [base for _, base in started_here]
                pids = [proc.pid for proc, _ in started_here]
                run_clicks(fake, bases, plans[:warmup], args.concurrency)
                fake.quiet()
                cpu_before = cpu_seconds(pids)
                run = run_clicks(fake, bases, loaded, args.concurrency)
                fake.quiet()  # the rest of each click's work (other cards, history) must not spill into the next run
                cpu_after = cpu_seconds(pids)
                by_one = run_clicks(fake, bases, alone, 1)
                fake.quiet()
                cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
                rows.append(Row(name, run, by_one, cpu))
                for proc, _ in started_here:
                    proc.terminate()
                    proc.wait(timeout=10)
                if name.startswith("onboard-bot"):
                    finished, total = _applied(engine, plans)
                    current, cards_clicked = _cards_current(services, fake, plans)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
        stale = sum("changed meanwhile" in str(c.args.get("text", "")) for c in fake.calls_to("response_url"))
    engine.dispose()

    print(
        f"{sum(map(len, loaded))} clicks on {measured} onboardings' cards, {args.concurrency} people at once, "
        f"{warmup} onboardings' clicks of warm-up; fake Slack latency {args.latency_ms:g} ms; PostgreSQL"
    )
    print(
        f"{'server':<34}{'clicks':>7}{'ack p50':>9}{'ack p99':>9}{'card p50':>10}{'card p99':>10}{'errors':>8}"
        f"{'clicks/s':>10}{'CPU/click':>11}"
    )
    for row in rows:
        print(f"{row.name:<34}{len(row.run.acks):>7}" + "".join(f"{x:>{w}.1f}" for x, w in zip(row.figures, WIDTHS, strict=True))
              + f"{row.run.errors:>8}{row.rate:>10.1f}{_ms(row.cpu_per_click):>11}")  # fmt: skip
    bot = rows[0]
    verdicts = []
    for label, bare in (("ratio bot / bare", rows[1]), ("ratio bot / same", rows[2])):
        ratios = [b / r for b, r in zip(bot.figures, bare.figures, strict=True)]
        cpu = _times(bot.cpu_per_click, bare.cpu_per_click)
        print(f"{label:<34}{'':>7}" + "".join(f"{x:>{w}.2f}" for x, w in zip(ratios, WIDTHS, strict=True))
              + f"{'':>8}{'':>10}{cpu:>11}")  # fmt: skip
        verdicts.append(bot.figures[1] < 300 and ratios[1] <= 1.5 and ratios[3] <= 2)
    print(
        f"one person clicking alone ({sum(map(len, alone))} clicks on {len(alone)} onboardings, nothing else "
        "running), p50 ms of the ack and of the card:"
    )
    for row in rows:
        ack, card = _pct(row.alone.acks, 50), _pct(row.alone.cards, 50)
        print(f"  {row.name.strip():<32}ack {ack:6.1f}   card {card:6.1f}   errors {row.alone.errors}")
    print(
        f"  the card alone takes the bot {_times(_pct(bot.alone.cards, 50), _pct(rows[1].alone.cards, 50))} "
        "the bare app's time: no load brings the card's ratio below that"
    )
    print(
        f"milestones finished by the bot's clicks: {finished}/{total}; stale answers: {stale}; "
        f"cards showing the store as it stands: {current}/{cards_clicked}"
    )
    fine = finished == total and current == cards_clicked and not any(r.alone.errors for r in rows)
    print(
        "targets (ack p99 < 300 ms and <= 1.5x bare; card p99 <= 2x bare), against the bare app as Bolt "
        f"makes it: {'met' if verdicts[0] and fine else 'MISSED'}; "
        f"against the same with the bot's listener threads: {'met' if verdicts[1] and fine else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
