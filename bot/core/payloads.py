"""The typed state that travels through Slack (button values, option values, block ids,
`private_metadata`), with one encoding and one decoder.

Everything a person's client sends back is input: `decode` checks its kind, the number of its
fields and each field's type before anything reads it, and raises `BadPayload` otherwise. The
encoding is `<kind>:<field>:<field>...`, each field escaped so a `:` inside it cannot shift the
others. A milestone reference carries the milestone's version as the card showed it, so a click on
a card older than the store is recognised and refused rather than applied.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar, TypeVar, get_type_hints

from bot.core.domain import Act, Role, Stage


class BadPayload(ValueError):
    """What came back through Slack is not something the bot sent."""


# Longest field kept: a milestone key or a rule name is far shorter; anything longer is not ours.
FIELD_MAX = 200
_ESCAPES = {"%": "%25", ":": "%3A", "|": "%7C"}
_UNESCAPE = re.compile(r"%(25|3A|7C)")
_INT = re.compile(r"^(0|[1-9][0-9]{0,17})$")

P = TypeVar("P", bound="Payload")
_KINDS: dict[str, type[Payload]] = {}


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in text)


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


@dataclass(frozen=True)
class Payload:
    """A frozen dataclass of ints, strings and string enums with a short `KIND` tag."""

    KIND: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.KIND:
            if cls.KIND in _KINDS:
                raise TypeError(f"payload kind {cls.KIND!r} is used twice")
            _KINDS[cls.KIND] = cls

    def encode(self) -> str:
        values = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values.append(_escape(value.value if isinstance(value, Enum) else str(value)))
        return ":".join([self.KIND, *values])

    @classmethod
    def decode(cls: type[P], raw: str | None) -> P:
        found = decode(raw)
        if not isinstance(found, cls):
            raise BadPayload(f"expected a {cls.__name__}, got a {type(found).__name__}")
        return found


def decode(raw: str | None) -> Payload:
    """The payload `raw` encodes, or BadPayload when it is not one the bot could have sent."""
    if not isinstance(raw, str) or not raw:
        raise BadPayload("empty payload")
    kind, _, rest = raw.partition(":")
    cls = _KINDS.get(kind)
    if cls is None:
        raise BadPayload(f"unknown payload kind {kind!r}")
    fields = dataclasses.fields(cls)
    parts = rest.split(":") if rest else []
    if len(parts) != len(fields):
        raise BadPayload(f"{cls.__name__} takes {len(fields)} fields, got {len(parts)}")
    hints = get_type_hints(cls)
    values = {f.name: _field(hints[f.name], _unescape(part), f.name) for f, part in zip(fields, parts, strict=True)}
    return cls(**values)


def _field(kind: Any, text: str, name: str) -> Any:
    if len(text) > FIELD_MAX:
        raise BadPayload(f"{name} is too long")
    if kind is int:
        if not _INT.match(text):
            raise BadPayload(f"{name} is not a number")
        return int(text)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(text)
        except ValueError:
            raise BadPayload(f"{name} is not a known {kind.__name__}") from None
    if kind is str:
        return text
    raise TypeError(f"unsupported payload field type {kind!r}")


@dataclass(frozen=True)
class OnboardingRef(Payload):
    """One onboarding: My tasks, sign-off, the gate override, the App Home's card links."""

    KIND: ClassVar[str] = "o"
    onboarding_id: int


@dataclass(frozen=True)
class OnboardingForm(Payload):
    """A form about one onboarding (the gate override), and the channel it was opened from."""

    KIND: ClassVar[str] = "of"
    onboarding_id: int
    channel_id: str

    @classmethod
    def read(cls, raw: str | None) -> OnboardingForm:
        """This form's metadata; a bare OnboardingRef (forms opened before the channel was kept) has none."""
        found = decode(raw)
        if isinstance(found, OnboardingRef):
            return cls(found.onboarding_id, "")
        if not isinstance(found, cls):
            raise BadPayload(f"expected an {cls.__name__}, got a {type(found).__name__}")
        return found


@dataclass(frozen=True)
class StageRef(Payload):
    """A stage of an onboarding, as the card that offers to move on from it showed it."""

    KIND: ClassVar[str] = "s"
    onboarding_id: int
    stage: Stage


@dataclass(frozen=True)
class TeamPage(Payload):
    """A page of a team's onboardings, worst first: the team is the clicker's own (the onboardings
    naming them in `role`), read again at each click, so the value names nobody else's."""

    KIND: ClassVar[str] = "tp"
    role: Role
    page: int


@dataclass(frozen=True)
class MilestoneRef(Payload):
    KIND: ClassVar[str] = "m"
    onboarding_id: int
    milestone_id: int
    version: int


@dataclass(frozen=True)
class MilestoneForm(Payload):
    """A milestone's small form: the milestone as the card showed it, and the channel it was opened from."""

    KIND: ClassVar[str] = "mf"
    onboarding_id: int
    milestone_id: int
    version: int
    channel_id: str

    @property
    def milestone(self) -> MilestoneRef:
        return MilestoneRef(self.onboarding_id, self.milestone_id, self.version)


@dataclass(frozen=True)
class MilestoneChoice(Payload):
    """An act chosen for a milestone from a menu, or from the buttons offered when a form can't open.

    `reason` is a key of the fixed reasons those buttons offer ("" when none applies).
    """

    KIND: ClassVar[str] = "ma"
    act: Act
    onboarding_id: int
    milestone_id: int
    version: int
    reason: str = ""

    @property
    def milestone(self) -> MilestoneRef:
        return MilestoneRef(self.onboarding_id, self.milestone_id, self.version)

    @classmethod
    def of(cls, act: Act, ref: MilestoneRef, reason: str = "") -> MilestoneChoice:
        return cls(act, ref.onboarding_id, ref.milestone_id, ref.version, reason)


@dataclass(frozen=True)
class NoticeRef(Payload):
    """A reason to speak (for Snooze and "I'm on it"): onboarding, rule and subject."""

    KIND: ClassVar[str] = "n"
    onboarding_id: int
    rule: str
    subject: str


@dataclass(frozen=True)
class RatingChoice(Payload):
    """One score button of a finished stage's rating card."""

    KIND: ClassVar[str] = "r"
    onboarding_id: int
    stage: Stage
    score: int

    @property
    def stage_ref(self) -> StageRef:
        return StageRef(self.onboarding_id, self.stage)


class SnoozeSpan(StrEnum):
    ONE_DAY = "1d"
    THREE_DAYS = "3d"


@dataclass(frozen=True)
class SnoozeChoice(Payload):
    """One of the snooze menu's options: a reason to speak and for how long."""

    KIND: ClassVar[str] = "z"
    onboarding_id: int
    rule: str
    subject: str
    span: SnoozeSpan

    @property
    def notice(self) -> NoticeRef:
        return NoticeRef(self.onboarding_id, self.rule, self.subject)

    @classmethod
    def of(cls, ref: NoticeRef, span: SnoozeSpan) -> SnoozeChoice:
        return cls(ref.onboarding_id, ref.rule, ref.subject, span)


@dataclass(frozen=True)
class HandoverForm(Payload):
    """The handoff to the ongoing CSM: the onboarding, and the customer's timezone its times are read in."""

    KIND: ClassVar[str] = "ho"
    onboarding_id: int
    timezone: str
