"""`onboard-bot demo`: the scripted transcript, the signed requests behind it, the renderer's list
of what it can draw, and a clean stop on Ctrl-C."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.demo
from bot.demo import world
from bot.demo.blockkit import known, unknown_in
from bot.demo.requests import sign
from bot.demo.run import script
from bot.demo.sandbox import Sandbox, business_mornings, first_moment

_STATE = re.compile(r"<script>window.SANDBOX_TRANSCRIPT = (\{.*?\});</script>", re.S)


def _all_messages(state: dict) -> list[tuple[str, dict]]:
    out = []
    conversations = [(c["name"], c["messages"]) for c in state["channels"]]
    conversations += [(f"dm:{user}", dm["messages"]) for user, dm in state["dms"].items()]
    for name, messages in conversations:
        for m in messages:
            out.append((name, m))
            out.extend((name, r) for r in m.get("replies", []))
    return out


def _types(blocks: list[dict]) -> set[str]:
    found = set()
    for block in blocks or []:
        found.add(block["type"])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                found.add(block[key]["type"])
        for e in block.get("elements") or []:
            found.add(e["type"])
    return found


def test_the_script_writes_a_transcript_with_every_kind_of_post_all_sent_signed_and_accepted(tmp_path):
    out = tmp_path / "transcript.html"
    printed = io.StringIO()
    assert script(out, days=21, out=printed) == 0, printed.getvalue()

    lines = printed.getvalue().splitlines()
    sent = next(line for line in lines if "signed request(s) sent to the bot" in line)
    counted = re.fullmatch(r"(\d+) signed request\(s\) sent to the bot, (\d+) answered 200", sent)
    assert counted, sent
    total, accepted = int(counted.group(1)), int(counted.group(2))
    assert total > 20 and accepted == total, sent

    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert 'src="/static' not in page and 'href="/static' not in page, "the transcript must stand alone"
    assert "window.BlockKit" in page and ".bk-section" in page  # the renderer and its styles are inlined
    state = json.loads(_STATE.search(page).group(1))
    posts = _all_messages(state)
    texts = {name: " ".join(m["text"] for n, m in posts if n == name) for name, _ in posts}
    shared, internal = texts["northwind-onboarding"], texts["northwind-internal"]

    # What the bot says, where.
    assert "Handoff: Northwind Traders" in internal  # the full handoff, internal notes included
    assert "Welcome aboard, Northwind Traders" in shared
    assert "Onboarding plan: Northwind Traders" in shared
    for stage in ("Pre-kickoff", "Kickoff", "Setup", "Training", "Go-live", "Adoption"):  # one card per stage
        assert f"{stage} · Northwind Traders" in shared, stage
    assert "Today with Northwind Traders" in shared  # the channel's daily digest
    assert "Nothing from Northwind Traders" in internal  # the silent week, told to the vendor's side
    dm_text = " ".join(v for k, v in texts.items() if k.startswith("dm:"))
    assert "Your check-in for Northwind Traders" in dm_text  # a person's digest
    assert f"dm:{world.MANAGER.id}" in texts  # the manager hears about the account too

    # How it is said: threads, pins, edits, people's own messages, and every element the cards use.
    shared_posts = [m for n, m in posts if n == "northwind-onboarding"]
    assert any(m.get("replies") for m in state["channels"][0]["messages"]), "a card's history thread"
    assert any(m.get("pinned_to") for m in shared_posts), "the pinned plan overview"
    assert any(m.get("edited") for m in shared_posts), "a card edited in place"
    assert any(m["user"] == world.CHAMPION.id for m in shared_posts), "the customer speaking"
    assert any("Blocked" in r["text"] or "blocked" in r["text"] for _, r in posts), "a blocked item"
    seen = set().union(*(_types(m.get("blocks") or []) for _, m in posts))
    assert {"header", "section", "context", "actions", "button", "static_select", "datepicker"} <= seen

    # Everything shown is drawable, and the script said what it did.
    assert [p for _, m in posts for p in unknown_in(m.get("blocks"))] == []
    assert any("handed the deal over" in line for line in state["script"])
    assert any("silent week" in line for line in state["script"])
    assert any("usage (HTTP 200)" in line for line in state["script"]), "the product reported its usage"
    assert "Value report · Northwind Traders" in shared, "the value report, posted from its preview"
    charts = [f for m in shared_posts for f in m.get("files") or []]
    assert [f["mimetype"] for f in charts] == ["image/png"], "its chart, shared through the upload flow"


def test_a_request_the_sandbox_did_not_sign_is_refused_by_the_bot():
    """ "Accepted" above means the bot checked the signature: the same request signed wrongly gets 401."""
    with Sandbox() as sandbox:
        reply = sandbox.command(world.CSM.id, world.SHARED_CHANNEL, "help")
        assert reply.status == 200
        assert sandbox.ephemerals[world.CSM.id], "the help answer shows to Casey alone"
        requests = sandbox.requests
        assert requests is not None
        body = b"command=%2Fonboard&text=help&user_id=U0CSM&team_id=T0VENDOR"
        ts = str(int(time.time()))
        req = urllib.request.Request(
            requests.url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sign("not-the-sandbox-secret", ts, body),
            },
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        assert refused.value.code == 401
        assert sandbox.bot_requests_ok() == []


def test_the_customers_people_are_another_team_in_a_slack_connect_channel():
    with Sandbox() as sandbox:
        shared = sandbox.fake.channels[world.SHARED_CHANNEL]
        assert shared["is_ext_shared"]
        teams = {sandbox.fake.users[u]["team_id"] for u in shared["members"]}
        assert teams == {world.VENDOR_TEAM, world.CUSTOMER_TEAM}
        assert not sandbox.fake.channels[world.INTERNAL_CHANNEL]["is_ext_shared"]
        # The bot learned its team from the fake Slack: the vendor's.
        assert sandbox.services is not None and sandbox.services.vendor_team_id == world.VENDOR_TEAM
        # And its clock is the sandbox's.
        assert sandbox.services.clock is sandbox.clock


def test_a_customer_cannot_run_a_vendor_command_and_hears_what_to_do():
    with Sandbox() as sandbox:
        reply = sandbox.command(world.OWNER.id, world.SHARED_CHANNEL, "new")
        assert reply.status == 200
        assert sandbox.top_modal(world.OWNER.id) is None
        answer = sandbox.ephemerals[world.OWNER.id][-1]
        assert answer["text"] and answer["channel"] == world.SHARED_CHANNEL


def test_the_clock_sweeps_each_business_morning_on_the_way():
    start = first_moment(datetime(2026, 12, 4, 20, 0, tzinfo=UTC))
    assert start.weekday() == 0 and start.hour == 15  # Friday evening -> Monday 10:00 in New York
    mornings = business_mornings(start, start + timedelta(days=7))
    assert [m.weekday() for m in mornings] == [1, 2, 3, 4, 0]
    with Sandbox(start=start) as sandbox:
        before = sandbox.clock.now()
        sweeps = sandbox.advance("week")
        assert len(sweeps) == 6  # five mornings, then the moment it stops
        assert (sandbox.clock.now() - before).days == 7


def test_the_renderer_lists_what_the_bot_uses_and_flags_anything_else():
    k = known()
    assert {"section", "context", "divider", "header", "actions", "image", "input"} <= k["blocks"]
    assert {"button", "overflow", "static_select", "users_select", "datepicker", "timepicker", "checkboxes"} <= k[
        "elements"
    ]
    assert unknown_in([{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]) == []
    assert unknown_in([{"type": "rich_text", "elements": []}]) == ["blocks/0: block 'rich_text'"]
    assert unknown_in([{"type": "actions", "elements": [{"type": "workflow_button", "action_id": "t"}]}]) == [
        "blocks/0/elements/0: element 'workflow_button'"
    ]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_the_demo_and_everything_it_started(tmp_path, stop):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ONBOARD_"))}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.runtime.cli", "demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert url, first
        said = first + proc.stdout.readline()
        assert "127.0.0.1 only" in said
        with urllib.request.urlopen(url.group(0) + "api/state", timeout=10) as resp:
            state = json.load(resp)
        assert [c["name"] for c in state["channels"]] == ["northwind-onboarding", "northwind-internal"]
        assert any(p.name.startswith("onboard-demo-") for p in tmp_path.iterdir()), "its database lives in TMPDIR"
        proc.send_signal(stop)
        rest, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "stopped" in rest
    assert "Traceback" not in rest, rest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("onboard-demo-")], "the temporary database is gone"
    with pytest.raises(OSError):
        urllib.request.urlopen(url.group(0), timeout=2)


def test_the_page_files_ship_with_the_package():
    static = Path(bot.demo.__file__).with_name("static")
    assert {p.name for p in static.iterdir()} >= {"index.html", "app.js", "blockkit.js", "app.css"}


def test_a_modal_shows_its_inline_errors_then_the_next_step_and_closes():
    with Sandbox() as sandbox:
        sandbox.command(world.CSM.id, world.SHARED_CHANNEL, "new")
        modal = sandbox.top_modal(world.CSM.id)
        assert modal is not None
        today = sandbox.clock.now().date()
        basics = world.handoff_answers(today.isoformat(), (today + timedelta(days=60)).isoformat())[0]
        basics["customer_name"] = {"type": "plain_text_input", "value": ""}
        reply = sandbox.submit(world.CSM.id, modal.view_id, basics)
        assert reply.json["response_action"] == "errors"
        shown = sandbox.state()["modals"][world.CSM.id]
        assert len(shown) == 1 and "customer_name" in shown[0]["errors"]
        assert shown[0]["view"]["callback_id"] == "handoff.basics"
        assert "private_metadata" not in shown[0]["view"]  # the page never sees the sealed draft

        basics["customer_name"] = {"type": "plain_text_input", "value": "Northwind Traders"}
        sandbox.submit(world.CSM.id, modal.view_id, basics)
        shown = sandbox.state()["modals"][world.CSM.id]
        assert shown[0]["view"]["callback_id"] == "handoff.team" and shown[0]["errors"] == {}
        assert shown[0]["view"]["id"] == modal.view_id  # updated in place, as Slack does

        sandbox.close(world.CSM.id, modal.view_id)
        assert sandbox.state()["modals"][world.CSM.id] == []
        assert sandbox.fake.messages(world.SHARED_CHANNEL) == []  # an abandoned handoff posts nothing


def test_push_and_clear_answers_work_on_the_stack_as_in_slack():
    from bot.demo.requests import Reply
    from bot.demo.sandbox import Modal

    sandbox = Sandbox()
    sandbox.modals["U1"] = [Modal("V1")]

    def answer(body: dict) -> Reply:
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body))

    sandbox._answered("U1", "V1", answer({"response_action": "push", "view": {"type": "modal", "blocks": []}}), None)
    assert sandbox.modals["U1"][0].view_id == "V1" and len(sandbox.modals["U1"]) == 2
    pushed = sandbox.modals["U1"][1].view_id
    sandbox._answered("U1", pushed, answer({}), None)  # a plain ack closes the top view only
    assert [m.view_id for m in sandbox.modals["U1"]] == ["V1"]
    sandbox._answered("U1", "V1", answer({"response_action": "push", "view": {"type": "modal"}}), None)
    sandbox._answered("U1", "V1", answer({"response_action": "clear"}), None)
    assert sandbox.modals["U1"] == []


def test_the_script_refuses_an_unknown_playbook_and_names_the_shipped_ones(tmp_path, capsys):
    assert script(tmp_path / "t.html", playbook="no_such_plan") == 2
    said = capsys.readouterr().err
    assert "no_such_plan" in said and "standard_30" in said
    assert not (tmp_path / "t.html").exists()


def test_a_file_the_bot_uploads_shows_in_the_channel_and_travels_inside_a_transcript():
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    with Sandbox() as sandbox:
        assert sandbox.services is not None
        sandbox.services.client.files_upload_v2(
            channel=world.SHARED_CHANNEL, content=png, filename="progress.png", title="Progress"
        )
        state = sandbox.state()
        posted = [m for m in state["channels"][0]["messages"] if m.get("files")]
        assert posted and posted[0]["files"][0]["name"] == "progress.png"
        inlined = sandbox.with_files_inlined(state)
        url = inlined["channels"][0]["messages"][0]["files"][0]["data_url"]
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == png
