"""Each check catches what Slack would reject and passes what Slack accepts."""

from __future__ import annotations

import json

import pytest

from bot.fake_slack import Call
from tests.slack_checks import (
    check_ack_body,
    check_blocks,
    check_call,
    check_manifest,
    check_recorded_call,
    check_view,
)


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str, action_id: str = "go", **extra) -> dict:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, **extra}


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


GOOD_BLOCKS = [
    {"type": "header", "text": plain("Acme onboarding")},
    section("*Stage:* Kick-off", block_id="stage", accessory=button("Open", "open_card", value="onb:1")),
    {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*"} for k in ("Owner", "Due")]},
    {
        "type": "actions",
        "elements": [
            button("Done", "milestone_done", style="primary"),
            {
                "type": "static_select",
                "action_id": "pick",
                "placeholder": plain("Pick"),
                "options": [{"text": plain("One"), "value": "1"}],
            },
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Updated today"}]},
    {"type": "divider"},
]
INPUT = {
    "type": "input",
    "block_id": "name",
    "label": plain("Name"),
    "element": {"type": "plain_text_input", "action_id": "value"},
}
MODAL = {
    "type": "modal",
    "callback_id": "new_onboarding",
    "title": plain("New onboarding"),
    "submit": plain("Create"),
    "close": plain("Cancel"),
    "blocks": [INPUT],
    "private_metadata": "{}",
}


# -- calls ---------------------------------------------------------------------------------------
def test_a_complete_call_passes():
    assert check_call("chat.postMessage", {"channel": "C1", "text": "hi"}) == []
    assert check_call("views.open", {"trigger_id": "1.2.3", "view": MODAL}) == []


def test_an_unknown_method_fails():
    problems = check_call("chat.postMessageLater", {"channel": "C1"})
    assert problems == ["chat.postMessageLater is not a Slack Web API method"]


def test_a_missing_required_argument_fails():
    assert check_call("chat.update", {"channel": "C1", "text": "x"}) == ["missing required argument 'ts'"]
    assert check_call("chat.postEphemeral", {"channel": "C1", "text": "x"}) == ["missing required argument 'user'"]
    assert check_call("users.info", {}) == ["missing required argument 'user'"]


def test_one_of_groups():
    assert check_call("chat.postMessage", {"channel": "C1"}) == ["needs one of text, blocks, attachments"]
    assert check_call("views.open", {"interactivity_pointer": "1.2.3", "view": MODAL}) == []
    assert check_call("views.update", {"view": MODAL}) == ["needs one of view_id, external_id"]


def test_methods_newer_than_the_spec_are_known():
    assert check_call("files.getUploadURLExternal", {"filename": "a.png", "length": 3}) == []
    assert check_call("files.completeUploadExternal", {}) == ["missing required argument 'files'"]
    assert check_call("apps.connections.open", {}) == []


def test_the_upload_flow_is_checked_for_its_own_shape():
    ask = Call("files.getUploadURLExternal", {"filename": "chart.png", "length": "0"})
    assert check_recorded_call(ask) == ["length must be the file's size in bytes, a positive whole number"]
    assert check_recorded_call(Call("files.getUploadURLExternal", {"filename": "chart.png", "length": 12})) == []
    done = Call("files.completeUploadExternal", {"files": json.dumps([{"title": "no id"}]), "channel_id": "C1"})
    assert check_recorded_call(done) == ["files must be a non-empty list of objects with an id"]
    good = Call("files.completeUploadExternal", {"files": json.dumps([{"id": "F1", "title": "t"}]), "channel_id": "C1"})
    assert check_recorded_call(good) == []


def test_recorded_calls_are_checked_for_blocks_views_and_metadata():
    post = Call(
        "chat.postMessage",
        {"channel": "C1", "text": "x", "blocks": [section("x" * 3001)], "metadata": {"event_type": "card"}},
    )
    assert check_recorded_call(post) == [
        "blocks[0]: section: text attribute cannot exceed 3000 characters",
        "blocks[0].text: 3001 characters; a section allows at most 3000",
        "metadata.event_payload must be an object",
    ]
    as_form = Call("chat.postMessage", {"channel": "C1", "text": "x", "blocks": json.dumps(GOOD_BLOCKS)})
    assert check_recorded_call(as_form) == []
    bad_view = Call("views.publish", {"user_id": "U1", "view": {"type": "home", "title": plain("Home"), "blocks": []}})
    assert check_recorded_call(bad_view) == ["a home view cannot have title"]
    replied = Call("response_url", {"text": "ok", "blocks": [{"type": "sectoin"}]})
    assert check_recorded_call(replied) == ["blocks[0]: unknown block type 'sectoin'"]


# -- blocks --------------------------------------------------------------------------------------
def test_good_blocks_pass():
    assert check_blocks(GOOD_BLOCKS) == []
    assert check_blocks([{"type": "divider"}] * 50) == []
    assert check_blocks([{"type": "divider"}] * 100, surface="modal") == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "divider"}] * 51, "51 blocks; a message allows at most 50"),
        ([section("x" * 3001)], "blocks[0].text: 3001 characters; a section allows at most 3000"),
        ([{"type": "header", "text": plain("x" * 151)}], "blocks[0].text: 151 characters; a header allows at most 150"),
        (
            [{"type": "actions", "elements": [button("x" * 76)]}],
            "blocks[0].elements[0].text: 76 characters; a button allows at most 75",
        ),
        (
            [{"type": "actions", "elements": [button("ok", value="v" * 2001)]}],
            "blocks[0].elements[0].value: 2001 characters; a button allows at most 2000",
        ),
        (
            [{"type": "actions", "elements": [button("ok", action_id="a" * 256)]}],
            "blocks[0].elements[0].action_id: 256 characters; at most 255",
        ),
        ([section("x", block_id="b" * 256)], "blocks[0].block_id: 256 characters; at most 255"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "blocks[0].fields: 11 items; a section allows at most 10",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "blocks[0].fields[0]: 2001 characters; at most 2000",
        ),
        (
            [{"type": "actions", "elements": [button("b", f"a{i}") for i in range(26)]}],
            "blocks[0].elements: 26 items; a actions allows at most 25",
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "blocks[0].elements: 11 items; a context allows at most 10",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "placeholder": plain("p"),
                            "options": [{"text": plain("o" * 76), "value": "v" * 151}],
                        }
                    ],
                }
            ],
            "blocks[0].elements[0].options[0].text: 76 characters; an option allows at most 75",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "placeholder": plain("p"),
                            "options": [{"text": plain("o"), "value": str(i)} for i in range(101)],
                        }
                    ],
                }
            ],
            "blocks[0].elements[0].options: 101 items; a static_select allows at most 100",
        ),
        ([{"type": "carousel_of_doom"}], "blocks[0]: unknown block type 'carousel_of_doom'"),
        (
            [{"type": "actions", "elements": [{"type": "slider", "action_id": "s"}]}],
            "blocks[0]: actions: unknown element type 'slider'",
        ),
        ([section("x", txt="typo")], "blocks[0]: section: unknown field(s) txt"),
        ([section("a", block_id="same"), section("b", block_id="same")], "blocks[1]: duplicate block_id 'same'"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "*bold*"}}], "blocks[0].text: must be plain_text"),
    ],
)
def test_each_block_limit_is_enforced(blocks, expected):
    assert expected in check_blocks(blocks)


def test_option_values_over_150_fail():
    select = {
        "type": "static_select",
        "action_id": "s",
        "placeholder": plain("p"),
        "options": [{"text": plain("o"), "value": "v" * 151}],
    }
    assert check_blocks([{"type": "actions", "elements": [select]}]) == [
        "blocks[0].elements[0].options[0].value: 151 characters; an option allows at most 150"
    ]


def test_blocks_that_are_not_a_list_fail():
    assert check_blocks({"type": "divider"}) == ["blocks must be a list"]
    assert check_blocks("[not json") == ["blocks is not valid JSON"]


# -- views ---------------------------------------------------------------------------------------
def test_a_good_modal_and_home_pass():
    assert check_view(MODAL) == []
    assert check_view({"type": "home", "blocks": GOOD_BLOCKS}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": plain("t" * 25)}, "title must be 1-24 characters, not 25"),
        ({"submit": plain("s" * 25)}, "submit must be 1-24 characters, not 25"),
        ({"close": {"type": "mrkdwn", "text": "Cancel"}}, "close must be a plain_text object"),
        ({"private_metadata": "m" * 3001}, "private_metadata is 3001 characters; at most 3000"),
        ({"callback_id": "c" * 256}, "callback_id is 256 characters; at most 255"),
        ({"type": "dialog"}, "view type must be modal or home, not 'dialog'"),
        ({"blocks": [{"type": "divider"}] * 101}, "101 blocks; a modal allows at most 100"),
    ],
)
def test_each_view_rule_is_enforced(change, expected):
    assert expected in check_view({**MODAL, **change})


def test_a_time_picker_in_a_modal_passes_and_a_broken_one_fails():
    from messages import blocks as b

    picker = b.input_block("meeting_time", "Time", b.timepicker("14:30", timezone="America/New_York"))
    assert check_view({**MODAL, "blocks": [picker]}) == []
    broken = {**picker, "element": {**picker["element"], "initial_time": "2:30pm"}}
    assert check_view({**MODAL, "blocks": [broken]})


def test_a_modal_with_inputs_needs_submit():
    without_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    assert check_view(without_submit) == ["a modal with an input block needs submit"]


# -- ack bodies ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"response_action": "errors", "errors": {"name": "Enter a name"}},
        {"response_action": "update", "view": MODAL},
        {"response_action": "push", "view": MODAL},
        {"response_action": "clear"},
        {"response_type": "ephemeral", "text": "Done", "blocks": GOOD_BLOCKS},
        {"options": [{"text": plain("Acme"), "value": "onb:1"}]},
    ],
)
def test_good_ack_bodies_pass(body):
    assert check_ack_body(body) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"response_action": "close"}, "unknown response_action 'close'"),
        (
            {"response_action": "errors", "errors": {}},
            "response_action errors needs a non-empty errors object keyed by block_id",
        ),
        ({"response_action": "update"}, "response_action update needs a view"),
        (
            {"response_action": "push", "view": {**MODAL, "title": plain("t" * 25)}},
            "title must be 1-24 characters, not 25",
        ),
        (
            {"response_type": "in_channel", "blocks": [{"type": "divider"}] * 51},
            "51 blocks; a message allows at most 50",
        ),
        ({"response_type": "everyone", "text": "hi"}, "unknown response_type 'everyone'"),
    ],
)
def test_bad_ack_bodies_fail(body, expected):
    assert expected in check_ack_body(body)


# -- manifest ------------------------------------------------------------------------------------
MANIFEST = {
    "display_information": {"name": "Onboard Bot"},
    "features": {"bot_user": {"display_name": "onboard-bot", "always_online": True}},
    "oauth_config": {"scopes": {"bot": ["chat:write", "commands"]}},
    "settings": {"socket_mode_enabled": True, "interactivity": {"is_enabled": True}},
}


@pytest.mark.parametrize("metadata", [None, {"major_version": 1}, {"major_version": 2}])
def test_a_minimal_manifest_passes(tmp_path, metadata):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({**MANIFEST, **({"_metadata": metadata} if metadata else {})}))
    assert check_manifest(path) == []


def test_an_invalid_manifest_fails(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps({**MANIFEST, "display_information": {"name": ""}, "oauth_config": {"scopes": {"bot": "chat:write"}}})
    )
    problems = check_manifest(path)
    assert any(p.startswith("manifest.json: display_information/name:") for p in problems)
    assert any(p.startswith("manifest.json: oauth_config/scopes/bot:") for p in problems)


def test_a_manifest_without_display_information_or_of_an_unknown_version_fails(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"features": {}}))
    assert check_manifest(path) == ["manifest.json: (top level): 'display_information' is a required property"]
    path.write_text(json.dumps({**MANIFEST, "_metadata": {"major_version": 3}}))
    assert check_manifest(path) == ["manifest.json: _metadata.major_version 3 is not 1 or 2"]
