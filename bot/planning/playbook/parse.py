"""Read one playbook file into a Playbook, collecting every problem with its line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.core.domain import STAGE_ORDER, ITDependency, Role, Side, Stage, Tier, Track
from bot.planning.playbook.graph import cycles
from bot.planning.playbook.locate import Locator, Path
from bot.planning.playbook.model import (
    DEFAULT_IT_DURATIONS,
    ExitCriterion,
    MilestoneSpec,
    PhaseSpec,
    Playbook,
    StageSpec,
)
from bot.planning.settings import DEFAULTS as DEFAULT_RULES
from bot.planning.settings import read_rules_table

TOP_FIELDS = {
    "key", "name", "description", "tiers", "length_days", "buffer_days",
    "it_durations", "stages", "milestones", "phases", "rules",
}  # fmt: skip
MILESTONE_FIELDS = {
    "key", "title", "stage", "track", "start_day", "due_day", "customer_owner",
    "vendor_owner", "client_verified", "depends_on", "requires_it", "first_value", "go_live",
    "completed_by_event",
}  # fmt: skip
STAGE_FIELDS = {"stage", "exit_criteria"}
CRITERION_FIELDS = {"text", "client_verified", "milestones"}
PHASE_FIELDS = {"key", "name", "completion_criteria"}

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SYNTAX_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_BAD: Any = object()


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.file}: {self.message}"


class PlaybookError(Exception):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("invalid playbooks:\n" + "\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Parsed:
    """A file's playbook (None when it has problems), its problems, and its key if it has one."""

    playbook: Playbook | None
    problems: list[Problem]
    key: str | None = None
    key_line: int = 1


def parse_text(text: str, file: str) -> Parsed:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Parsed(None, [_syntax_problem(str(exc), file, text)])
    loc = Locator(text)
    checker = _Checker(file, loc)
    playbook = checker.playbook(data)
    problems = sorted(set(checker.problems))
    key = data.get("key") if isinstance(data.get("key"), str) else None
    return Parsed(None if problems else playbook, problems, key, loc.line((), "key"))


def _syntax_problem(message: str, file: str, text: str) -> Problem:
    if m := _SYNTAX_AT.search(message):
        return Problem(file, int(m.group(1)), f"TOML syntax error: {message[: m.start()]} (column {m.group(2)})")
    line = max(1, len(text.splitlines()))
    return Problem(file, line, f"TOML syntax error: {message}")


def _choices(enum: Iterable[Any]) -> str:
    return ", ".join(str(e.value) for e in enum)


# value checks: None when fine, else what is wrong
def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _int(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) else "must be an integer (business days)"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _strings(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
    return None if ok else "must be a list of strings"


def _tables(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, dict) for x in v)
    return None if ok else "must be an array of tables"


def _key(v: Any) -> str | None:
    if not isinstance(v, str) or not _KEY_RE.match(v):
        return "must be lowercase letters, digits and underscores, starting with a letter"
    return None


@dataclass
class _Entry:
    """One [[milestones]] entry as far as it could be read."""

    index: int
    path: Path
    key: str | None
    depends_on: list[str]
    spec: MilestoneSpec | None


class _Checker:
    def __init__(self, file: str, loc: Locator) -> None:
        self.file = file
        self.loc = loc
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def field(
        self,
        table: dict[str, Any],
        path: Path,
        name: str,
        check: Callable[[Any], str | None],
        where: str,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        if name not in table:
            if required:
                self.add(self.loc.line(path), f"{where}: missing required field '{name}'")
                return _BAD
            return default
        value = table[name]
        if (error := check(value)) is not None:
            self.add(self.loc.line(path, name), f"{where}: '{name}' {error}")
            return _BAD
        return value

    def enum(self, table: dict[str, Any], path: Path, name: str, enum: type[Enum], what: str, where: str) -> Any:
        value = self.field(table, path, name, _text, where)
        if value is _BAD:
            return _BAD
        try:
            return enum(value)
        except ValueError:
            self.add(
                self.loc.line(path, name), f"{where}: unknown {what} '{value}' (expected one of: {_choices(enum)})"
            )
            return _BAD

    def unknown_fields(self, table: dict[str, Any], path: Path, allowed: set[str], where: str) -> None:
        for name in table:
            if name not in allowed:
                self.add(self.loc.line(path, name), f"{where}: unknown field '{name}'")

    def playbook(self, data: dict[str, Any]) -> Playbook | None:
        where = "playbook"
        self.unknown_fields(data, (), TOP_FIELDS, where)
        key = self.field(data, (), "key", _key, where)
        name = self.field(data, (), "name", _text, where)
        description = self.field(data, (), "description", _text, where, required=False, default="")
        tiers = self.tiers(data)
        length = self.field(data, (), "length_days", _int, where)
        if length is not _BAD and length < 1:
            self.add(self.loc.line((), "length_days"), "playbook: 'length_days' must be at least 1")
            length = _BAD
        buffer = self.field(data, (), "buffer_days", _int, where)
        if buffer is not _BAD and buffer < 0:
            self.add(self.loc.line((), "buffer_days"), "playbook: 'buffer_days' must not be negative")
            buffer = _BAD
        durations = self.it_durations(data)
        entries = self.milestones(data)
        specs = {e.key: e.spec for e in entries if e.key is not None and e.spec is not None}
        keys = {e.key for e in entries if e.key is not None}
        self.cross_check(entries)
        stages = self.stages(data, keys, specs)
        phases = self.phases(data, keys, specs)
        rules = self.rules(data, keys)
        parts = (key, name, description, tiers, length, buffer, durations, stages, phases, rules)
        if self.problems or any(p is _BAD for p in parts):
            return None
        playbook = Playbook(
            key=key,
            name=name,
            description=description,
            tiers=tiers,
            length_days=length,
            buffer_days=buffer,
            it_durations=durations,
            stages=stages,
            milestones=tuple(e.spec for e in entries if e.spec is not None),
            phases=phases,
            rules=rules,
            source=self.file,
        )
        self.fits_length(playbook)
        return playbook

    def tiers(self, data: dict[str, Any]) -> Any:
        raw = self.field(
            data, (), "tiers", lambda v: None if isinstance(v, list) and v else "must be a non-empty list", "playbook"
        )
        if raw is _BAD:
            return _BAD
        tiers = set()
        for value in raw:
            if isinstance(value, int) and not isinstance(value, bool) and value in Tier._value2member_map_:
                tiers.add(Tier(value))
            else:
                self.add(
                    self.loc.line((), "tiers"), f"playbook: unknown tier {value!r} (expected one of: {_choices(Tier)})"
                )
                return _BAD
        return frozenset(tiers)

    def it_durations(self, data: dict[str, Any]) -> Any:
        durations = dict(DEFAULT_IT_DURATIONS)
        raw = data.get("it_durations", {})
        path: Path = ("it_durations",)
        if not isinstance(raw, dict):
            self.add(self.loc.line((), "it_durations"), "playbook: 'it_durations' must be a table")
            return _BAD
        ok = True
        for name, value in raw.items():
            line = self.loc.line(path, name)
            try:
                dep = ITDependency(name)
            except ValueError:
                self.add(
                    line, f"it_durations: unknown IT dependency '{name}' (expected one of: {_choices(ITDependency)})"
                )
                ok = False
                continue
            valid = (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in value)
                and 1 <= value[0] <= value[1]
            )
            if not valid:
                self.add(line, f"it_durations: '{name}' must be [low, high] business days with 1 <= low <= high")
                ok = False
                continue
            durations[dep] = (value[0], value[1])
        return durations if ok else _BAD

    def rules(self, data: dict[str, Any], keys: set[str]) -> Any:
        """The optional [rules] table: the rules engine's defaults, overridden for this playbook."""
        if "rules" not in data:
            return DEFAULT_RULES
        path: Path = ("rules",)
        overrides, problems = read_rules_table(data["rules"])
        for name, message in problems:
            line = self.loc.line((), "rules") if name is None else self.loc.line(path, name)
            self.add(line, f"rules: {message}")
        recap = overrides.get("kickoff_recap_milestone")
        if recap is not None and keys and recap not in keys:
            self.add(
                self.loc.line(path, "kickoff_recap_milestone"),
                f"rules: 'kickoff_recap_milestone' names unknown milestone '{recap}'",
            )
            return _BAD
        return _BAD if problems else DEFAULT_RULES.with_overrides(overrides)

    def milestones(self, data: dict[str, Any]) -> list[_Entry]:
        raw = self.field(data, (), "milestones", _tables, "playbook")
        if raw is _BAD:
            return []
        return [self.milestone(i, m) for i, m in enumerate(raw)]

    def milestone(self, index: int, m: dict[str, Any]) -> _Entry:
        path: Path = ("milestones", index)
        key = self.field(m, path, "key", _key, f"milestone #{index + 1}")
        where = f"milestone '{key}'" if key is not _BAD else f"milestone #{index + 1}"
        self.unknown_fields(m, path, MILESTONE_FIELDS, where)
        title = self.field(m, path, "title", _text, where)
        stage = self.enum(m, path, "stage", Stage, "stage", where)
        track = self.enum(m, path, "track", Track, "track", where)
        customer = self.owner(m, path, "customer_owner", Side.CUSTOMER, where)
        vendor = self.owner(m, path, "vendor_owner", Side.VENDOR, where)
        verified = self.field(m, path, "client_verified", _bool, where)
        depends = self.field(m, path, "depends_on", _strings, where, required=False, default=[])
        first_value = self.field(m, path, "first_value", _bool, where, required=False, default=False)
        go_live = self.field(m, path, "go_live", _bool, where, required=False, default=False)
        by_event = self.field(m, path, "completed_by_event", _key, where, required=False, default=None)
        if go_live is True and by_event not in (None, _BAD):
            self.add(
                self.loc.line(path, "completed_by_event"),
                f"{where}: go-live is signed off by the sponsor, never completed by an event",
            )
        requires_it = None
        if "requires_it" in m:
            requires_it = self.enum(m, path, "requires_it", ITDependency, "IT dependency", where)
        start, due = self.days(m, path, where, due_required=requires_it is None)
        if first_value is True and verified is False:
            self.add(self.loc.line(path, "first_value"), f"{where}: the first value milestone must be client_verified")
        if go_live is True and verified is False:
            self.add(self.loc.line(path, "go_live"), f"{where}: the go-live milestone must be client_verified")
        parts = (
            key,
            title,
            stage,
            track,
            customer,
            vendor,
            verified,
            depends,
            first_value,
            go_live,
            requires_it,
            start,
            due,
            by_event,
        )
        spec = None
        if not any(p is _BAD for p in parts):
            spec = MilestoneSpec(
                key=key,
                title=title,
                stage=stage,
                track=track,
                start_day=start,
                due_day=due,
                customer_owner=customer,
                vendor_owner=vendor,
                client_verified=verified,
                depends_on=tuple(depends),
                requires_it=requires_it,
                first_value=first_value,
                go_live=go_live,
                completed_by_event=by_event,
            )
        return _Entry(
            index=index,
            path=path,
            key=None if key is _BAD else key,
            depends_on=[] if depends is _BAD else list(depends),
            spec=spec,
        )

    def owner(self, m: dict[str, Any], path: Path, name: str, side: Side, where: str) -> Any:
        role = self.enum(m, path, name, Role, "role", where)
        if role is not _BAD and role.side is not side:
            self.add(
                self.loc.line(path, name),
                f"{where}: '{name}' must be a {side.value}-side role, but '{role.value}' is on the {role.side.value} side",
            )
            return _BAD
        return role

    def days(self, m: dict[str, Any], path: Path, where: str, due_required: bool) -> tuple[Any, Any]:
        start = self.field(m, path, "start_day", _int, where)
        due = self.field(m, path, "due_day", _int, where, required=due_required, default=None)
        for name, value in (("start_day", start), ("due_day", due)):
            if isinstance(value, int) and value < 0:
                self.add(self.loc.line(path, name), f"{where}: '{name}' must not be negative (got {value})")
        if isinstance(start, int) and isinstance(due, int) and start >= 0 and due >= 0 and due < start:
            self.add(self.loc.line(path, "due_day"), f"{where}: due_day {due} is before start_day {start}")
        if any(isinstance(v, int) and v < 0 for v in (start, due)) or (
            isinstance(start, int) and isinstance(due, int) and due < start
        ):
            return _BAD, _BAD
        return start, due

    def cross_check(self, entries: list[_Entry]) -> None:
        first: dict[str, _Entry] = {}
        for e in entries:
            if e.key is None:
                continue
            if e.key in first:
                earlier = self.loc.line(first[e.key].path, "key")
                self.add(
                    self.loc.line(e.path, "key"), f"duplicate milestone key '{e.key}' (first defined on line {earlier})"
                )
            else:
                first[e.key] = e
        for e in entries:
            where = f"milestone '{e.key}'" if e.key else f"milestone #{e.index + 1}"
            for dep in e.depends_on:
                if dep not in first:
                    self.add(
                        self.loc.value_line(e.path, "depends_on", dep), f"{where}: depends on unknown milestone '{dep}'"
                    )
        graph = {k: [d for d in e.depends_on if d in first] for k, e in first.items()}
        for cycle in cycles(graph):
            self.add(
                self.loc.line(first[cycle[0]].path, "depends_on"),
                "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
            )
        specs = [e.spec for e in entries if e.spec is not None]
        for flag in ("first_value", "go_live"):
            marked = [e for e in entries if e.spec is not None and getattr(e.spec, flag)]
            if len(specs) == len(entries) and not marked:
                self.add(self.loc.line((), "milestones"), f"playbook: no milestone is marked {flag} = true")
            for extra in marked[1:]:
                self.add(self.loc.line(extra.path, flag), f"playbook: more than one milestone is marked {flag} = true")

    def criteria(self, raw: Any, path: Path, name: str, where: str, keys: set[str], specs: dict) -> Any:
        items = self.field(raw, path, name, _tables, where)
        if items is _BAD:
            return _BAD
        if not items:
            self.add(self.loc.line(path, name), f"{where}: needs at least one entry in '{name}'")
            return _BAD
        out = []
        for i, c in enumerate(items):
            cpath = (*path, name, i)
            cwhere = f"{where}, criterion #{i + 1}"
            self.unknown_fields(c, cpath, CRITERION_FIELDS, cwhere)
            text = self.field(c, cpath, "text", _text, cwhere)
            verified = self.field(c, cpath, "client_verified", _bool, cwhere)
            refs = self.field(c, cpath, "milestones", _strings, cwhere, required=False, default=[])
            if refs is _BAD:
                out.append(_BAD)
                continue
            for ref in refs:
                line = self.loc.value_line(cpath, "milestones", ref)
                if ref not in keys:
                    self.add(line, f"{cwhere}: refers to unknown milestone '{ref}'")
                elif verified is True and specs.get(ref) is not None and not specs[ref].client_verified:
                    self.add(line, f"{cwhere}: is client-verified but milestone '{ref}' is not")
            out.append(_BAD if _BAD in (text, verified) else ExitCriterion(text, verified, tuple(refs)))
        return _BAD if _BAD in out else tuple(out)

    def stages(self, data: dict[str, Any], keys: set[str], specs: dict) -> Any:
        raw = self.field(data, (), "stages", _tables, "playbook")
        if raw is _BAD:
            return _BAD
        found: list[StageSpec | Any] = []
        seen: dict[Stage, int] = {}
        for i, s in enumerate(raw):
            path: Path = ("stages", i)
            where = f"stage #{i + 1}"
            self.unknown_fields(s, path, STAGE_FIELDS, where)
            stage = self.enum(s, path, "stage", Stage, "stage", where)
            if stage is not _BAD:
                where = f"stage '{stage.value}'"
                line = self.loc.line(path, "stage")
                if stage in seen:
                    self.add(line, f"{where}: listed twice (first on line {seen[stage]})")
                    stage = _BAD
                else:
                    if seen and max(seen, key=lambda st: st.position).position > stage.position:
                        self.add(line, f"{where}: out of order; stages must follow {' -> '.join(STAGE_ORDER)}")
                    seen[stage] = line
            criteria = self.criteria(s, path, "exit_criteria", where, keys, specs)
            found.append(_BAD if _BAD in (stage, criteria) else StageSpec(stage, criteria))
        missing = [st for st in STAGE_ORDER if st not in seen]
        for st in missing:
            self.add(self.loc.line(("stages", 0)), f"playbook: missing stage '{st.value}'")
        if missing or _BAD in found:
            return _BAD
        return tuple(found)

    def phases(self, data: dict[str, Any], keys: set[str], specs: dict) -> Any:
        raw = self.field(data, (), "phases", _tables, "playbook", required=False, default=[])
        if raw is _BAD:
            return _BAD
        out = []
        for i, p in enumerate(raw):
            path: Path = ("phases", i)
            key = self.field(p, path, "key", _key, f"phase #{i + 1}")
            where = f"phase '{key}'" if key is not _BAD else f"phase #{i + 1}"
            self.unknown_fields(p, path, PHASE_FIELDS, where)
            name = self.field(p, path, "name", _text, where)
            criteria = self.criteria(p, path, "completion_criteria", where, keys, specs)
            out.append(_BAD if _BAD in (key, name, criteria) else PhaseSpec(key, name, criteria))
        return _BAD if _BAD in out else tuple(out)

    def fits_length(self, playbook: Playbook) -> None:
        from bot.planning.timeline import schedule_offsets

        slots = schedule_offsets(playbook.scoped(()), {d: hi for d, (_, hi) in playbook.it_durations.items()})
        go_live = slots[playbook.go_live_milestone.key].due
        if go_live > playbook.length_days:
            self.add(
                self.loc.line((), "length_days"),
                f"playbook: even without IT work the plan reaches go-live on business day {go_live} "
                f"(dependencies and {playbook.buffer_days} buffer days included), after length_days = {playbook.length_days}",
            )
