"""The sandbox: the fake Slack with the sample workspace, the real bot in HTTP mode beside it, and
what a Slack client would show each person (their open modals, the ephemeral answers only they see).

People act through `command`, `say`, `click`, `submit`, `close` and `open_home`: each becomes one
signed request to the bot's `POST /slack/events`, as Slack would send it, and the bot answers
through the fake's Web API. The clock is the bot's own (`Services.clock`); `advance` moves it and
runs the scheduler's sweep and delivery at each business morning on the way.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import itertools
import json
import logging
import secrets
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import Any

from bot.core.calendar import is_business_day, zone_of
from bot.demo import world
from bot.demo.requests import Reply, SlackRequests
from bot.fake_slack import Call, FakeSlack
from bot.runtime.services import Services

log = logging.getLogger("onboard_bot.demo")

MORNING = clock_time(9, 0)
START_TIME = clock_time(10, 0)


class SandboxClock:
    """The bot's clock in the sandbox: it runs like a watch from a chosen start, jumps forward when
    told to, and never waits when asked to sleep (a pause between two posts is simply skipped)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0, self._skipped = start, time.monotonic(), 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=time.monotonic() - self._t0 + self._skipped)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._skipped += max(0.0, seconds)

    def move_to(self, moment: datetime) -> None:
        """Jump forward to `moment` (never back: Slack's timestamps only grow)."""
        ahead = (moment - self.now()).total_seconds()
        if ahead > 0:
            self.sleep(ahead)

    def timestamp(self) -> float:
        return self.now().timestamp()


def first_moment(real_now: datetime, tz: str = world.CUSTOMER_TZ) -> datetime:
    """Where the sandbox's time starts: 10:00 in the customer's timezone on the next business day."""
    zone = zone_of(tz)
    day = real_now.astimezone(zone).date() + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, START_TIME, zone).astimezone(UTC)


def business_mornings(after: datetime, until: datetime, tz: str = world.CUSTOMER_TZ) -> list[datetime]:
    """09:00 in `tz` on every business day in (after, until]."""
    zone = zone_of(tz)
    day: date = after.astimezone(zone).date()
    found: list[datetime] = []
    while True:
        moment = datetime.combine(day, MORNING, zone).astimezone(UTC)
        if moment > until:
            return found
        if moment > after and is_business_day(day):
            found.append(moment)
        day += timedelta(days=1)


class _Listeners(ThreadPoolExecutor):
    """Bolt's listener pool, able to say when all the work it was given has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="demo-listener")
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

    def wait_idle(self, timeout: float = 15.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)


@dataclasses.dataclass
class Modal:
    view_id: str
    override: dict[str, Any] | None = None  # content Slack took from a `response_action: update`
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


class Sandbox:
    """One sandbox workspace with the bot running against it. `start()`, act, `stop()`."""

    def __init__(self, *, start: datetime | None = None, playbook: str | None = None) -> None:
        self.clock = SandboxClock(start or first_moment(datetime.now(UTC)))
        self.playbook = playbook
        self.fake = FakeSlack(vendor_team_id=world.VENDOR_TEAM, bot_token="xoxb-sandbox-" + secrets.token_hex(8))
        self.fake.ts_clock = self.clock.timestamp
        self.signing_secret = secrets.token_hex(16)
        self.usage_token = secrets.token_hex(16)  # the sample product reports usage with it
        self.usage_url = ""
        self.calls: list[Call] = []  # every Web API call the bot made, in order
        self.modals: dict[str, list[Modal]] = {}  # user id -> their stack of open views
        self.ephemerals: dict[str, list[dict[str, Any]]] = {}  # user id -> what only they saw
        self.sweeps: list[str] = []
        self._triggers: dict[str, str] = {}  # trigger id -> the person it was issued to
        self._response_urls: dict[str, dict[str, Any]] = {}  # key -> {user, channel, ephemeral}
        self._seq = itertools.count(1)
        self._changed = threading.Condition()
        self._lock = threading.RLock()  # modals and ephemerals change on the fake's threads too
        self.version = 0
        self._tmp: Path | None = None
        self._stoppers: list[Any] = []
        self.services: Services | None = None
        self.requests: SlackRequests | None = None
        self._listeners: _Listeners | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        from bot.runtime.app import build_services, create_app
        from bot.runtime.config import Settings
        from bot.runtime.server import EVENTS_PATH, make_server, make_wsgi
        from bot.runtime.usage_api import usage_front
        from store.db import make_engine
        from store.migrate import upgrade

        try:
            self.fake.start()
            self._stoppers.append(self.fake.stop)
            self._populate()
            self.fake.add_listener(self._on_call)
            self._tmp = Path(tempfile.mkdtemp(prefix="onboard-demo-"))
            self._stoppers.append(partial(shutil.rmtree, self._tmp, ignore_errors=True))
            settings = Settings(
                slack_bot_token=self.fake.bot_token,
                slack_signing_secret=self.signing_secret,
                slack_app_token=None,
                slack_api_url=self.fake.url,
                database_url=f"sqlite:///{self._tmp / 'sandbox.db'}",
                default_timezone=world.CUSTOMER_TZ,
                playbooks_dir=None,
                usage_token=self.usage_token,
            )
            engine = make_engine(settings.database_url)
            self._stoppers.append(engine.dispose)
            upgrade(engine)
            self.services = dataclasses.replace(build_services(settings, engine=engine), clock=self.clock)
            self._listeners = _Listeners()
            self._stoppers.append(partial(self._listeners.shutdown, wait=True))
            app = create_app(self.services, listener_executor=self._listeners)
            front = make_wsgi(app, engine, usage_front(self.services))
            server = make_server(front, host="127.0.0.1", port=0, threads=4)
            self.usage_url = f"http://127.0.0.1:{server.effective_port}/api/usage"
            stopping = threading.Event()
            thread = threading.Thread(target=_serve_until, args=(server, stopping), name="demo-bot", daemon=True)
            thread.start()
            self._stoppers.append(partial(_close_server, server, thread, stopping))
            self.requests = SlackRequests(
                f"http://127.0.0.1:{server.effective_port}{EVENTS_PATH}", self.signing_secret, world.VENDOR_TEAM
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything `start` started, last first."""
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception:
                log.exception("while stopping the sandbox")

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _populate(self) -> None:
        for p in world.PEOPLE:
            self.fake.add_user(
                p.id, name=p.name, real_name=p.real_name, team_id=p.team, email=p.email, tz=world.CUSTOMER_TZ
            )
        for c in world.CHANNELS:
            self.fake.add_channel(c["id"], name=c["name"], is_ext_shared=c["shared"], members=c["members"])

    # -- what changed ------------------------------------------------------------------------
    def _touch(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    def wait_change(self, after: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.version != after, timeout=timeout)
            return self.version

    def settle(self) -> None:
        """Wait until the bot has finished what it does after its acks."""
        if self._listeners is not None and not self._listeners.wait_idle():
            log.warning("the bot is still working after 15 s")

    def _on_call(self, call: Call) -> None:
        """What Slack's clients would show after one of the bot's Web API calls."""
        with self._lock:
            self._show(call)
        self._touch()

    def _show(self, call: Call) -> None:
        self.calls.append(call)
        args, ok = call.args, call.ok
        if call.method in ("views.open", "views.push") and ok:
            trigger = str(args.get("trigger_id") or args.get("interactivity_pointer") or "")
            user = self._triggers.get(trigger)
            if user:
                stack = self.modals.setdefault(user, [])
                if call.method == "views.open":
                    stack.clear()
                stack.append(Modal(call.response["view"]["id"]))
        elif call.method == "views.update" and ok:
            view_id = call.response["view"]["id"]
            for stack in self.modals.values():
                for modal in stack:
                    if modal.view_id == view_id:
                        modal.override, modal.errors = None, {}
        elif call.method == "chat.postEphemeral" and ok:
            self._add_ephemeral(str(args.get("user")), str(args.get("channel")), args)
        elif call.method == "response_url":
            self.on_response_url(call.target, args)

    def _add_ephemeral(self, user: str, channel: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._ephemeral(user, channel, body)

    def _ephemeral(self, user: str, channel: str, body: dict[str, Any]) -> None:
        self.ephemerals.setdefault(user, []).append(
            {
                "id": f"E{next(self._seq)}",
                "channel": channel,
                "ts": f"{self.clock.timestamp():.6f}",
                "text": body.get("text") or "",
                "blocks": body.get("blocks") or [],
            }
        )

    def on_response_url(self, key: str, body: dict[str, Any]) -> None:
        """A post the bot made to a response_url this sandbox handed out (Slack shows ephemerals to one person)."""
        target = self._response_urls.get(key)
        if target is None:
            return
        user, channel, ephemeral = target["user"], target["channel"], target.get("ephemeral")
        replace = str(body.get("replace_original")).lower() == "true"
        delete = str(body.get("delete_original")).lower() == "true"
        if ephemeral and (replace or delete):
            items = self.ephemerals.get(user, [])
            for i, item in enumerate(items):
                if item["id"] == ephemeral:
                    if delete:
                        items.pop(i)
                    else:
                        items[i] = {**item, "text": body.get("text") or "", "blocks": body.get("blocks") or []}
            self._touch()
        elif body.get("response_type") != "in_channel" and not replace and not delete:
            self._add_ephemeral(user, channel, body)
            self._touch()

    # -- helpers -----------------------------------------------------------------------------
    def _trigger(self, user: str) -> str:
        trigger = self.fake.new_trigger_id()
        self._triggers[trigger] = user
        return trigger

    def _response_url(self, user: str, channel: str, ts: str | None, ephemeral: str | None = None) -> str:
        url = self.fake.response_url(channel, ts)
        key = url.rstrip("/").rpartition("/")[2]
        self._response_urls[key] = {"user": user, "channel": channel, "ephemeral": ephemeral}
        return url

    def _who(self, user: str) -> world.Person:
        person = world.BY_ID.get(user)
        if person is None:
            raise ValueError(f"no such person in the sandbox: {user}")
        return person

    def _req(self) -> SlackRequests:
        if self.requests is None:
            raise RuntimeError("the sandbox is not started")
        return self.requests

    def channel_name(self, channel: str) -> str:
        return str(self.fake.channels.get(channel, {}).get("name") or channel)

    # -- what people do ----------------------------------------------------------------------
    def report_usage(self, records: list[dict[str, Any]]) -> int:
        """Send a usage report to the bot as the vendor's product would: `POST /api/usage`, with the token."""
        body = json.dumps({"records": records}).encode()
        request = urllib.request.Request(
            self.usage_url,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.usage_token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            log.warning("the usage report was refused (%s): %s", exc.code, exc.read()[:500])
            return int(exc.code)

    def command(self, user: str, channel: str, text: str) -> Reply:
        """`/onboard <text>` typed by `user` in `channel`."""
        p = self._who(user)
        reply = self._req().command(
            text,
            user_id=p.id,
            user_name=p.name,
            team_id=p.team,
            channel_id=channel,
            channel_name=self.channel_name(channel),
            trigger_id=self._trigger(p.id),
            response_url=self._response_url(p.id, channel, None),
        )
        body = reply.json
        if reply.status == 200 and (body.get("text") or body.get("blocks")):
            self._add_ephemeral(p.id, channel, body)
        elif reply.status == 200 and reply.text and not body:
            self._add_ephemeral(p.id, channel, {"text": reply.text})
        self.settle()
        self._touch()
        return reply

    def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> Reply:
        """A plain message from `user`: it lands in the channel and the bot hears the `message` event."""
        p = self._who(user)
        message = self.fake.add_message(channel, user=p.id, text=text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel": channel,
            "user": p.id,
            "text": text,
            "ts": message["ts"],
            "channel_type": "im" if channel.startswith("D") else "channel",
            "event_ts": message["ts"],
            "team": p.team,
            "user_team": p.team,
            "source_team": p.team,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        reply = self._req().event(event, team_id=world.VENDOR_TEAM, bot_user_id=self.fake.bot_user_id)
        self.settle()
        self._touch()
        return reply

    def find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.fake.messages(channel) if m["ts"] == ts), None)

    def click(
        self,
        user: str,
        action: dict[str, Any],
        *,
        channel: str | None = None,
        ts: str | None = None,
        ephemeral: str | None = None,
        view_id: str | None = None,
    ) -> Reply:
        """A click (or a choice) on an element of a message, an ephemeral answer, a modal or the App Home."""
        p = self._who(user)
        req = self._req()
        common = {"user_id": p.id, "user_name": p.name, "team_id": p.team, "trigger_id": self._trigger(p.id)}
        if view_id is not None:
            view = self.view_of(user, view_id) or self.fake.view(view_id)
            if view is None:
                raise ValueError(f"no such view: {view_id}")
            reply = req.block_action(action, view=view, **common)  # type: ignore[arg-type]
        elif ephemeral is not None:
            item = next((e for e in self.ephemerals.get(p.id, []) if e["id"] == ephemeral), None)
            if item is None or channel is None:
                raise ValueError(f"no such ephemeral message: {ephemeral}")
            message = {"type": "message", "ts": item["ts"], "text": item["text"], "blocks": item["blocks"]}
            reply = req.block_action(
                action,
                channel_id=channel,
                message=message,
                is_ephemeral=True,
                response_url=self._response_url(p.id, channel, None, ephemeral),
                **common,  # type: ignore[arg-type]
            )
        else:
            if channel is None or ts is None:
                raise ValueError("a click on a message needs its channel and ts")
            clicked = self.find_message(channel, ts)
            if clicked is None:
                raise ValueError(f"no such message: {channel} {ts}")
            clicked.pop("metadata", None)  # Slack sends the message without its metadata
            reply = req.block_action(
                action,
                channel_id=channel,
                message=clicked,
                response_url=self._response_url(p.id, channel, ts),
                **common,  # type: ignore[arg-type]
            )
        self.settle()
        self._touch()
        return reply

    def open_home(self, user: str) -> Reply:
        """`user` opens the bot's App Home tab."""
        p = self._who(user)
        event = {
            "type": "app_home_opened",
            "user": p.id,
            "channel": "D" + p.id[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        reply = self._req().event(event, team_id=p.team, bot_user_id=self.fake.bot_user_id)
        self.settle()
        self._touch()
        return reply

    def view_of(self, user: str, view_id: str) -> dict[str, Any] | None:
        """The view as this person's Slack shows it now."""
        for modal in self.modals.get(user, []):
            if modal.view_id == view_id:
                return copy.deepcopy(modal.override) if modal.override else self.fake.view(view_id)
        return None

    def top_modal(self, user: str) -> Modal | None:
        stack = self.modals.get(user) or []
        return stack[-1] if stack else None

    def submit(self, user: str, view_id: str, values: dict[str, dict[str, Any]]) -> Reply:
        """Submit the modal `view_id` with its inputs' state {block_id: element state} or {block_id: {action_id: ...}}."""
        p = self._who(user)
        view = self.view_of(user, view_id)
        if view is None:
            raise ValueError(f"{user} has no open view {view_id}")
        state = {block: (v if "type" not in v else {block: v}) for block, v in values.items()}
        state = {block: self._action_ids(view, block, v) for block, v in state.items()}
        before = (self.fake.view(view_id) or {}).get("hash")
        reply = self._req().view_submission(
            view, state, user_id=p.id, user_name=p.name, team_id=p.team, trigger_id=self._trigger(p.id)
        )
        with self._lock:
            self._answered(user, view_id, reply, before)
        self.settle()
        self._touch()
        return reply

    @staticmethod
    def _action_ids(view: dict[str, Any], block_id: str, value: dict[str, Any]) -> dict[str, Any]:
        """State keyed by the input's real action id (the sample answers key by block id)."""
        block = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), None)
        action_id = ((block or {}).get("element") or {}).get("action_id")
        if action_id and len(value) == 1 and action_id not in value:
            return {action_id: next(iter(value.values()))}
        return value

    def _answered(self, user: str, view_id: str, reply: Reply, hash_before: str | None) -> None:
        """What Slack does with a view_submission's answer: close, update, push, clear or show errors."""
        stack = self.modals.get(user, [])
        index = next((i for i, m in enumerate(stack) if m.view_id == view_id), None)
        if reply.status != 200 or index is None:
            return
        body = reply.json
        action = body.get("response_action")
        modal = stack[index]
        if action == "errors":
            modal.errors = dict(body.get("errors") or {})
        elif action == "update":
            # The bot may already have replaced the view again (views.update) by the time its ack arrives.
            if (self.fake.view(view_id) or {}).get("hash") == hash_before:
                modal.override = {**body["view"], "id": view_id}
            modal.errors = {}
        elif action == "push":
            stack.append(Modal(f"{view_id}.pushed{next(self._seq)}", override={**body["view"]}))
            stack[-1].override["id"] = stack[-1].view_id  # type: ignore[index]
        elif action == "clear":
            stack.clear()
        else:
            del stack[index:]

    def close(self, user: str, view_id: str) -> Reply | None:
        """The person closes the modal (Cancel or the cross)."""
        p = self._who(user)
        view = self.view_of(user, view_id)
        with self._lock:
            stack = self.modals.get(user, [])
            index = next((i for i, m in enumerate(stack) if m.view_id == view_id), None)
            if index is not None:
                del stack[index:]
        reply = None
        if view and view.get("notify_on_close"):
            reply = self._req().view_closed(view, user_id=p.id, user_name=p.name, team_id=p.team)
            self.settle()
        self._touch()
        return reply

    def dismiss(self, user: str, ephemeral: str) -> None:
        with self._lock:
            self.ephemerals[user] = [e for e in self.ephemerals.get(user, []) if e["id"] != ephemeral]
        self._touch()

    # -- time --------------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None) -> str:
        """The scheduler's sweep and delivery, at the sandbox's time."""
        from bot.automation.rules import decide
        from bot.runtime.sweep import run_sweep

        if self.services is None:
            raise RuntimeError("the sandbox is not started")
        at = now or self.clock.now()
        report = run_sweep(
            self.services, at, decide=partial(decide, playbooks=self.services.playbooks), clock=self.clock
        )
        self.settle()
        self.sweeps.append(report.summary())
        self._touch()
        return report.summary()

    def advance(self, step: str) -> list[str]:
        """Move the clock: "morning" (the next business morning), "week" (+7 days) or "month" (+30 days),
        sweeping at every business morning on the way and at the moment it stops."""
        now = self.clock.now()
        if step == "morning":
            mornings = business_mornings(now, now + timedelta(days=5))[:1]
            until = mornings[0]
        elif step in ("week", "month"):
            until = now + timedelta(days=7 if step == "week" else 30)
            mornings = business_mornings(now, until)
        else:
            raise ValueError(f"unknown clock step {step!r}: morning, week or month")
        summaries = []
        for moment in mornings:
            self.clock.move_to(moment)
            summaries.append(self.sweep(moment))
        if until > self.clock.now():
            self.clock.move_to(until)
            summaries.append(self.sweep(until))
        return summaries

    # -- what the page shows -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything the page renders, as JSON-ready data."""
        with self._lock:
            return self._state()

    def _state(self) -> dict[str, Any]:
        channels = []
        for c in world.CHANNELS:
            channels.append({**c, "messages": _threads(self.fake.messages(c["id"]))})
        dms = {}
        for channel_id, record in list(self.fake.channels.items()):
            if record.get("is_im"):
                dms[record["user"]] = {"id": channel_id, "messages": _threads(self.fake.messages(channel_id))}
        homes = {p.id: self.fake.home_view(p.id) for p in world.PEOPLE}
        modals = {}
        for user, stack in self.modals.items():
            shown = []
            for modal in stack:
                view = self.view_of(user, modal.view_id)
                if view:
                    shown.append({"view": _without_metadata(view), "errors": modal.errors})
            modals[user] = shown
        now = self.clock.now()
        local = now.astimezone(zone_of(world.CUSTOMER_TZ))
        return {
            "version": self.version,
            "now": now.isoformat(),
            "now_label": f"{local:%a %d %b %Y, %H:%M} ({world.CUSTOMER_TZ})",
            "tz": world.CUSTOMER_TZ,
            "people": [p.as_json() for p in world.PEOPLE],
            "bot": {"id": self.fake.bot_user_id, "name": "onboard-bot"},
            "channels": channels,
            "dms": dms,
            "homes": {k: _without_metadata(v) for k, v in homes.items() if v},
            "modals": modals,
            "ephemerals": copy.deepcopy(self.ephemerals),
            "sweeps": self.sweeps[-5:],
            "samples": self.sample_answers(),
        }

    def with_files_inlined(self, state: dict[str, Any]) -> dict[str, Any]:
        """The state with every uploaded file's bytes inside it (a data: URL), for a page that stands alone."""
        conversations = [c["messages"] for c in state["channels"]] + [d["messages"] for d in state["dms"].values()]
        for messages in conversations:
            for message in messages:
                for m in [message, *message.get("replies", [])]:
                    for f in m.get("files") or []:
                        data = self.fake.uploaded(str(f.get("id")))
                        if data is not None:
                            kind = f.get("mimetype") or "application/octet-stream"
                            f["data_url"] = f"data:{kind};base64,{base64.b64encode(data).decode()}"
        return state

    def sample_answers(self) -> dict[str, dict[str, Any]]:
        """The sample handoff's answers by step (callback id), for the page's "Fill in the sample" button."""
        today = self.clock.now().astimezone(zone_of(world.CUSTOMER_TZ)).date()
        steps = world.handoff_answers(today.isoformat(), (today + timedelta(days=world.GO_LIVE_AFTER_DAYS)).isoformat())
        return dict(zip(("handoff.basics", "handoff.team", "handoff.customer", "handoff.story"), steps, strict=True))

    def bot_requests_ok(self) -> list[str]:
        """Problems with what was sent to the bot: any request not signed or not answered 200."""
        return [f"{s.kind} from {s.user}: {s.status}" for s in self._req().sent if not s.signed or s.status != 200]


def _without_metadata(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("private_metadata", "state")}


def _threads(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top-level messages, each with its thread's replies under `replies`."""
    top: list[dict[str, Any]] = []
    by_ts: dict[str, dict[str, Any]] = {}
    for m in messages:
        m = {k: v for k, v in m.items() if k != "metadata"}
        parent = m.get("thread_ts")
        if parent and parent != m["ts"] and parent in by_ts:
            by_ts[parent].setdefault("replies", []).append(m)
            if m.get("subtype") != "thread_broadcast":
                continue
        top.append(m)
        by_ts[m["ts"]] = m
    return top


def _serve_until(server: Any, stopping: threading.Event) -> None:
    """waitress's own loop, one short turn at a time, so it can be stopped from another thread."""
    while not stopping.is_set():
        server.asyncore.loop(timeout=0.1, map=server._map, count=1)


def _close_server(server: Any, thread: threading.Thread, stopping: threading.Event) -> None:
    """Stop accepting, let the requests being served finish, then close every socket."""
    stopping.set()
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
    server.asyncore.close_all(server._map)
    server.close()
