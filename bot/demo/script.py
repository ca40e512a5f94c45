"""`onboard-bot demo --script`: a scripted onboarding played in the sandbox, headless.

The script is a list of steps, each a function of the `Play` (the sandbox and what has happened so
far), run in order; a step only does what a person could do in the page: type a command, click a
button on a card, fill a modal, move the clock. Its end is a transcript: the sandbox's page as one
self-contained HTML file. Add a step by writing a function and putting it in `STEPS`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.demo import world
from bot.demo.sandbox import Sandbox

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
CUSTOMER_PEOPLE = [p for p in world.PEOPLE if not p.vendor and p is not world.BYSTANDER]


@dataclass
class Play:
    sandbox: Sandbox
    days: int
    playbook: str | None = None
    log: list[str] = field(default_factory=list)
    blocked: str | None = None  # block id of the milestone the script blocked
    # Clicks the bot did not take, by (message ts, its blocks, button): not tried again until the message changes.
    refused: set[tuple[str, str, str]] = field(default_factory=set)

    def say(self, line: str) -> None:
        self.log.append(f"{self.sandbox.clock.now():%Y-%m-%d %H:%M} UTC  {line}")

    @property
    def elapsed_days(self) -> float:
        return (self.sandbox.clock.now() - self.start).total_seconds() / 86400

    def __post_init__(self) -> None:
        self.start = self.sandbox.clock.now()


def buttons(sandbox: Sandbox, channel: str = world.SHARED_CHANNEL) -> Iterator[tuple[dict, dict, dict, list[str]]]:
    """(message, actions block, button, people mentioned just above it) for every button in a channel."""
    for message in sandbox.fake.messages(channel):
        blocks = message.get("blocks") or []
        for i, block in enumerate(blocks):
            if block.get("type") != "actions":
                continue
            above = blocks[i - 1] if i else {}
            mentioned = _MENTION.findall(str((above.get("text") or {}).get("text", "")))
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    yield message, block, element, mentioned


def _seen_as(message: dict, button: dict, user: str) -> tuple[str, str, str]:
    blocks = json.dumps(message.get("blocks"), sort_keys=True)
    return (
        message["ts"],
        hashlib.sha256(blocks.encode()).hexdigest(),
        f"{user}:{button['action_id']}:{button.get('value')}",
    )


def press(play: Play, user: str, message: dict, block: dict, button: dict, channel: str = world.SHARED_CHANNEL) -> bool:
    """Click `button` as `user`; True when the bot changed the message (the click was taken).

    A click the bot did not take is not repeated on the same, unchanged message."""
    before = play.sandbox.find_message(channel, message["ts"]) or {}
    if _seen_as(before, button, user) in play.refused:
        return False
    action = {
        "type": "button",
        "action_id": button["action_id"],
        "block_id": block.get("block_id", "auto"),
        "value": button.get("value"),
        "text": button.get("text"),
    }
    play.sandbox.click(user, action, channel=channel, ts=message["ts"])
    after = play.sandbox.find_message(channel, message["ts"]) or {}
    if after.get("blocks") == before.get("blocks"):
        play.refused.add(_seen_as(before, button, user))
        return False
    return True


def find(play: Play, action_id: str, label: str | None = None) -> tuple[dict, dict, dict, list[str]] | None:
    for found in buttons(play.sandbox):
        if found[2]["action_id"] == action_id and (label is None or found[2]["text"]["text"] == label):
            return found
    return None


# -- steps -------------------------------------------------------------------------------------
def handoff(play: Play) -> None:
    """The CSM runs /onboard new in the shared channel and fills the four steps of the handoff."""
    sb = play.sandbox
    sb.command(world.CSM.id, world.SHARED_CHANNEL, "new")
    today = sb.clock.now().date()
    steps = world.handoff_answers(today.isoformat(), (today + timedelta(days=world.GO_LIVE_AFTER_DAYS)).isoformat())
    if play.playbook:
        steps[0]["playbook"] = {"type": "static_select", "selected_option": {"value": play.playbook}}
    for answers in steps:
        modal = sb.top_modal(world.CSM.id)
        if modal is None:
            raise RuntimeError("the handoff modal did not open")
        sb.submit(world.CSM.id, modal.view_id, answers)
        modal = sb.top_modal(world.CSM.id)
        if modal is not None and modal.errors:
            raise RuntimeError(f"the handoff was refused: {modal.errors}")
    play.say("Casey (CSM) handed the deal over with /onboard new")
    modal = sb.top_modal(world.CSM.id)
    if modal is not None:
        sb.close(world.CSM.id, modal.view_id)


def gate(play: Play) -> None:
    """When the readiness gate failed, the CSM overrides it from the internal channel, saying why."""
    sb = play.sandbox
    found = next((f for f in buttons(sb, world.INTERNAL_CHANNEL) if f[2]["action_id"] == "gate.override"), None)
    if found is None:
        return
    message, block, button, _ = found
    press(play, world.CSM.id, message, block, button, world.INTERNAL_CHANNEL)
    modal = sb.top_modal(world.CSM.id)
    if modal is not None:
        reason = "The customer's sponsor accepted the risk on the date; we review it at the kickoff"
        sb.submit(world.CSM.id, modal.view_id, {"override_reason": {"type": "plain_text_input", "value": reason}})
        play.say("Casey (CSM) overrode the readiness gate, with a reason")


def first_looks(play: Play) -> None:
    """The champion asks for their tasks; the CSM checks the status; the customer says hello."""
    sb = play.sandbox
    found = find(play, "plan.my_tasks")
    if found:
        press(play, world.CHAMPION.id, found[0], found[1], found[2])
        play.say("Chris (champion) pressed My tasks")
    sb.command(world.CSM.id, world.SHARED_CHANNEL, "status")
    sb.say(world.CHAMPION.id, world.SHARED_CHANNEL, "Hello all, glad to get going. Priya runs the project on our side.")


def start_first(play: Play) -> None:
    """The CSM starts the first milestone on the first card."""
    found = find(play, "ms.start")
    if found and press(play, world.CSM.id, found[0], found[1], found[2]):
        play.say("Casey (CSM) started the first milestone")


def block_one(play: Play) -> None:
    """The IT contact marks a milestone blocked, with what blocks it, in the modal."""
    sb = play.sandbox
    for message, block, button, mentioned in buttons(sb):
        if button["action_id"] != "ms.block":
            continue
        user = next((u for u in mentioned if u in world.BY_ID and not world.BY_ID[u].vendor), world.CSM.id)
        press(play, user, message, block, button)
        modal = sb.top_modal(user)
        if modal is None:
            continue
        sb.submit(
            user,
            modal.view_id,
            {
                "blocked_what": {
                    "type": "plain_text_input",
                    "value": "Waiting for the security review of the SSO setup",
                },
                "blocked_who": {"type": "plain_text_input", "value": "Northwind's security team"},
                "blocked_since": {"type": "datepicker", "selected_date": sb.clock.now().date().isoformat()},
            },
        )
        if sb.top_modal(user) is None:
            play.blocked = block.get("block_id", "").split(".")[1] if "." in block.get("block_id", "") else None
            play.say(f"{world.BY_ID[user].real_name} marked a milestone blocked")
            return


def silent_week(play: Play) -> None:
    """Nobody says or does anything for a week; the scheduler sweeps every business morning."""
    play.sandbox.advance("week")
    play.say("a silent week went by")


def unblock(play: Play) -> None:
    found = find(play, "ms.unblock")
    if found:
        user = next((u for u in found[3] if u in world.BY_ID and not world.BY_ID[u].vendor), world.CSM.id)
        if press(play, user, found[0], found[1], found[2]):
            play.say(f"{world.BY_ID[user].real_name} unblocked the milestone")


def _who_may(action: str, mentioned: list[str]) -> list[str]:
    customer = [u for u in mentioned if u in world.BY_ID and not world.BY_ID[u].vendor]
    if action in ("ms.start", "ms.done", "stage.advance", "stage.complete", "signoff.csm"):
        return [world.CSM.id]
    if action == "voice.rate.4":  # a finished stage asks the customer for a score: a 4, from whoever may give it
        return [p.id for p in CUSTOMER_PEOPLE]
    if action == "ms.confirm":
        return customer + [p.id for p in CUSTOMER_PEOPLE if p.id not in customer]
    if action == "signoff.sponsor":
        return [world.SPONSOR.id]
    return []


def work_day(play: Play, limit: int = 40) -> int:
    """One business day of work: each open milestone on the cards moves one step, by someone who may."""
    moved, done_today, tried = 0, set(), set()
    for _ in range(limit):
        pick = None
        for message, block, button, mentioned in buttons(play.sandbox):
            thing = ".".join(block.get("block_id", "").split(".")[:2]) or button.get("value", "")
            action = button["action_id"]
            if thing in done_today or (thing, action) in tried or not _who_may(action, mentioned):
                continue
            if action == "ms.start" and any(b["action_id"] == "ms.done" for b in block.get("elements", [])):
                continue  # a fresh milestone goes straight to "Mark done": one step a day
            pick = (message, block, button, mentioned, thing, action)
            break
        if pick is None:
            return moved
        message, block, button, mentioned, thing, action = pick
        tried.add((thing, action))
        for user in _who_may(action, mentioned):
            if press(play, user, message, block, button):
                moved += 1
                done_today.add(thing)
                break
    return moved


def onboarding_days(play: Play) -> None:
    """Business day after business day until the days run out: the people work, the customer speaks,
    the scheduler sweeps each morning."""
    sb = play.sandbox
    day = 0
    while play.elapsed_days < play.days:
        day += 1
        moved = work_day(play)
        if day % 3 == 0:
            sb.say(world.OWNER.id, world.SHARED_CHANNEL, "Quick update from our side: on track this week.")
        if moved:
            play.say(f"day {day}: {moved} thing(s) moved on the cards")
        sb.advance("morning")
    play.say(f"the script stopped after {play.elapsed_days:.0f} days")


ACCOUNT_ID = "northwind-001"
SEATS = 60


def value_report(play: Play) -> None:
    """The product reports its usage; the CSM previews the value report and posts it with its chart."""
    sb = play.sandbox
    sb.command(world.CSM.id, world.INTERNAL_CHANNEL, f"account-id {world.CUSTOMER_NAME} {ACCOUNT_ID}")
    today = sb.clock.now().date()
    weeks = 10
    records = [
        {"account_id": ACCOUNT_ID, "date": (today - timedelta(weeks=weeks - 1 - i)).isoformat(),
         "provisioned_seats": SEATS, "daily_active_users": 15 + 3 * i, "weekly_active_users": 22 + 4 * i}
        for i in range(weeks)
    ]  # fmt: skip
    status = sb.report_usage(records)
    play.say(f"the product reported {weeks} weeks of usage (HTTP {status})")
    sb.command(world.CSM.id, world.SHARED_CHANNEL, "report")
    preview = next(
        (e for e in reversed(sb.ephemerals.get(world.CSM.id, [])) if any(
            el.get("action_id") == "report.post" for b in e["blocks"] if b.get("type") == "actions"
            for el in b.get("elements", []))),
        None,
    )  # fmt: skip
    if preview is None:
        play.say("the value report preview did not come")
        return
    button = next(
        el for b in preview["blocks"] if b.get("type") == "actions" for el in b["elements"]
        if el.get("action_id") == "report.post"
    )  # fmt: skip
    block = next(b for b in preview["blocks"] if button in b.get("elements", []))
    action = {"type": "button", "action_id": button["action_id"], "block_id": block.get("block_id", "auto"),
              "value": button.get("value"), "text": button.get("text")}  # fmt: skip
    sb.click(world.CSM.id, action, channel=world.SHARED_CHANNEL, ephemeral=preview["id"])
    play.say("Casey (CSM) previewed the value report and posted it, with its chart")


Step = Callable[[Play], Any]
STEPS: list[Step] = [
    handoff, gate, first_looks, start_first, block_one, silent_week, unblock, onboarding_days, value_report,
]  # fmt: skip


def play_script(sandbox: Sandbox, *, days: int = 90, playbook: str | None = None) -> Play:
    play = Play(sandbox, days=days, playbook=playbook)
    for step in STEPS:
        step(play)
    return play
