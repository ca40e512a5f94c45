"""Checks applied to everything the app sends Slack: Web API calls, ack bodies, the app manifest.

Each check returns a list of problems (empty when fine), so a test can collect them from every
recorded call and fail once with all of them. Web API calls are checked against Slack's published
OpenAPI spec, Block Kit through slack_sdk's models plus Slack's documented limits, and the manifest
against Slack's manifest JSON schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement


def specs_dir() -> Path:
    return Path(os.environ.get("SLACK_SPECS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "slack-specs")


# -- Web API calls -------------------------------------------------------------------------------
# Methods Slack added after the 2020 spec, with their required arguments.
NEWER_METHODS: dict[str, set[str]] = {
    "apps.connections.open": set(),  # app-level token only
    "files.getUploadURLExternal": {"filename", "length"},
    "files.completeUploadExternal": {"files"},
}
# Required in Slack's method reference although the 2020 spec leaves them optional.
ALSO_REQUIRED: dict[str, set[str]] = {
    "users.info": {"user"},
    "conversations.info": {"channel"},
    "conversations.members": {"channel"},
    "conversations.history": {"channel"},
    "conversations.replies": {"channel", "ts"},
    "conversations.join": {"channel"},
    "chat.delete": {"channel", "ts"},
    "chat.scheduleMessage": {"channel", "post_at"},
    "views.update": {"view"},
    "pins.add": {"timestamp"},
}
# At least one argument of each group must be present; a group replaces the spec's own requirement
# on its members (views.open takes an interactivity_pointer in place of a trigger_id).
ONE_OF: dict[str, list[tuple[str, ...]]] = {
    "chat.postMessage": [("text", "blocks", "attachments")],
    "chat.postEphemeral": [("text", "blocks", "attachments")],
    "chat.update": [("text", "blocks", "attachments")],
    "chat.scheduleMessage": [("text", "blocks", "attachments")],
    "views.open": [("trigger_id", "interactivity_pointer")],
    "views.push": [("trigger_id", "interactivity_pointer")],
    "views.update": [("view_id", "external_id")],
}
# Web API arguments that carry a JSON document (as a JSON body value or a JSON-encoded string).
JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")


@lru_cache(maxsize=1)
def _spec_required() -> dict[str, set[str]]:
    spec = json.loads((specs_dir() / "web-api.openapi.json").read_text(encoding="utf-8"))
    required: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        names = required.setdefault(path.lstrip("/"), set())
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            names.update(p["name"] for p in parameters if p.get("required") and p["name"] != "token")
    return required


def check_call(method: str, args: dict[str, Any]) -> list[str]:
    known = {**_spec_required(), **NEWER_METHODS}
    if method not in known:
        return [f"{method} is not a Slack Web API method"]
    groups = ONE_OF.get(method, [])
    grouped = {name for group in groups for name in group}
    required = (known[method] | ALSO_REQUIRED.get(method, set())) - grouped
    present = {k for k, v in args.items() if v not in (None, "")}
    problems = [f"missing required argument {name!r}" for name in sorted(required - present)]
    problems += [f"needs one of {', '.join(group)}" for group in groups if not present & set(group)]
    return problems


def check_recorded_call(call: Any) -> list[str]:
    """Check a FakeSlack Call: the method and its arguments, and the Block Kit, views and metadata in it.

    Problems do not repeat the method name; callers add it when they report.
    """
    args, method = call.args, call.method
    problems: list[str] = []
    for name in JSON_ARGS:
        if isinstance(args.get(name), str) and args[name].strip():
            try:
                args = {**args, name: json.loads(args[name])}
            except ValueError:
                problems.append(f"{name} is not valid JSON")
    if method == "response_url":
        return problems + _check_message_body(args)
    problems += check_call(method, args)
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"):
        problems += _check_message_body(args)
    if method in ("views.open", "views.push", "views.update", "views.publish") and args.get("view") is not None:
        problems += check_view(args["view"])
    if method == "files.completeUploadExternal" and args.get("blocks"):
        problems += check_blocks(args["blocks"])
    problems += _check_upload(method, args)
    return problems


def _check_upload(method: str, args: dict[str, Any]) -> list[str]:
    """The upload flow's own shape: a positive byte length asked for; files completed by id."""
    if method == "files.getUploadURLExternal":
        length = args.get("length")
        if not str(length).isdigit() or int(length) <= 0:
            return ["length must be the file's size in bytes, a positive whole number"]
    if method == "files.completeUploadExternal":
        files = args.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return ["files must be a non-empty list of objects with an id"]
    return []


def _check_message_body(body: dict[str, Any]) -> list[str]:
    problems = check_blocks(body["blocks"]) if body.get("blocks") is not None else []
    if len(body.get("text") or "") > 40_000:
        problems.append("text is longer than 40000 characters")
    if body.get("metadata") is not None:
        problems += check_metadata(body["metadata"])
    return problems


def check_metadata(metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return ["metadata must be an object with event_type and event_payload"]
    problems = []
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        problems.append("metadata.event_type must be a non-empty string")
    if not isinstance(metadata.get("event_payload"), dict):
        problems.append("metadata.event_payload must be an object")
    return problems


def problem_collector(problems: list[str]) -> Callable[[Any], None]:
    """A FakeSlack listener that appends the problems of every recorded call to `problems`."""

    def listen(call: Any) -> None:
        problems.extend(f"{call.method}: {p}" for p in check_recorded_call(call))

    return listen


# -- Block Kit -----------------------------------------------------------------------------------
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
ID_LIMIT = 255  # action_id, block_id, callback_id, external_id
# (element type, field) -> most characters in that field's text (a text object or a string)
TEXT_LIMITS: dict[tuple[str, str], int] = {
    ("section", "text"): 3000,
    ("header", "text"): 150,
    ("button", "text"): 75,
    ("button", "value"): 2000,
    ("button", "url"): 3000,
    ("input", "label"): 2000,
    ("input", "hint"): 2000,
    ("image", "image_url"): 3000,
    ("image", "alt_text"): 2000,
    ("image", "title"): 2000,
}
# (element type, field) -> most items in that list
LIST_LIMITS: dict[tuple[str, str], int] = {
    ("section", "fields"): 10,
    ("actions", "elements"): 25,
    ("context", "elements"): 10,
    ("static_select", "options"): 100,
    ("static_select", "option_groups"): 100,
    ("multi_static_select", "options"): 100,
    ("multi_static_select", "option_groups"): 100,
    ("overflow", "options"): 5,
    ("radio_buttons", "options"): 10,
    ("checkboxes", "options"): 10,
}
PLAIN_TEXT_ONLY = {("header", "text"), ("button", "text"), ("input", "label"), ("input", "hint")}
SECTION_FIELD_LIMIT = 2000
OPTION_TEXT_LIMIT, OPTION_VALUE_LIMIT = 75, 150


def check_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks is not valid JSON"]
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = []
    if len(blocks) > MAX_BLOCKS[surface]:
        problems.append(f"{len(blocks)} blocks; a {surface} allows at most {MAX_BLOCKS[surface]}")
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not an object")
            continue
        problems += [f"{where}: {p}" for p in _parse_block(raw)]
        problems += _walk(raw, where)
        block_id = raw.get("block_id")
        if block_id is not None and block_id in block_ids:
            problems.append(f"{where}: duplicate block_id {block_id!r}")
        block_ids.add(block_id)
        action_ids = [e.get("action_id") for e in _elements(raw) if e.get("action_id")]
        if len(action_ids) != len(set(action_ids)):
            problems.append(f"{where}: duplicate action_id within the block")
    return problems


def _parse_block(raw: dict) -> list[str]:
    problems: list[str] = []
    try:
        block = Block.parse(raw)
        if block is None:
            return [f"unknown block type {raw.get('type')!r}"]
        unknown = set(raw) - block.attributes
        problems += [f"{raw['type']}: unknown field(s) {', '.join(sorted(unknown))}"] if unknown else []
        if raw["type"] != "rich_text":
            problems += [
                f"{raw['type']}: unknown element type {e.get('type')!r}"
                for e in _elements(raw)
                if BlockElement.parse(e) is None
            ]
        block.to_dict()  # runs validate_json on the block and everything inside it
    except SlackObjectFormationError as exc:
        return [*problems, f"{raw.get('type')}: {exc}"]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return [f"{raw.get('type')}: cannot be parsed ({exc})"]
    return problems


def _elements(block: dict) -> list[dict]:
    found = [e for e in block.get("elements") or [] if isinstance(e, dict)]
    found += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
    return found


def _text_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("text") if isinstance(value.get("text"), str) else None
    return value if isinstance(value, str) else None


def _walk(node: Any, where: str) -> list[str]:
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _walk(item, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    problems = []
    kind = node.get("type")
    for key in ("action_id", "block_id", "callback_id", "external_id"):
        if isinstance(node.get(key), str) and len(node[key]) > ID_LIMIT:
            problems.append(f"{where}.{key}: {len(node[key])} characters; at most {ID_LIMIT}")
    if kind in ("plain_text", "mrkdwn") and node.get("text") == "":
        problems.append(f"{where}: empty text")
    for (element, key), limit in TEXT_LIMITS.items():
        text = _text_of(node.get(key)) if kind == element else None
        if text is not None and len(text) > limit:
            problems.append(f"{where}.{key}: {len(text)} characters; a {element} allows at most {limit}")
    for element, key in PLAIN_TEXT_ONLY:
        if kind == element and isinstance(node.get(key), dict) and node[key].get("type") != "plain_text":
            problems.append(f"{where}.{key}: must be plain_text")
    for (element, key), limit in LIST_LIMITS.items():
        if kind == element and isinstance(node.get(key), list) and len(node[key]) > limit:
            problems.append(f"{where}.{key}: {len(node[key])} items; a {element} allows at most {limit}")
    if kind == "section":
        for i, text in enumerate(_text_of(f) for f in node.get("fields") or []):
            if text is not None and len(text) > SECTION_FIELD_LIMIT:
                problems.append(f"{where}.fields[{i}]: {len(text)} characters; at most {SECTION_FIELD_LIMIT}")
    for i, option in enumerate(node.get("options") or []):
        problems += _check_option(option, f"{where}.options[{i}]")
    for key, value in node.items():
        if isinstance(value, (dict, list)):
            problems += _walk(value, f"{where}.{key}")
    return problems


def _check_option(option: Any, where: str) -> list[str]:
    if not isinstance(option, dict):
        return [f"{where}: not an object"]
    problems = []
    text, value = _text_of(option.get("text")), option.get("value")
    if text is not None and len(text) > OPTION_TEXT_LIMIT:
        problems.append(f"{where}.text: {len(text)} characters; an option allows at most {OPTION_TEXT_LIMIT}")
    if isinstance(value, str) and len(value) > OPTION_VALUE_LIMIT:
        problems.append(f"{where}.value: {len(value)} characters; an option allows at most {OPTION_VALUE_LIMIT}")
    return problems


# -- views and ack bodies --------------------------------------------------------------------------
VIEW_TEXT_LIMIT = 24  # modal title, submit, close
PRIVATE_METADATA_LIMIT = 3000


def check_view(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return ["view is not valid JSON"]
    if not isinstance(view, dict):
        return ["view must be an object"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type must be modal or home, not {kind!r}"]
    problems = []
    if kind == "modal" and not view.get("title"):
        problems.append("a modal needs a title")
    for key in ("title", "submit", "close"):
        if key not in view:
            continue
        if kind == "home":
            problems.append(f"a home view cannot have {key}")
        elif not isinstance(view[key], dict) or view[key].get("type") != "plain_text":
            problems.append(f"{key} must be a plain_text object")
        elif not 0 < len(view[key].get("text") or "") <= VIEW_TEXT_LIMIT:
            problems.append(f"{key} must be 1-{VIEW_TEXT_LIMIT} characters, not {len(view[key].get('text') or '')}")
    blocks = view.get("blocks")
    if blocks is None:
        problems.append("a view needs blocks")
    elif kind == "modal" and not view.get("submit") and any(_is_input(b) for b in blocks):
        problems.append("a modal with an input block needs submit")
    if len(view.get("private_metadata") or "") > PRIVATE_METADATA_LIMIT:
        size = len(view["private_metadata"])
        problems.append(f"private_metadata is {size} characters; at most {PRIVATE_METADATA_LIMIT}")
    for key in ("callback_id", "external_id"):
        if len(view.get(key) or "") > ID_LIMIT:
            problems.append(f"{key} is {len(view[key])} characters; at most {ID_LIMIT}")
    if blocks is not None:
        problems += check_blocks(blocks, surface=kind)
    return problems


def _is_input(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "input"


RESPONSE_ACTIONS = ("errors", "update", "push", "clear")


def check_ack_body(body: Any) -> list[str]:
    """Check what the app answers in the HTTP response: a command/action ack, a view_submission
    response_action, or an options list."""
    if body in (None, "", {}):
        return []
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return []  # a plain-text slash command reply
    if not isinstance(body, dict):
        return ["ack body must be an object"]
    if "response_action" in body:
        action = body["response_action"]
        if action not in RESPONSE_ACTIONS:
            return [f"unknown response_action {action!r}"]
        if action == "errors":
            errors = body.get("errors")
            if not isinstance(errors, dict) or not errors:
                return ["response_action errors needs a non-empty errors object keyed by block_id"]
            return [
                f"errors[{k!r}] must be a non-empty string"
                for k, v in errors.items()
                if not isinstance(v, str) or not v
            ]
        if action in ("update", "push"):
            if body.get("view") is None:
                return [f"response_action {action} needs a view"]
            view_problems = check_view(body["view"])
            if isinstance(body["view"], dict) and body["view"].get("type") != "modal":
                view_problems.append(f"response_action {action} needs a modal view")
            return view_problems
        return []
    if "options" in body or "option_groups" in body:
        options = body.get("options") or [o for g in body.get("option_groups") or [] for o in g.get("options") or []]
        problems = [f"{len(options)} options; at most 100"] if len(options) > 100 else []
        return problems + [p for i, o in enumerate(options) for p in _check_option(o, f"options[{i}]")]
    problems = []
    if body.get("response_type") not in (None, "ephemeral", "in_channel"):
        problems.append(f"unknown response_type {body['response_type']!r}")
    return problems + _check_message_body(body)


# -- app manifest ------------------------------------------------------------------------------
# The URLs Slack's top-level schema uses in its $refs, served here from the local copies.
MANIFEST_SCHEMA_URL = (
    "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{}.json"
)
MANIFEST_VERSIONS = {1: "1.0.0", 2: "2.0.0"}


@lru_cache(maxsize=1)
def _manifest_registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for version in MANIFEST_VERSIONS.values():
        contents = json.loads((specs_dir() / f"manifest.schema.{version}.json").read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        resources.append((MANIFEST_SCHEMA_URL.format(version), resource))
    return Registry().with_resources(resources)


def _load_manifest(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # only reached for YAML manifests

        return yaml.safe_load(text)
    return json.loads(text)


def check_manifest(path: str | os.PathLike[str]) -> list[str]:
    from jsonschema import Draft7Validator

    path = Path(path)
    try:
        manifest = _load_manifest(path)
    except ImportError:
        return [f"{path.name}: PyYAML is needed to read a YAML manifest"]
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError's common ground for our files
        return [f"{path.name}: cannot be parsed ({exc})"]
    except Exception as exc:
        return [f"{path.name}: cannot be read ({exc})"]
    if not isinstance(manifest, dict):
        return [f"{path.name}: a manifest must be an object"]
    metadata = manifest.get("_metadata")
    major = metadata.get("major_version", 1) if isinstance(metadata, dict) else 1
    if major not in MANIFEST_VERSIONS:
        return [f"{path.name}: _metadata.major_version {major!r} is not 1 or 2"]
    registry = _manifest_registry()
    # Slack's top-level schema picks the version itself; validating against the chosen version gives
    # the specific errors instead of "not valid under any of the given schemas".
    top = json.loads((specs_dir() / "manifest.schema.json").read_text(encoding="utf-8"))
    chosen = Draft7Validator({"$ref": MANIFEST_SCHEMA_URL.format(MANIFEST_VERSIONS[major])}, registry=registry)
    errors = sorted(chosen.iter_errors(manifest), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [_schema_error(path, e) for e in errors]
    if not problems:
        problems = [_schema_error(path, e) for e in Draft7Validator(top, registry=registry).iter_errors(manifest)]
    return problems


def _schema_error(path: Path, error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{path.name}: {where}: {error.message}"
