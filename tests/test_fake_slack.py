"""The fake Slack answers a real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.fake_slack import FakeSlack
from tests.slack_checks import problem_collector

TOKEN = "xoxb-fake-token"
VENDOR, CUSTOMER = "T0VENDOR", "T0CUSTOMER"
CSM, CHAMPION, STRANGER, OUTSIDER = "U0CSM", "U0CHAMPION", "U0STRANGER", "U0OUTSIDER"
SHARED, INTERNAL, ARCHIVED, ELSEWHERE = "C0SHARED", "C0INTERNAL", "C0ARCHIVED", "C0ELSEWHERE"
TS = re.compile(r"^\d{10}\.\d{6}$")
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Kick off"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Let's start"}}],
}


@pytest.fixture(scope="module")
def fake():
    with FakeSlack(vendor_team_id=VENDOR, bot_token=TOKEN) as fake:
        fake.add_user(CSM, name="casey", real_name="Casey Vendor", email="casey@vendor.example")
        fake.add_user(CHAMPION, name="chris", team_id=CUSTOMER, email="chris@acme.example", tz="Europe/Berlin")
        fake.add_user(STRANGER, name="sam", team_id=CUSTOMER, email="sam@acme.example", is_stranger=True)
        fake.add_user(OUTSIDER, name="olive")
        fake.add_channel(SHARED, name="acme-onboarding", is_ext_shared=True, members=(CSM, CHAMPION, STRANGER))
        fake.add_channel(INTERNAL, name="acme-internal", is_private=True, members=(CSM,))
        fake.add_channel(ARCHIVED, name="old-project", is_archived=True, members=(CSM,))
        fake.add_channel(ELSEWHERE, name="random", bot_is_member=False, members=(CSM,))
        yield fake


@pytest.fixture
def client(fake) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.url)


@pytest.fixture(autouse=True)
def spec_problems(fake):
    """Every call the tests make is checked like the app's are; a test that breaks a rule on purpose clears this."""
    fake.reset()
    problems: list[str] = []
    listener = fake.add_listener(problem_collector(problems))
    yield problems
    fake.remove_listener(listener)
    assert not problems
    assert not fake.errors


def error_of(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_auth_test_names_the_vendor_team_and_the_bot(client):
    answer = client.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (VENDOR, "U0BOT", "B0BOT")


def test_post_message_answers_like_slack_and_keeps_the_message(fake, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Kick-off* today"}}]
    metadata = {"event_type": "onboarding_card", "event_payload": {"card_id": 7}}
    first = client.chat_postMessage(channel=SHARED, text="Kick-off today", blocks=blocks, metadata=metadata)
    second = client.chat_postMessage(channel=SHARED, text="reply", thread_ts=first["ts"])

    assert first["channel"] == SHARED and TS.match(first["ts"]) and first["message"]["ts"] == first["ts"]
    assert float(second["ts"]) > float(first["ts"])
    call = fake.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks and call.args["metadata"] == metadata
    assert call.headers["authorization"] == f"Bearer {TOKEN}" and call.status == 200
    parent, reply = fake.messages(SHARED)
    assert (parent["blocks"], parent["metadata"], parent["reply_count"]) == (blocks, metadata, 1)
    assert (reply["thread_ts"], reply["user"], reply["bot_id"]) == (first["ts"], "U0BOT", "B0BOT")


def test_form_bodies_query_strings_and_json_strings_are_all_understood(fake, client):
    blocks = [{"type": "divider"}]
    client.api_call("chat.postMessage", params={"channel": SHARED, "text": "form", "blocks": json.dumps(blocks)})
    assert fake.calls[-1].headers["content-type"] == "application/x-www-form-urlencoded"
    assert fake.calls[-1].args["blocks"] == blocks and fake.messages(SHARED)[0]["blocks"] == blocks
    with urllib.request.urlopen(f"{fake.url}users.info?user={CSM}&token={TOKEN}") as answer:
        assert json.load(answer)["user"]["id"] == CSM
    assert fake.calls[-1].method == "users.info" and fake.calls[-1].args["user"] == CSM


def test_a_malformed_json_body_is_answered_not_dropped(fake, spec_problems):
    request = urllib.request.Request(
        f"{fake.url}chat.postMessage",
        data=b"{not json",
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request) as answer:
        assert json.load(answer) == {"ok": False, "error": "invalid_json"}
    assert fake.calls[-1].method == "chat.postMessage" and fake.calls[-1].args == {}
    assert "chat.postMessage: missing required argument 'channel'" in spec_problems
    spec_problems.clear()


def test_post_message_to_a_user_opens_a_direct_message(fake, client):
    answer = client.chat_postMessage(channel=CSM, text="Your nudge")
    assert answer["channel"].startswith("D") and fake.messages(answer["channel"])[0]["text"] == "Your nudge"


@pytest.mark.parametrize(
    ("channel", "error"),
    [("C0MISSING", "channel_not_found"), (ELSEWHERE, "not_in_channel"), (ARCHIVED, "is_archived")],
)
def test_post_message_refused_where_slack_refuses_it(client, channel, error):
    assert error_of(client.chat_postMessage, channel=channel, text="hi").response["error"] == error


def test_post_message_without_content_is_refused(client, spec_problems):
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        assert error_of(client.chat_postMessage, channel=SHARED).response["error"] == "no_text"
    assert spec_problems == ["chat.postMessage: needs one of text, blocks, attachments"]
    spec_problems.clear()


def test_update_edits_the_card_in_place(fake, client):
    posted = client.chat_postMessage(channel=SHARED, text="v1", blocks=[{"type": "divider"}])
    updated = client.chat_update(channel=SHARED, ts=posted["ts"], text="v2")
    assert (updated["channel"], updated["ts"], updated["text"]) == (SHARED, posted["ts"], "v2")
    [message] = fake.messages(SHARED)
    assert (message["text"], message["blocks"], "edited" in message) == ("v2", [{"type": "divider"}], True)
    missing = error_of(client.chat_update, channel=SHARED, ts="1700000000.000100", text="v3")
    assert missing.response["error"] == "message_not_found"


def test_delete_pin_react_and_permalink(fake, client):
    ts = client.chat_postMessage(channel=SHARED, text="pin me")["ts"]
    client.pins_add(channel=SHARED, timestamp=ts)
    client.reactions_add(channel=SHARED, name="white_check_mark", timestamp=ts)
    assert error_of(client.pins_add, channel=SHARED, timestamp=ts).response["error"] == "already_pinned"
    link = client.chat_getPermalink(channel=SHARED, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{SHARED}/p{ts.replace('.', '')}")
    [message] = fake.messages(SHARED)
    assert message["pinned_to"] == [SHARED] and message["reactions"][0]["count"] == 1
    client.chat_delete(channel=SHARED, ts=ts)
    assert fake.messages(SHARED) == []


def test_ephemeral_answers_a_message_ts_and_needs_a_member(fake, client):
    answer = client.chat_postEphemeral(channel=SHARED, user=CHAMPION, text="Only you can see this")
    assert TS.match(answer["message_ts"]) and fake.messages(SHARED) == []
    refused = error_of(client.chat_postEphemeral, channel=SHARED, user=OUTSIDER, text="hi")
    assert refused.response["error"] == "user_not_in_channel"


def test_views_open_then_update_with_a_stale_hash_conflicts(fake, client):
    trigger = fake.new_trigger_id()
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["state"] == {"values": {}}
    assert opened["team_id"] == VENDOR and opened["root_view_id"] == opened["id"]

    working = {**MODAL, "title": {"type": "plain_text", "text": "Working"}}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=working)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert stale.response["error"] == "hash_conflict"
    assert fake.view(opened["id"])["title"]["text"] == "Working"
    assert error_of(client.views_open, trigger_id=trigger, view=MODAL).response["error"] == "exchanged_trigger_id"


def test_a_trigger_id_expires_after_three_seconds(fake, client):
    from freezegun import freeze_time

    with freeze_time("2025-03-03 09:00:00") as frozen:
        trigger = fake.new_trigger_id()
        frozen.tick(3.5)
        assert error_of(client.views_open, trigger_id=trigger, view=MODAL).response["error"] == "expired_trigger_id"


def test_views_push_and_publish(fake, client):
    pushed = client.views_push(trigger_id="12345.98765.abcd", view=MODAL)["view"]
    assert pushed["type"] == "modal"
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your onboardings"}}]}
    first = client.views_publish(user_id=CSM, view=home)["view"]
    second = client.views_publish(user_id=CSM, view=home, hash=first["hash"])["view"]
    assert first["id"] == second["id"] and fake.home_view(CSM)["hash"] == second["hash"]


def test_users_info_for_a_vendor_a_customer_and_a_stranger(client):
    vendor = client.users_info(user=CSM)["user"]
    assert (vendor["team_id"], vendor["is_bot"], vendor["profile"]["email"]) == (VENDOR, False, "casey@vendor.example")
    customer = client.users_info(user=CHAMPION)["user"]
    assert (customer["team_id"], customer["tz"], "is_stranger" in customer) == (CUSTOMER, "Europe/Berlin", False)
    stranger = client.users_info(user=STRANGER)["user"]
    assert stranger["is_stranger"] is True and "email" not in stranger["profile"]
    assert error_of(client.users_info, user="U0NOBODY").response["error"] == "user_not_found"
    assert client.users_lookupByEmail(email="chris@acme.example")["user"]["id"] == CHAMPION
    assert error_of(client.users_lookupByEmail, email="sam@acme.example").response["error"] == "users_not_found"


def test_conversations_info_for_a_shared_channel(client):
    channel = client.conversations_info(channel=SHARED)["channel"]
    assert channel["is_ext_shared"] and channel["is_shared"] and channel["is_member"] and not channel["is_private"]
    assert channel["connected_team_ids"] == [CUSTOMER, VENDOR] and channel["name"] == "acme-onboarding"
    internal = client.conversations_info(channel=INTERNAL)["channel"]
    assert internal["is_private"] and not internal["is_ext_shared"] and "connected_team_ids" not in internal
    assert set(client.conversations_members(channel=SHARED)["members"]) == {CSM, CHAMPION, STRANGER, "U0BOT"}


def test_join_a_public_channel(fake, client):
    joined = client.conversations_join(channel=ELSEWHERE)
    assert joined["channel"]["is_member"] and "warning" not in joined
    assert client.conversations_join(channel=ELSEWHERE)["warning"] == "already_in_channel"
    fake.channels[ELSEWHERE]["bot_is_member"] = False


def test_history_is_newest_first_and_replies_oldest_first(fake, client):
    metadata = {"event_type": "onboarding_card", "event_payload": {"card_id": 1}}
    card = client.chat_postMessage(channel=SHARED, text="card", metadata=metadata)["ts"]
    fake.add_message(SHARED, user=CHAMPION, text="thanks!", thread_ts=card)
    later = client.chat_postMessage(channel=SHARED, text="later")["ts"]

    history = client.conversations_history(channel=SHARED)
    assert [m["ts"] for m in history["messages"]] == [later, card]
    assert "metadata" not in history["messages"][1]
    with_metadata = client.conversations_history(channel=SHARED, include_all_metadata=True)
    assert with_metadata["messages"][1]["metadata"] == metadata
    page = client.conversations_history(channel=SHARED, limit=1)
    assert page["has_more"] and page["messages"][0]["ts"] == later
    rest = client.conversations_history(channel=SHARED, limit=1, cursor=page["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == [card] and not rest["has_more"]
    assert [m["ts"] for m in client.conversations_history(channel=SHARED, oldest=card)["messages"]] == [later]

    replies = client.conversations_replies(channel=SHARED, ts=card)["messages"]
    assert [m["text"] for m in replies] == ["card", "thanks!"] and replies[1]["user"] == CHAMPION


def test_rate_limit_answers_429_with_retry_after(fake, client):
    fake.fail_next("chat.postMessage", status=429, retry_after=30)
    refused = error_of(client.chat_postMessage, channel=SHARED, text="hi")
    assert refused.response.status_code == 429 and refused.response["error"] == "ratelimited"
    assert refused.response.headers["Retry-After"] == "30"
    assert fake.messages(SHARED) == []


def test_rate_limit_handler_waits_as_long_as_retry_after_says(fake, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    client = WebClient(token=TOKEN, base_url=fake.url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    fake.fail_next("chat.postMessage", status=429, retry_after=7)

    assert client.chat_postMessage(channel=SHARED, text="hi")["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert len(slept) == 1 and 7 <= slept[0] < 8
    assert len(fake.messages(SHARED)) == 1


def test_server_errors_are_answered_and_retried(fake, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    fake.fail_next("users.info", status=503)
    plain = WebClient(token=TOKEN, base_url=fake.url)
    assert error_of(plain.users_info, user=CSM).response.status_code == 503

    fake.fail_next("users.info", status=500, times=2)
    retrying = WebClient(token=TOKEN, base_url=fake.url, retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)])
    assert retrying.users_info(user=CSM)["user"]["id"] == CSM
    assert [c.status for c in fake.calls_to("users.info")] == [503, 500, 500, 200]


def test_a_failure_after_the_post_landed_leaves_the_message(fake, client):
    fake.fail_next("chat.postMessage", status=500, applied=True)
    error_of(client.chat_postMessage, channel=SHARED, text="did it land?")
    assert [m["text"] for m in fake.messages(SHARED)] == ["did it land?"]


def test_injected_error_answers_http_200_ok_false(fake, client):
    fake.fail_next("chat.postMessage", error="channel_not_found")
    refused = error_of(client.chat_postMessage, channel=SHARED, text="hi")
    assert (refused.response.status_code, refused.response["error"]) == (200, "channel_not_found")
    assert client.chat_postMessage(channel=SHARED, text="hi")["ok"]


def test_a_wrong_token_is_refused(fake):
    wrong = WebClient(token="xoxb-wrong", base_url=fake.url)
    assert error_of(wrong.auth_test).response["error"] == "invalid_auth"
    app_level = WebClient(token="xapp-test-token", base_url=fake.url)
    assert app_level.apps_connections_open(app_token="xapp-test-token")["url"].startswith("ws://")
    assert (
        error_of(WebClient(token=TOKEN, base_url=fake.url).apps_connections_open, app_token=TOKEN).response["error"]
        == "not_allowed_token_type"
    )


def test_unknown_methods_are_answered_and_recorded(fake, client, spec_problems):
    assert error_of(client.api_call, "chat.postMessageLater").response["error"] == "unknown_method"
    assert fake.calls[-1].method == "chat.postMessageLater"
    assert spec_problems == ["chat.postMessageLater: chat.postMessageLater is not a Slack Web API method"]
    spec_problems.clear()


def test_wait_for_sees_a_call_made_on_another_thread(fake, client):
    worker = threading.Thread(target=client.chat_postMessage, kwargs={"channel": SHARED, "text": "from a worker"})
    worker.start()
    call = fake.wait_for("chat.postMessage", lambda c: c.args.get("text") == "from a worker")
    worker.join()
    assert call.ok and call.response["channel"] == SHARED


def test_wait_for_times_out_with_a_summary_of_the_calls(fake, client):
    client.auth_test()
    with pytest.raises(AssertionError, match=r"(?s)views\.open.*auth\.test 200"):
        fake.wait_for("views.open", timeout=0.05)


def test_response_url_replaces_the_original_message(fake, client):
    ts = client.chat_postMessage(channel=SHARED, text="Confirm?")["ts"]
    webhook = WebhookClient(fake.response_url(SHARED, ts))
    assert webhook.send(text="Confirmed by Chris", replace_original=True).status_code == 200
    assert [m["text"] for m in fake.messages(SHARED)] == ["Confirmed by Chris"]
    assert fake.calls[-1].method == "response_url" and fake.calls[-1].args["replace_original"] is True


def test_files_upload_v2_posts_the_file_into_the_channel(fake, client):
    answer = client.files_upload_v2(channel=SHARED, content=b"\x89PNG chart", filename="chart.png", title="Progress")
    file_id = answer["file"]["id"]
    assert fake.uploaded(file_id) == b"\x89PNG chart"
    assert fake.messages(SHARED)[-1]["files"][0]["title"] == "Progress"


def test_the_upload_url_takes_exactly_the_bytes_asked_for_and_completing_shares_the_file(fake, client):
    ticket = client.files_getUploadURLExternal(filename="chart.png", length=4)
    short = urllib.request.Request(ticket["upload_url"], data=b"abc", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(short, timeout=5)
    assert fake.uploaded(ticket["file_id"]) is None
    with urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"abcd", method="POST"), timeout=5):
        pass
    assert fake.uploaded(ticket["file_id"]) == b"abcd"
    client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "Chart"}], channel_id=SHARED)
    shared = fake.messages(SHARED)[-1]["files"][0]
    assert (shared["id"], shared["title"], shared["size"]) == (ticket["file_id"], "Chart", 4)


def test_a_bolt_app_authorizes_against_the_fake(fake):
    from slack_bolt import App

    App(client=WebClient(token=TOKEN, base_url=fake.url), signing_secret="not-used-here")
    assert fake.calls_to("auth.test")[0].ok


def test_reset_can_forget_the_directory_too():
    with FakeSlack() as fake:
        fake.add_user("U1", name="one")
        fake.add_channel("C1", name="one")
        fake.reset(keep_directory=False)
        assert list(fake.users) == ["U0BOT"] and fake.channels == {}


def test_conversations_open_gives_the_dm_channel(client, fake):
    opened = client.conversations_open(users="U0CSM")
    assert opened["channel"]["id"].startswith("D")
    posted = client.chat_postMessage(channel=opened["channel"]["id"], text="hi")
    assert posted["channel"] == opened["channel"]["id"]


# -- benchmark settings: latency and the per-channel rate limit (off by default) -----------------------
def test_a_second_post_to_a_channel_within_a_second_is_rate_limited():
    with FakeSlack(vendor_team_id=VENDOR, bot_token=TOKEN, channel_rate_limit=True) as limited:
        limited.add_channel(SHARED, name="acme-onboarding", members=(CSM,))
        limited.add_channel(INTERNAL, name="acme-internal", members=(CSM,))
        client = WebClient(token=TOKEN, base_url=limited.url, retry_handlers=[])
        client.chat_postMessage(channel=SHARED, text="first")
        client.chat_postMessage(channel=INTERNAL, text="another channel is not held back")
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel=SHARED, text="too soon")

    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "1"
    assert [m["text"] for m in limited.messages(SHARED)] == ["first"]
    assert len(limited.messages(INTERNAL)) == 1


def test_the_fake_answers_at_full_speed_and_without_a_rate_limit_unless_told(fake, client):
    assert (fake.latency, fake.channel_rate_limit) == (0.0, False)
    for text in ("one", "two", "three"):
        client.chat_postMessage(channel=SHARED, text=text)
    assert [m["text"] for m in fake.messages(SHARED)] == ["one", "two", "three"]


def test_latency_delays_every_answer():
    with FakeSlack(vendor_team_id=VENDOR, bot_token=TOKEN, latency=0.05) as slow:
        client = WebClient(token=TOKEN, base_url=slow.url)
        started = time.monotonic()
        client.auth_test()
        assert time.monotonic() - started >= 0.05
