"""The human sentences of the value posts, from Jinja2 templates in messages/templates/.

Templates render in a sandboxed environment (a template can read the values it is given, never
reach into Python), with every `{{ value }}` escaped for mrkdwn by `messages.blocks.esc` unless the
bot built it as mrkdwn itself (`Mrkdwn`: mentions, links), and with each rendering clipped to its
cap so no block goes over Slack's limits. A team's own files in ONBOARD_TEMPLATES_DIR override the
shipped ones by file name; `onboard-bot templates validate DIR` checks them (file and line) before
they can reach a customer.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from messages.blocks import clip, esc

SHIPPED = Path(__file__).parent / "templates"
SUFFIX = ".md.j2"
# The longest any one rendering may be: a section's text is at most 3000 characters.
DEFAULT_CAP = 2900


class Mrkdwn(str):
    """Text the bot composed as mrkdwn itself (a mention, a link): rendered as it is."""


def _finalize(value: Any) -> Any:
    if isinstance(value, Mrkdwn):
        return value
    if value is None:
        return ""
    return esc(value)


def _day(value: date | None) -> str:
    return f"{value:%a %d %b %Y}" if value else "not yet"


def _environment(directory: Path | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(directory))] if directory else []
    env = SandboxedEnvironment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(SHIPPED))]),
        autoescape=False,  # mrkdwn is not HTML: _finalize escapes every value with esc instead
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["day"] = _day
    env.filters["percent"] = lambda v: "–" if v is None else f"{round(v * 100)}%"
    return env


@dataclass(frozen=True)
class Templates:
    directory: Path | None = None

    def render(self, template: str, /, *, cap: int = DEFAULT_CAP, **context: Any) -> str:
        text = _env(self.directory).get_template(template + SUFFIX).render(**context).strip()
        return clip(text, cap)


@lru_cache(maxsize=8)
def _env(directory: Path | None) -> SandboxedEnvironment:
    return _environment(directory)


SHIPPED_TEMPLATES = Templates()


def shipped_names() -> list[str]:
    return sorted(p.name.removesuffix(SUFFIX) for p in SHIPPED.glob("*" + SUFFIX))


def _line_of(exc: BaseException, path: Path) -> int:
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int) and lineno:
        return lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == str(path) and frame.lineno:
            return frame.lineno
    return 0


def validate_dir(directory: Path, samples: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every problem of a directory of templates, as `file:line: message`: a template the bot does not
    use, a syntax error, or a rendering that fails on sample values (an unknown variable, say)."""
    problems: list[str] = []
    files = sorted(directory.glob("*" + SUFFIX))
    if not files:
        return [f"{directory}: no *{SUFFIX} files"]
    known = set(shipped_names())
    env = _environment(directory)
    for path in files:
        name = path.name.removesuffix(SUFFIX)
        if name not in known:
            problems.append(f"{path}: not a template the bot uses (expected one of: {', '.join(sorted(known))})")
            continue
        try:
            template = env.get_template(path.name)
            template.render(**samples.get(name, {}))
        except TemplateSyntaxError as exc:
            problems.append(f"{path}:{exc.lineno}: {exc.message}")
        except TemplateError as exc:
            problems.append(f"{path}:{_line_of(exc, path)}: {exc.message or exc}")
        except Exception as exc:  # a sandbox refusal or a filter given the wrong kind of value
            problems.append(f"{path}:{_line_of(exc, path)}: {exc}")
    return problems
