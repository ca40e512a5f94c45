"""Delivering the outbox: due rows become Slack posts, each exactly once.

A run picks the due rows (store.outbox.due), checks each one's audience against its onboarding's
channels, holds back non-urgent rows that come late outside business hours (the business calendar
of the onboarding's playbook, `[rules]` business_hours_start/end and business_days, the same the
rules time their notices by; the defaults for an unknown playbook), and posts: urgent rows
on their own, the rest bundled into one digest per destination. A post's rows are claimed (`sending`)
in a committed transaction of their own before the post, and marked `sent` with the post's ts
after it (while workers run, by one writer thread that marks every post that landed meanwhile in
one transaction).

A run drains what is due in rounds: each round takes every due row of up to `limit` destinations
(never part of one destination's rows, so nobody's day is split into two digests), and delivers
to different destinations concurrently, at most `in_flight` calls at a time. The posts to one
destination go one after the other, a second apart; a rate limit Slack reports (429 and
Retry-After) is kept in state shared by every worker of the run, per method and channel, so all
of them wait it out, not only the one that hit it.

chat.postMessage has no idempotency key, so this module owns every retry of a post: its client
has no retry handlers, a 429 is waited out here (Retry-After, through the injected clock), and a
5xx or a dropped connection leaves the row `retry` with a backoff. A row that may already be in
Slack (taken before, or abandoned mid-send) is first looked for in the channel's recent history,
by the dedupe keys every post carries in its message metadata. A permanent error fails the rows
and raises one alert in the onboarding's internal channel per broken destination and day.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.calendar import BusinessHours, today_in
from bot.core.clock import Clock, ShiftedClock, SystemClock
from bot.core.domain import Role, Side
from bot.core.notices import DELIVERY_FAILED, Audience
from bot.planning.settings import DEFAULTS
from bot.slack.client import without_retries
from messages.automated_posts import Message
from messages.automated_posts import render as render_rows
from messages.templates import SHIPPED_TEMPLATES
from store import audit, outbox
from store.db import session_scope
from store.models import Notification, Onboarding, Person

if TYPE_CHECKING:
    from bot.planning.playbook import Playbook

log = logging.getLogger("onboard_bot.delivery")

EVENT_TYPE = "onboard_notice"
CLAIM_HOLD = timedelta(minutes=10)  # a `sending` row older than this was abandoned by a dead deliverer
MAX_ATTEMPTS = 6
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
)
RATE_LIMIT_TRIES = 3
LONGEST_RATE_LIMIT_WAIT = 60.0  # seconds; a longer Retry-After puts the rows back rather than waiting
CHANNEL_GAP = 1.0  # Slack's one message per second per channel
DEFAULT_IN_FLIGHT = 16  # Web API calls at once (ONBOARD_DELIVERY_IN_FLIGHT)
MAX_IN_FLIGHT = 16  # with the writer and the sweep (two while it reads), within the PostgreSQL pool (10 + 10)
DESTINATIONS_PER_ROUND = 2000
MAX_ROUNDS = 1000
HISTORY_PAGES = 3
LATE = timedelta(hours=1)
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)


class Outlet(Protocol):
    """Where delivery happens: bot.runtime.services.Services fits."""

    @property
    def engine(self) -> Engine: ...
    @property
    def client(self) -> WebClient: ...
    @property
    def bot_user_id(self) -> str: ...
    @property
    def playbooks(self) -> Mapping[str, Playbook]: ...


Render = Callable[[Sequence[Notification]], Message]


@dataclass(frozen=True)
class Post:
    channel: str
    ts: str
    keys: tuple[str, ...]
    at: datetime


@dataclass
class DeliveryReport:
    posts: list[Post] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # keys posted in this run
    recovered: list[str] = field(default_factory=list)  # keys found already in Slack, marked sent
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    waited: list[float] = field(default_factory=list)  # seconds slept for rate limits and pacing
    rate_limited: int = 0  # 429s received

    def summary(self) -> str:
        return (
            f"{len(self.posts)} post(s) carrying {len(self.sent)} notice(s); {len(self.recovered)} found "
            f"already posted, {len(self.retrying)} to retry, {len(self.failed)} failed, "
            f"{len(self.postponed)} held for business hours"
        )


@dataclass(frozen=True)
class _Landed:
    """A post Slack took (or one found already there), whose rows are still to be marked sent."""

    rows: list[Notification]
    channel: str
    ts: str
    posted: bool
    at: datetime


class _SentWriter:
    """Marks posted rows sent from one thread, every post that landed meanwhile in one transaction.

    With many posts in flight this is one commit for several posts instead of one each. A row
    whose post landed but whose mark did not (the process died between) is still `sending`, and
    is found in the channel's history when it comes due again, as after any crash mid-send.
    """

    def __init__(self, write: Callable[[Sequence[_Landed]], None]) -> None:
        self._write = write
        self._waiting: list[_Landed] = []
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="deliver-writer", daemon=True)
        self._thread.start()

    def put(self, outcome: _Landed) -> None:
        with self._cond:
            self._waiting.append(outcome)
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting or self._closed)
                batch, self._waiting = self._waiting, []
                if not batch and self._closed:
                    return
            try:
                self._write(batch)
            except Exception:
                log.exception("could not mark %d post(s) sent; they are looked for in Slack when due again", len(batch))

    def close(self) -> None:
        """Write what is waiting and stop."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()


class _Transient(Exception):
    """The call may or may not have taken effect; try again later."""


class _Permanent(Exception):
    """Slack refused it for good."""


class _RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.0f}s")
        self.wait = wait


def bare_client(client: WebClient) -> WebClient:
    """The same connection settings without retry handlers: a blind retry of a post can post twice."""
    return without_retries(client)


def deliver_due(
    outlet: Outlet,
    now: datetime | None = None,
    *,
    clock: Clock | None = None,
    render: Render | None = None,
    limit: int = DESTINATIONS_PER_ROUND,
    in_flight: int = DEFAULT_IN_FLIGHT,
    stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Post everything due at `now` (default: the clock's now), in rounds of up to `limit` destinations.

    Later rounds look at the clock again, so what fell due while the run went on (the alert about
    a post that failed, a row whose short backoff ran out) goes out in the same run. `stop` is
    asked between posts; once it says so, no new post starts. Waits and pacing go through `clock`.
    """
    clock = clock or (ShiftedClock(now) if now else SystemClock())
    now = now or clock.now()
    if render is None:
        # the team's templates where the outlet has them (Services does), the shipped ones otherwise
        templates = getattr(outlet, "templates", SHIPPED_TEMPLATES)
        render = partial(render_rows, templates=templates)
    run = _Run(outlet, clock, render, now, in_flight=in_flight, stop=stop or (lambda: False))
    previous: set[int] | None = None
    for _ in range(MAX_ROUNDS):
        ids = run.round(limit)
        if not ids or ids == previous or run.stopping():
            break  # nothing due, or nothing moved (rows another deliverer holds)
        previous = ids
        run.now = max(run.now, clock.now())
    return run.report


class RateLimits:
    """When each Web API limit next lets a call through, shared by every worker of a run.

    A key is (method, channel) for the posting methods, which Slack limits per channel, and
    (method, "") for the rest, limited per workspace. A 429's Retry-After closes the key for
    everyone; a post closes its channel for CHANNEL_GAP after it returned.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._open_at: dict[tuple[str, str], datetime] = {}

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds until `key` is open (0 when it is)."""
        with self._lock:
            at = self._open_at.get(key)
        return max((at - self.clock.now()).total_seconds(), 0.0) if at else 0.0

    def open_at(self, key: tuple[str, str]) -> datetime:
        with self._lock:
            return self._open_at.get(key) or self.clock.now()

    def close_for(self, key: tuple[str, str], seconds: float) -> None:
        at = self.clock.now() + timedelta(seconds=seconds)
        with self._lock:
            if at > self._open_at.get(key, at - timedelta(seconds=1)):
                self._open_at[key] = at


def _limit_key(method: str, channel: str) -> tuple[str, str]:
    return (method, channel) if method.startswith("chat.") else (method, "")


POST = "chat.postMessage"


class _Run:
    def __init__(
        self,
        outlet: Outlet,
        clock: Clock,
        render: Render,
        now: datetime,
        *,
        in_flight: int = DEFAULT_IN_FLIGHT,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.engine, self.bot_user_id, self.playbooks = outlet.engine, outlet.bot_user_id, outlet.playbooks
        self.client = bare_client(outlet.client)
        self.clock, self.render, self.now = clock, render, now
        self.in_flight = max(1, min(in_flight, MAX_IN_FLIGHT))
        self.stop = stop
        self.report = DeliveryReport()
        self.limits = RateLimits(clock)
        self.onboardings: dict[int, Onboarding] = {}
        self.customers: set[tuple[int, str]] = set()
        self.csms: dict[int, str] = {}
        self._crash: BaseException | None = None
        self.writer: _SentWriter | None = None

    def stopping(self) -> bool:
        return self._crash is not None or self.stop()

    # -- one pass over the due rows --------------------------------------------------------------
    def round(self, limit: int) -> set[int]:
        """Deliver every due row of up to `limit` destinations; returns the ids of the rows it found due."""
        with session_scope(self.engine) as session:
            rows = outbox.due_by_destination(session, self.now, destinations=limit)
            self._load_onboardings(session, {r.onboarding_id for r in rows if r.onboarding_id})
        urgent: dict[str, list[list[Notification]]] = {}
        bundles: dict[str, list[Notification]] = {}
        for row in rows:
            onboarding = self.onboardings.get(row.onboarding_id or 0)
            problem = self._audience_problem(row, onboarding)
            if problem:
                log.error("notice %s refused: %s", row.dedupe_key, problem)
                self._fail([row], "audience", detail=problem)
                continue
            later = self._held_until(row, onboarding)
            if later:
                with session_scope(self.engine) as session:
                    if outbox.postpone(session, row, until=later):
                        self.report.postponed.append(row.dedupe_key)
                continue
            if row.urgent:
                urgent.setdefault(self._destination(row), []).append([row])
            else:
                bundles.setdefault(self._destination(row), []).append(row)
        lanes: dict[str, deque[list[Notification]]] = {}
        for where in [*urgent, *bundles]:
            lanes[where] = deque([*urgent.get(where, []), *([bundles[where]] if where in bundles else [])])
        self._drive(lanes)
        return {r.id for r in rows if r.id is not None}

    def _drive(self, lanes: dict[str, deque[list[Notification]]]) -> None:
        """Post every lane's batches in order, one lane per worker at a time, `in_flight` workers.

        A lane goes back in line after each post, due when its channel opens again; the lanes with
        urgent posts, then the longest, start first, so their later posts are due while the rest go.
        """
        sequence = itertools.count()
        ready: list[tuple[datetime, int, int, str]] = []
        start = self.clock.now()
        for rank, where in enumerate(sorted(lanes, key=lambda w: (not lanes[w][0][0].urgent, -len(lanes[w])))):
            ready.append((start, rank, next(sequence), where))
        heapq.heapify(ready)
        state = threading.Condition()
        busy = 0

        def work() -> None:
            nonlocal busy
            while True:
                with state:
                    while not ready and busy and not self.stopping():
                        state.wait()
                    if not ready or self.stopping():
                        return
                    _, rank, _, where = heapq.heappop(ready)
                    busy += 1
                lane = lanes[where]
                try:
                    self._deliver(lane.popleft())
                except Exception:
                    log.exception("delivery to %s broke off", where)
                except BaseException as exc:  # the process is going down: no new post starts
                    self._crash = self._crash or exc
                finally:
                    with state:
                        busy -= 1
                        if lane:
                            opens = self.limits.open_at(_limit_key(POST, where))
                            heapq.heappush(ready, (opens, rank, next(sequence), where))
                        state.notify_all()

        if self.in_flight == 1 or len(lanes) == 1:
            work()
        else:
            self.writer = _SentWriter(self._write_sent)
            workers = [
                threading.Thread(target=work, name=f"deliver-{i}", daemon=True)
                for i in range(min(self.in_flight, len(lanes)))
            ]
            try:
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            finally:
                self.writer.close()
                self.writer = None
        if self._crash is not None:
            raise self._crash

    def _load_onboardings(self, session, ids: set[int]) -> None:
        wanted = ids - self.onboardings.keys()
        if not wanted:
            return
        for ob in session.exec(select(Onboarding).where(col(Onboarding.id).in_(wanted))):
            self.onboardings[ob.id] = ob
        people = session.exec(select(Person).where(col(Person.onboarding_id).in_(wanted)))
        for person in people:
            if not person.slack_user_id:
                continue
            if person.side == Side.CUSTOMER:
                self.customers.add((person.onboarding_id, person.slack_user_id))
            elif person.role == Role.IMPLEMENTATION_CSM:
                self.csms[person.onboarding_id] = person.slack_user_id

    @staticmethod
    def _destination(row: Notification) -> str:
        return row.channel_id or row.recipient

    def _audience_problem(self, row: Notification, ob: Onboarding | None) -> str | None:
        """Why this row may not go where it is addressed, or None when it may."""
        if ob is None:
            return "its onboarding is gone"
        where = self._destination(row)
        if row.audience == Audience.SHARED:
            return (
                None
                if ob.shared_channel_id and where == ob.shared_channel_id
                else f"shared notice addressed to {where}, not the shared channel"
            )
        if row.audience == Audience.INTERNAL:
            return (
                None
                if ob.internal_channel_id and where == ob.internal_channel_id
                else f"internal notice addressed to {where}, not the internal channel"
            )
        if row.audience == Audience.DM:
            if where in (ob.shared_channel_id, ob.internal_channel_id) or where[:1] in ("C", "G"):
                return f"direct message addressed to channel {where}"
            if (ob.id, row.recipient) in self.customers:
                return "direct message addressed to someone on the customer's side"
            return None
        if row.audience == Audience.CUSTOMER_DM:
            if where[:1] in ("C", "G", "D") or (ob.id, row.recipient) not in self.customers:
                return f"customer's direct message addressed to {where}, not one of this customer's people"
            return None
        return f"unknown audience {row.audience!r}"

    def _held_until(self, row: Notification, ob: Onboarding | None) -> datetime | None:
        """A non-urgent row more than LATE past its moment and outside business hours waits for the next morning."""
        if row.urgent or ob is None or (row.not_before and self.now - row.not_before <= LATE):
            return None
        hours = self._hours_of(ob)
        try:
            if hours.is_open(self.now, ob.timezone):
                return None
            return hours.next_opening(self.now, ob.timezone)
        except (ValueError, KeyError):  # an unknown timezone must not stop the post
            return None

    def _hours_of(self, ob: Onboarding) -> BusinessHours:
        """The business calendar of the onboarding's playbook; the default one for an unknown playbook."""
        playbook = self.playbooks.get(ob.playbook_key)
        return (playbook.rules if playbook is not None else DEFAULTS).business_hours

    # -- one post ---------------------------------------------------------------------------------
    def _deliver(self, batch: list[Notification]) -> None:
        where = self._destination(batch[0])
        earlier = {row.id: row.attempts for row in batch}
        with session_scope(self.engine) as session:
            taken = outbox.take_all(session, batch, now=self.clock.now(), hold=CLAIM_HOLD)
        if not taken:
            return
        seen_before = any(earlier[row.id] > 0 for row in taken)
        try:
            if seen_before:
                taken = self._skip_already_posted(taken, where)
                if not taken:
                    return
            message, taken = self._render(taken)
            if message is None:
                return
            response = self._post(where, message, taken)
        except _RateLimited as limited:
            later = self.clock.now() + timedelta(seconds=limited.wait)
            self._retry(taken, f"ratelimited ({limited.wait:.0f}s)", at=later)
        except _Transient as exc:
            self._retry_or_fail(taken, str(exc))
        except _Permanent as exc:
            self._fail(taken, str(exc))
        else:
            self._sent(taken, channel=response.get("channel") or where, ts=response["ts"], posted=True)

    def _render(self, rows: list[Notification]) -> tuple[Message | None, list[Notification]]:
        """The message for these rows; a row that cannot be rendered fails alone, the rest still go."""
        try:
            return self.render(rows), rows
        except Exception as exc:
            problem = exc
        good = []
        for row in rows:
            try:
                self.render([row])
                good.append(row)
            except Exception as exc:
                log.error("cannot render %s: %s", row.dedupe_key, exc)
                self._fail([row], "render_failed", detail=f"{type(exc).__name__}: {exc}")
        if good and len(good) < len(rows):
            try:
                return self.render(good), good
            except Exception as exc:
                problem = exc
        if good:
            log.error("cannot render %s together: %s", [r.dedupe_key for r in good], problem)
            self._fail(good, "render_failed", detail=f"{type(problem).__name__}: {problem}")
        return None, []

    def _post(self, where: str, message: Message, rows: Sequence[Notification]) -> SlackResponse:
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"dedupe_keys": [r.dedupe_key for r in rows]}}
        try:
            return self._call(
                self.client.chat_postMessage,
                _limit_key(POST, where),
                channel=where,
                text=message.text,
                blocks=message.blocks,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        finally:
            self.limits.close_for(_limit_key(POST, where), CHANNEL_GAP)

    def _wait_turn(self, key: tuple[str, str]) -> None:
        """Sleep until `key` is open; again if someone else's 429 closed it meanwhile."""
        while (wait := self.limits.wait(key)) > 0:
            if wait > LONGEST_RATE_LIMIT_WAIT:
                raise _RateLimited(wait)
            self.report.waited.append(wait)
            self.clock.sleep(wait)

    def _call(self, method: Callable[..., SlackResponse], key: tuple[str, str], **kwargs: Any) -> SlackResponse:
        """One Web API call, waiting out 429s (its own and those of others sharing the limit).

        Raises _RateLimited, _Transient or _Permanent.
        """
        for attempt in range(RATE_LIMIT_TRIES):
            self._wait_turn(key)
            try:
                return method(**kwargs)
            except SlackApiError as exc:
                status, error = exc.response.status_code, exc.response.get("error") or ""
                if status == 429 or error == "ratelimited":
                    wait = _retry_after(exc.response)
                    self.report.rate_limited += 1
                    self.limits.close_for(key, wait)
                    if wait > LONGEST_RATE_LIMIT_WAIT or attempt == RATE_LIMIT_TRIES - 1:
                        raise _RateLimited(wait) from None
                    log.info("rate limited on %s; waiting %.0fs as Slack asks", key, wait)
                    continue
                if status >= 500 or error in TRANSIENT_ERRORS:
                    raise _Transient(error or f"http_{status}") from None
                raise _Permanent(error or f"http_{status}") from None
            except (OSError, http.client.HTTPException, SlackClientError) as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from None
        raise AssertionError("unreachable")

    # -- finding a post that already landed -----------------------------------------------------
    def _skip_already_posted(self, rows: list[Notification], where: str) -> list[Notification]:
        """Mark sent the rows whose post is already in the channel; return the rest."""
        channel = self._history_channel(rows[0], where)
        try:
            found = self._posted_keys(channel, {r.dedupe_key for r in rows}, min(r.created_at for r in rows))
        except _Permanent as exc:
            # Nothing to look in (no history scope for DMs, say): posting again is the lesser harm.
            log.warning("cannot check %s for earlier posts (%s); posting", channel, exc)
            return rows
        by_ts: dict[str, list[Notification]] = {}
        for row in rows:
            if row.dedupe_key in found:
                by_ts.setdefault(found[row.dedupe_key], []).append(row)
        for ts, landed in by_ts.items():
            self._sent(landed, channel=channel, ts=ts, posted=False)
        return [r for r in rows if r.dedupe_key not in found]

    def _history_channel(self, row: Notification, where: str) -> str:
        if row.audience != Audience.DM or row.channel_id:
            return where
        with session_scope(self.engine) as session:
            known = outbox.dm_channel_of(session, row.recipient)
        if known:
            return known
        try:
            opened = self.client.conversations_open(users=row.recipient)
            return opened["channel"]["id"]
        except (SlackApiError, OSError, http.client.HTTPException, SlackClientError, KeyError, TypeError):
            return where

    def _posted_keys(self, channel: str, keys: set[str], since: datetime) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor: str | None = None
        horizon = (since - LATE).timestamp()
        for _ in range(HISTORY_PAGES):
            page = self._call(
                self.client.conversations_history,
                _limit_key("conversations.history", channel),
                channel=channel,
                limit=100,
                include_all_metadata=True,
                cursor=cursor,
            )
            messages = page.get("messages") or []
            for message in messages:
                if self.bot_user_id and message.get("user") not in (None, self.bot_user_id):
                    continue
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") != EVENT_TYPE:
                    continue
                for key in (metadata.get("event_payload") or {}).get("dedupe_keys") or []:
                    if key in keys:
                        found.setdefault(key, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            oldest = min((float(m["ts"]) for m in messages), default=0.0)
            if found.keys() >= keys or not cursor or oldest < horizon:
                break
        return found

    # -- outcomes ---------------------------------------------------------------------------------
    def _sent(self, rows: Sequence[Notification], *, channel: str, ts: str, posted: bool) -> None:
        """Mark the rows of one post sent: through the run's writer while workers run, else at once."""
        outcome = _Landed(list(rows), channel, ts, posted, self.clock.now())
        if self.writer is not None:
            self.writer.put(outcome)
        else:
            self._write_sent([outcome])

    def _write_sent(self, outcomes: Sequence[_Landed]) -> None:
        """Mark sent and audit the rows of these posts, in one transaction of three statements."""
        landed = [(row, o.ts, o.channel, o.at) for o in outcomes for row in o.rows]
        posted = {id(row): o.posted for o in outcomes for row in o.rows}
        with session_scope(self.engine) as session:
            marked = outbox.mark_many_sent(session, landed)
            audit.record_many(
                session,
                [
                    {
                        "onboarding_id": row.onboarding_id,
                        "entity": "notification",
                        "entity_id": row.id,
                        "action": "notice_sent" if posted[id(row)] else "notice_found_posted",
                        "actor": audit.SYSTEM,
                        "field": row.channel_id,
                        "new": row.ts,
                        "reason": (row.payload or {}).get("why") or None,
                        "at": row.sent_at,
                    }
                    for row in marked
                ],
            )
        done = {id(row) for row in marked}
        for o in outcomes:
            keys = [row.dedupe_key for row in o.rows if id(row) in done]
            (self.report.sent if o.posted else self.report.recovered).extend(keys)
            if o.posted:
                self.report.posts.append(Post(o.channel, o.ts, tuple(r.dedupe_key for r in o.rows), o.at))

    def _retry(self, rows: Sequence[Notification], error: str, *, at: datetime) -> None:
        with session_scope(self.engine) as session:
            for row in rows:
                if outbox.mark_retry(session, row, at=at, error=error):
                    self.report.retrying.append(row.dedupe_key)

    def _retry_or_fail(self, rows: Sequence[Notification], error: str) -> None:
        for row in rows:
            if row.attempts < MAX_ATTEMPTS:
                backoff = BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
                self._retry([row], error, at=self.clock.now() + backoff)
        spent = [r for r in rows if r.attempts >= MAX_ATTEMPTS]
        if spent:
            self._fail(spent, error, detail=f"gave up after {MAX_ATTEMPTS} attempts")

    def _fail(self, rows: Sequence[Notification], error: str, *, detail: str = "") -> None:
        at = self.clock.now()
        failed = []
        with session_scope(self.engine) as session:
            for row in rows:
                if outbox.mark_failed(session, row, error=f"{error}: {detail}" if detail else error):
                    failed.append(row)
                    audit.record(
                        session,
                        onboarding_id=row.onboarding_id,
                        entity="notification",
                        entity_id=row.id,
                        action="notice_failed",
                        actor=audit.SYSTEM,
                        field=self._destination(row),
                        new=error,
                        reason=detail or None,
                        at=at,
                    )
            by_onboarding: dict[int, list[Notification]] = {}
            for row in failed:
                by_onboarding.setdefault(row.onboarding_id or 0, []).append(row)
            for onboarding_id, theirs in by_onboarding.items():
                self._raise_alert(session, theirs, error, self.onboardings.get(onboarding_id))
        self.report.failed.extend(r.dedupe_key for r in failed)

    def _raise_alert(self, session, rows: Sequence[Notification], error: str, ob: Onboarding | None) -> None:
        """Tell the onboarding's internal channel, once per broken destination and day."""
        where = self._destination(rows[0])
        if ob is None or not ob.internal_channel_id or where == ob.internal_channel_id:
            return  # the internal channel itself refused: the rows stay failed, listed in the App Home
        if any(r.rule == DELIVERY_FAILED for r in rows):
            return
        try:
            day = today_in(ob.timezone, self.now).isoformat()
        except (ValueError, KeyError):
            day = self.now.date().isoformat()
        csm = self.csms.get(ob.id)
        facts = {"channel": where, "error": error, "count": len(rows), "customer_name": ob.customer_name}
        if csm:
            facts["csm"] = f"<@{csm}>"
        alert = {
            "dedupe_key": f"{ob.id}:{DELIVERY_FAILED}:{where}:{ob.internal_channel_id}:{day}",
            "onboarding_id": ob.id,
            "rule": DELIVERY_FAILED,
            "subject": where[:64],
            "recipient": ob.internal_channel_id,
            "channel_id": ob.internal_channel_id,
            "audience": Audience.INTERNAL.value,
            "urgent": True,
            "payload": {"why": f"{len(rows)} post(s) to {where} failed: {error}", "period": day, "facts": facts},
            "not_before": self.now,
            "next_attempt_at": self.now,
        }
        outbox.insert_new(session, [alert])


def _retry_after(response: SlackResponse) -> float:
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    raw = headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return max(float(raw), 0.0)  # type: ignore[arg-type]  # a missing or odd header is caught below
    except (TypeError, ValueError):
        return 1.0
