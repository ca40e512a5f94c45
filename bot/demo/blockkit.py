"""What the sandbox page's Block Kit renderer (static/blockkit.js) knows how to draw, and a walk of
a message or view that names every block, element and text object it would not."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from bot.demo.web import static_text

_KNOWN = re.compile(r"/\* known-elements \*/ const KNOWN = (\{.*?\}); /\* end known-elements \*/", re.S)


@cache
def known() -> dict[str, frozenset[str]]:
    """The renderer's own list: {"blocks": ..., "elements": ..., "texts": ...}."""
    found = _KNOWN.search(static_text("blockkit.js"))
    if found is None:
        raise RuntimeError("blockkit.js has no known-elements list")
    return {kind: frozenset(names) for kind, names in json.loads(found.group(1)).items()}


def unknown_in(blocks: Any, where: str = "blocks") -> list[str]:
    """Every block, element or text type in `blocks` that the renderer does not draw, with its path."""
    k = known()
    problems: list[str] = []

    def text(obj: Any, path: str) -> None:
        if isinstance(obj, dict) and obj.get("type") not in k["texts"]:
            problems.append(f"{path}: text {obj.get('type')!r}")

    def options(element: dict[str, Any], path: str) -> None:
        groups = element.get("option_groups") or []
        for i, option in enumerate(
            [*(element.get("options") or []), *(o for g in groups for o in g.get("options", []))]
        ):
            text(option.get("text"), f"{path}/options/{i}/text")

    def element(obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        if kind not in k["elements"]:
            problems.append(f"{path}: element {kind!r}")
            return
        for key in ("text", "placeholder"):
            text(obj.get(key), f"{path}/{key}")
        options(obj, path)

    for i, block in enumerate(blocks or []):
        path = f"{where}/{i}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in k["blocks"]:
            problems.append(f"{path}: block {kind!r}")
            continue
        for key in ("text", "label", "title", "hint"):
            text(block.get(key), f"{path}/{key}")
        for j, f in enumerate(block.get("fields") or []):
            text(f, f"{path}/fields/{j}")
        if block.get("accessory"):
            element(block["accessory"], f"{path}/accessory")
        if block.get("element"):
            element(block["element"], f"{path}/element")
        for j, e in enumerate(block.get("elements") or []):
            if kind == "context":
                if e.get("type") == "image":
                    element(e, f"{path}/elements/{j}")
                else:
                    text(e, f"{path}/elements/{j}")
            else:
                element(e, f"{path}/elements/{j}")
    return problems


def unknown_in_call(method: str, args: dict[str, Any]) -> list[str]:
    """The same walk over what one Web API call would show: a message's or a view's blocks."""
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
        return unknown_in(args.get("blocks"))
    if method in ("views.open", "views.push", "views.update", "views.publish"):
        view = args.get("view")
        return unknown_in(view.get("blocks"), "view/blocks") if isinstance(view, dict) else []
    return []
