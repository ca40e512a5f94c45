"""The Web API methods FakeSlack answers: one small function per method, registered by name.

Each handler takes the FakeSlack (its lock already held) and the call's arguments, and returns the
fields of an `ok: true` answer or raises SlackError with the error Slack would give.
"""

from __future__ import annotations

import base64
import copy
import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeSlack

METHODS: dict[str, Callable[[FakeSlack, dict], dict]] = {}
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
RESPONSE_URL_USES = 5


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


def method(name: str):
    def register(fn):
        METHODS[name] = fn
        return fn

    return register


def invalid_arguments(*messages: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


def require(args: dict, *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise invalid_arguments(*(f"[ERROR] missing required field: {n}" for n in missing))


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


# -- channels and messages ---------------------------------------------------------------------
def _channel(fake: FakeSlack, channel_id: str | None) -> dict:
    channel = fake.channels.get(channel_id or "")
    if channel is None and channel_id in fake.users:
        channel = fake.add_channel("D" + channel_id[1:], name=channel_id, is_private=True, members=[channel_id])
        channel.update(is_im=True, user=channel_id)
    if channel is None or (channel["is_private"] and not channel["bot_is_member"]):
        raise SlackError("channel_not_found")
    return channel


def _writable(fake: FakeSlack, channel_id: str | None) -> dict:
    channel = _channel(fake, channel_id)
    if channel["is_archived"]:
        raise SlackError("is_archived")
    if not channel["bot_is_member"]:
        raise SlackError("not_in_channel")
    return channel


def _readable(fake: FakeSlack, channel_id: str | None) -> dict:
    channel = _channel(fake, channel_id)
    if not channel["bot_is_member"]:
        raise SlackError("not_in_channel")
    return channel


def _find(fake: FakeSlack, channel_id: str, ts: str | None, error: str = "message_not_found") -> dict:
    for message in fake._messages.get(channel_id, []):
        if message["ts"] == ts:
            return message
    raise SlackError(error)


def check_blocks(blocks: Any, limit: int, pointer: str = "/blocks") -> None:
    if blocks is None:
        return
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
        raise SlackError(
            "invalid_blocks", response_metadata={"messages": [f"[ERROR] invalid blocks [json-pointer:{pointer}]"]}
        )
    if len(blocks) > limit:
        raise SlackError(
            "invalid_blocks",
            response_metadata={"messages": [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"]},
        )


def _check_content(args: dict) -> None:
    if not any(args.get(k) for k in ("text", "blocks", "attachments")):
        raise SlackError("no_text")
    if len(args.get("text") or "") > 40_000:
        raise SlackError("msg_too_long")
    check_blocks(args.get("blocks"), 50)
    metadata = args.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and metadata.get("event_type") and isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")


def store_message(
    fake: FakeSlack, channel_id: str, *, user: str, text: str | None, thread_ts: str | None = None, **fields: Any
) -> dict:
    message = {
        "type": "message",
        "user": user,
        "text": text or "",
        "ts": fake._next_ts(),
        "team": fake.users.get(user, {}).get("team_id", fake.vendor_team_id),
    }
    message.update({k: v for k, v in fields.items() if v is not None})
    if thread_ts:
        message["thread_ts"] = thread_ts
        parent = next((m for m in fake._messages[channel_id] if m["ts"] == thread_ts), None)
        if parent is not None:
            message["parent_user_id"] = parent["user"]
            parent.update(
                thread_ts=thread_ts,
                reply_count=parent.get("reply_count", 0) + 1,
                latest_reply=message["ts"],
                reply_users=sorted({*parent.get("reply_users", []), user}),
            )
    fake._messages[channel_id].append(message)
    return message


def _post_as_bot(fake: FakeSlack, channel_id: str, args: dict) -> dict:
    broadcast = _truthy(args.get("reply_broadcast")) and args.get("thread_ts")
    return store_message(
        fake,
        channel_id,
        user=fake.bot_user_id,
        text=args.get("text"),
        thread_ts=args.get("thread_ts"),
        blocks=args.get("blocks"),
        attachments=args.get("attachments"),
        metadata=args.get("metadata"),
        files=args.get("files"),
        bot_id=fake.bot_id,
        app_id=fake.app_id,
        subtype="thread_broadcast" if broadcast else None,
    )


def _public(message: dict, with_metadata: bool = True) -> dict:
    return {k: copy.deepcopy(v) for k, v in message.items() if with_metadata or k != "metadata"}


def _page(messages: list[dict], args: dict) -> dict:
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    inclusive = _truthy(args.get("inclusive"))
    picked = [
        m for m in messages if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)
    ]
    start = int(base64.b64decode(args["cursor"]).decode().split(":")[1]) if args.get("cursor") else 0
    end = start + int(args.get("limit") or 100)
    with_metadata = _truthy(args.get("include_all_metadata"))
    has_more = len(picked) > end
    return {
        "messages": [_public(m, with_metadata) for m in picked[start:end]],
        "has_more": has_more,
        "response_metadata": {"next_cursor": base64.b64encode(f"next:{end}".encode()).decode() if has_more else ""},
    }


def _conversation(fake: FakeSlack, channel: dict) -> dict:
    private, shared = channel["is_private"], channel["is_ext_shared"]
    conversation = {
        "id": channel["id"],
        "name": channel["name"],
        "name_normalized": channel["name"],
        "created": channel["created"],
        "is_channel": not private and not channel["is_im"],
        "is_group": private and not channel["is_im"],
        "is_im": channel["is_im"],
        "is_mpim": False,
        "is_private": private,
        "is_archived": channel["is_archived"],
        "is_general": False,
        "is_shared": shared,
        "is_ext_shared": shared,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": fake.vendor_team_id,
        "is_member": channel["bot_is_member"],
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }
    if shared:
        member_teams = (fake.users[u]["team_id"] for u in channel["members"] if u in fake.users)
        teams = sorted({fake.vendor_team_id, *member_teams})
        conversation.update(
            shared_team_ids=teams,
            connected_team_ids=teams,
            internal_team_ids=[],
            conversation_host_id=fake.vendor_team_id,
        )
    return conversation


# -- auth, chat ----------------------------------------------------------------------------------
@method("auth.test")
def auth_test(fake: FakeSlack, args: dict) -> dict:
    return {
        "url": f"https://{fake.team_domain}.slack.com/",
        "team": fake.team_domain.title(),
        "user": "onboard-bot",
        "team_id": fake.vendor_team_id,
        "user_id": fake.bot_user_id,
        "bot_id": fake.bot_id,
        "is_enterprise_install": False,
    }


@method("chat.postMessage")
def chat_post_message(fake: FakeSlack, args: dict) -> dict:
    channel = _writable(fake, args.get("channel"))
    _check_content(args)
    message = _post_as_bot(fake, channel["id"], args)
    return {"channel": channel["id"], "ts": message["ts"], "message": _public(message)}


@method("chat.postEphemeral")
def chat_post_ephemeral(fake: FakeSlack, args: dict) -> dict:
    channel = _writable(fake, args.get("channel"))
    require(args, "user")
    if args["user"] not in channel["members"]:
        raise SlackError("user_not_in_channel")
    _check_content(args)
    return {"message_ts": fake._next_ts()}


@method("chat.update")
def chat_update(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    message = _find(fake, channel["id"], args.get("ts"))
    if message["user"] != fake.bot_user_id:
        raise SlackError("cant_update_message")
    _check_content(args)
    for key in ("text", "blocks", "attachments", "metadata"):
        if args.get(key) is not None:
            message[key] = args[key]
    message["edited"] = {"user": fake.bot_user_id, "ts": fake._next_ts()}
    return {"channel": channel["id"], "ts": message["ts"], "text": message["text"], "message": _public(message)}


@method("chat.delete")
def chat_delete(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    message = _find(fake, channel["id"], args.get("ts"))
    if message["user"] != fake.bot_user_id:
        raise SlackError("cant_delete_message")
    fake._messages[channel["id"]].remove(message)
    return {"channel": channel["id"], "ts": message["ts"]}


@method("chat.getPermalink")
def chat_get_permalink(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    message = _find(fake, channel["id"], args.get("message_ts"))
    link = f"https://{fake.team_domain}.slack.com/archives/{channel['id']}/p{message['ts'].replace('.', '')}"
    return {"channel": channel["id"], "permalink": link}


# -- conversations, users ------------------------------------------------------------------------
@method("conversations.info")
def conversations_info(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    conversation = _conversation(fake, channel)
    if _truthy(args.get("include_num_members")):
        conversation["num_members"] = len(channel["members"]) + channel["bot_is_member"]
    return {"channel": conversation}


@method("conversations.members")
def conversations_members(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    members = channel["members"] + ([fake.bot_user_id] if channel["bot_is_member"] else [])
    return {"members": members, "response_metadata": {"next_cursor": ""}}


@method("conversations.invite")
def conversations_invite(fake: FakeSlack, args: dict) -> dict:
    require(args, "channel", "users")
    channel = _writable(fake, args.get("channel"))
    users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
    if not users:
        raise SlackError("no_user")
    for user in users:
        if user == fake.bot_user_id:
            raise SlackError("cant_invite_self")
        if user not in fake.users:
            raise SlackError("user_not_found")
    if all(u in channel["members"] for u in users):
        raise SlackError("already_in_channel")
    channel["members"].extend(u for u in users if u not in channel["members"])
    return {"channel": _conversation(fake, channel)}


@method("conversations.history")
def conversations_history(fake: FakeSlack, args: dict) -> dict:
    channel = _readable(fake, args.get("channel"))
    top = [
        m
        for m in fake._messages[channel["id"]]
        if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
    ]
    return {**_page(top[::-1], args), "pin_count": sum("pinned_to" in m for m in top)}


@method("conversations.replies")
def conversations_replies(fake: FakeSlack, args: dict) -> dict:
    channel = _readable(fake, args.get("channel"))
    parent = _find(fake, channel["id"], args.get("ts"), error="thread_not_found")
    replies = [m for m in fake._messages[channel["id"]] if m.get("thread_ts") == parent["ts"] and m is not parent]
    return _page([parent, *replies], args)


@method("conversations.join")
def conversations_join(fake: FakeSlack, args: dict) -> dict:
    channel = _channel(fake, args.get("channel"))
    if channel["is_private"]:
        raise SlackError("method_not_supported_for_channel_type")
    if channel["is_archived"]:
        raise SlackError("is_archived")
    answer: dict[str, Any] = {}
    if channel["bot_is_member"]:
        answer = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    channel["bot_is_member"] = True
    return {"channel": _conversation(fake, channel), **answer}


@method("conversations.open")
def conversations_open(fake: FakeSlack, args: dict) -> dict:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise SlackError("invalid_arguments" if users else "users_list_not_supplied")
    if users[0] not in fake.users:
        raise SlackError("user_not_found")
    channel = _channel(fake, users[0])
    return (
        {"channel": {"id": channel["id"]}}
        if not _truthy(args.get("return_im"))
        else {"channel": _conversation(fake, channel)}
    )


@method("users.info")
def users_info(fake: FakeSlack, args: dict) -> dict:
    user = fake.users.get(args.get("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": copy.deepcopy(user)}


@method("users.lookupByEmail")
def users_lookup_by_email(fake: FakeSlack, args: dict) -> dict:
    require(args, "email")
    wanted = args["email"].lower()
    for user in fake.users.values():
        if user["profile"].get("email", "").lower() == wanted:
            return {"user": copy.deepcopy(user)}
    raise SlackError("users_not_found")


# -- pins, reactions, socket mode, files ---------------------------------------------------------
@method("pins.add")
def pins_add(fake: FakeSlack, args: dict) -> dict:
    channel = _readable(fake, args.get("channel"))
    message = _find(fake, channel["id"], args.get("timestamp"))
    if "pinned_to" in message:
        raise SlackError("already_pinned")
    message["pinned_to"] = [channel["id"]]
    return {}


@method("reactions.add")
def reactions_add(fake: FakeSlack, args: dict) -> dict:
    require(args, "name")
    channel = _readable(fake, args.get("channel"))
    message = _find(fake, channel["id"], args.get("timestamp"))
    reactions = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == args["name"]), None)
    if reaction is None:
        reaction = {"name": args["name"], "users": [], "count": 0}
        reactions.append(reaction)
    if fake.bot_user_id in reaction["users"]:
        raise SlackError("already_reacted")
    reaction["users"].append(fake.bot_user_id)
    reaction["count"] += 1
    return {}


@method("apps.connections.open")
def apps_connections_open(fake: FakeSlack, args: dict) -> dict:
    return {"url": f"ws://{fake.host}:{fake.port}/link/?ticket={next(fake._seq)}&app_id={fake.app_id}"}


@method("files.getUploadURLExternal")
def files_get_upload_url_external(fake: FakeSlack, args: dict) -> dict:
    require(args, "filename", "length")
    file_id = fake._new_id("F")
    fake._files[file_id] = {
        "id": file_id,
        "name": args["filename"],
        "title": args["filename"],
        "mimetype": mimetypes.guess_type(args["filename"])[0] or "application/octet-stream",
        "size": int(args["length"]),
        "user": fake.bot_user_id,
        "content": None,
    }
    return {"upload_url": f"{fake.root_url}/upload/v1/{file_id}", "file_id": file_id}


def receive_upload(fake: FakeSlack, file_id: str, data: bytes) -> dict:
    if file_id not in fake._files:
        raise SlackError("file_not_found")
    if len(data) != fake._files[file_id]["size"]:
        raise SlackError("invalid_length")  # the bytes must be the length asked for
    fake._files[file_id]["content"] = data
    return {}


@method("files.completeUploadExternal")
def files_complete_upload_external(fake: FakeSlack, args: dict) -> dict:
    require(args, "files")
    if not isinstance(args["files"], list) or any(f.get("id") not in fake._files for f in args["files"]):
        raise SlackError("file_not_found")
    files = []
    for f in args["files"]:
        record = fake._files[f["id"]]
        record["title"] = f.get("title") or record["title"]
        files.append({k: v for k, v in record.items() if k != "content"})
    if args.get("channel_id"):
        channel = _writable(fake, args["channel_id"])
        _post_as_bot(
            fake,
            channel["id"],
            {
                "text": args.get("initial_comment"),
                "thread_ts": args.get("thread_ts"),
                "blocks": args.get("blocks"),
                "files": files,
            },
        )
    return {"files": files}


def post_to_response_url(fake: FakeSlack, key: str, body: dict) -> dict:
    target = fake._response_urls.get(key)
    if target is None:
        raise SlackError("expired_url")
    if target["uses"] >= RESPONSE_URL_USES:
        raise SlackError("used_url")
    target["uses"] += 1
    channel_id, ts = target["channel"], target["ts"]
    if (_truthy(body.get("delete_original")) or _truthy(body.get("replace_original"))) and not (channel_id and ts):
        raise SlackError("no_original_message")
    if _truthy(body.get("delete_original")):
        fake._messages[channel_id].remove(_find(fake, channel_id, ts))
    elif _truthy(body.get("replace_original")):
        message = _find(fake, channel_id, ts)
        message.update({k: body[k] for k in ("text", "blocks", "attachments") if k in body})
    elif body.get("response_type") == "in_channel" and channel_id:
        _post_as_bot(fake, channel_id, body)
    return {}
