"""The views.* methods: modals opened with a single-use trigger id, views updated by id or
external_id with hash protection, and one published Home view per user."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING

from .methods import SlackError, check_blocks, invalid_arguments, method, require

if TYPE_CHECKING:
    from .server import FakeSlack

TRIGGER_LIFETIME = 3.0


def _view_arg(args: dict, *types: str) -> dict:
    require(args, "view")
    view = args["view"]
    if not isinstance(view, dict) or view.get("type") not in types:
        raise invalid_arguments(f"[ERROR] must be a {' or '.join(types)} view [json-pointer:/view/type]")
    check_blocks(view.get("blocks", []), 100, "/view/blocks")
    return view


def _exchange_trigger(fake: FakeSlack, args: dict) -> None:
    trigger = args.get("trigger_id") or args.get("interactivity_pointer")
    if not trigger:
        raise invalid_arguments("[ERROR] missing required field: trigger_id")
    if trigger in fake._used_triggers:
        raise SlackError("exchanged_trigger_id")
    issued = fake._triggers.get(trigger)
    if issued is not None and time.time() - issued > TRIGGER_LIFETIME:
        raise SlackError("expired_trigger_id")
    fake._used_triggers.add(trigger)


def _save_view(fake: FakeSlack, view: dict, *, current: dict | None = None) -> dict:
    view_id = current["id"] if current else fake._new_id("V")
    external_id = view.get("external_id", "")
    if external_id and any(v["external_id"] == external_id and v["id"] != view_id for v in fake._views.values()):
        raise SlackError("duplicate_external_id")
    saved = {
        "id": view_id,
        "team_id": fake.vendor_team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": external_id,
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{next(fake._seq):08d}",
        "clear_on_close": bool(view.get("clear_on_close")),
        "notify_on_close": bool(view.get("notify_on_close")),
        "root_view_id": current["root_view_id"] if current else view_id,
        "previous_view_id": current["previous_view_id"] if current else None,
        "app_id": fake.app_id,
        "app_installed_team_id": fake.vendor_team_id,
        "bot_id": fake.bot_id,
    }
    saved.update({k: view[k] for k in ("title", "submit", "close") if k in view})
    fake._views[view_id] = saved
    return copy.deepcopy(saved)


@method("views.open")
@method("views.push")
def views_open_or_push(fake: FakeSlack, args: dict) -> dict:
    view = _view_arg(args, "modal")
    _exchange_trigger(fake, args)
    return {"view": _save_view(fake, view)}


@method("views.update")
def views_update(fake: FakeSlack, args: dict) -> dict:
    view = _view_arg(args, "modal", "home")
    key = args.get("view_id") or args.get("external_id")
    if not key:
        raise invalid_arguments("[ERROR] either view_id or external_id is required")
    current = fake._views.get(key) or next((v for v in fake._views.values() if v["external_id"] == key), None)
    if current is None:
        raise SlackError("not_found")
    if args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    return {"view": _save_view(fake, view, current=current)}


@method("views.publish")
def views_publish(fake: FakeSlack, args: dict) -> dict:
    view = _view_arg(args, "home")
    require(args, "user_id")
    if args["user_id"] not in fake.users:
        raise SlackError("user_not_found")
    current = fake._views.get(fake._homes.get(args["user_id"], ""))
    if args.get("hash") and current and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    saved = _save_view(fake, view, current=current)
    fake._homes[args["user_id"]] = saved["id"]
    return {"view": saved}
