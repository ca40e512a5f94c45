"""The sales-to-CS handoff: what the modal collects, step by step, and the rules each step checks.

Each `read_*` function turns one modal step's values into part of a `HandoffDraft` and returns the
problems keyed by block id, ready for Slack's `response_action: errors`. Nothing here touches Slack
or the store; the handler does the lookups (who is on which team, is the bot in the channel) and
passes the answers in.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from bot.core.account_ids import account_problem
from bot.core.domain import ITDependency, Role, Tier, tier_for_acv
from bot.core.forms import Form
from bot.core.ids import Field, person_field
from bot.core.money import AmountError, format_usd, parse_acv
from bot.core.payloads import BadPayload
from bot.core.signing import SEAL_LENGTH
from bot.core.text import problem

NAME_MAX = 120
EMAIL_MAX = 254
STORY_MAX = 3000
OTHER_IT_MAX = 300
ACV_MAX = 3000  # the plain input's own limit

CUSTOMER_ROLES: tuple[Role, ...] = (
    Role.ECONOMIC_BUYER,
    Role.EXECUTIVE_SPONSOR,
    Role.CHAMPION,
    Role.PROJECT_OWNER,
    Role.DAY_TO_DAY_OWNER,
    Role.IT_CONTACT,
)
# Known at signature in every deal: who paid and who pushed for it. The rest may come later;
# the readiness gate and "owner needed" flags say what is still missing.
REQUIRED_CUSTOMER_ROLES = (Role.ECONOMIC_BUYER, Role.CHAMPION)
VENDOR_FIELDS: dict[Role, Field] = {
    Role.IMPLEMENTATION_CSM: Field.CSM,
    Role.ACCOUNT_EXECUTIVE: Field.AE,
    Role.TECHNICAL_LEAD: Field.TECH_LEAD,
    Role.CSM_MANAGER: Field.MANAGER,
    Role.ESCALATION_CONTACT: Field.ESCALATION_CONTACT,
    Role.ONGOING_CSM: Field.ONGOING_CSM,
}
REQUIRED_VENDOR_ROLES = (Role.IMPLEMENTATION_CSM, Role.ACCOUNT_EXECUTIVE, Role.CSM_MANAGER)
STORY_FIELDS = (
    Field.SOLD,
    Field.COMMITMENTS,
    Field.SUCCESS_CRITERIA,
    Field.FIRST_VALUE,
    Field.FULL_VALUE,
    Field.CONCERNS,
    Field.POLITICAL_DYNAMICS,
)
REQUIRED_STORY = (Field.SOLD, Field.SUCCESS_CRITERIA, Field.FIRST_VALUE, Field.FULL_VALUE)
CAPACITY, AUTHORITY = "capacity", "authority"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Errors = dict[str, str]


@dataclass
class Contact:
    """A customer-side person: a Slack user, or a name (and email) for someone not in Slack yet."""

    role: str
    name: str
    slack_user_id: str | None = None
    email: str | None = None
    has_capacity: bool | None = None
    has_authority: bool | None = None


@dataclass
class HandoffDraft:
    customer_name: str = ""
    acv: str = "0"  # Decimal as text, so the draft stays JSON
    tier: int = Tier.STANDARD
    tier_overridden: bool = False
    playbook_key: str | None = None
    contract_signed: str = ""  # ISO dates
    signed_default: str = ""  # the contract date the form offered, before the customer's zone was known
    target_go_live: str = ""
    timezone: str = "UTC"
    it_dependencies: list[str] = field(default_factory=list)
    it_other: str = ""
    external_account_id: str = ""  # the product's id of the customer's account, as /onboard account-id sets

    shared_channel_id: str = ""
    internal_channel_id: str = ""
    shared_channel_external: bool = False
    vendor: dict[str, str] = field(default_factory=dict)  # role -> Slack user id
    names: dict[str, str] = field(default_factory=dict)  # Slack user id -> display name

    customer: list[Contact] = field(default_factory=list)

    story: dict[str, str] = field(default_factory=dict)  # Field value -> text

    @property
    def acv_amount(self) -> Decimal:
        return Decimal(self.acv)

    @property
    def contract_signed_on(self) -> date:
        return date.fromisoformat(self.contract_signed)

    @property
    def target_go_live_on(self) -> date:
        return date.fromisoformat(self.target_go_live)

    def contact(self, role: Role) -> Contact | None:
        return next((c for c in self.customer if c.role == role.value), None)

    def to_metadata(self) -> str:
        """The draft so far, for the next step's `private_metadata` (the story is the last step)."""
        data = asdict(self)
        data.pop("story")
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, raw: str | None) -> HandoffDraft:
        """The draft a step carried; BadPayload when it is not a draft this bot wrote."""
        try:
            data = json.loads(raw or "{}")
            if not isinstance(data, dict):
                raise TypeError("not an object")
            data["customer"] = [Contact(**c) for c in data.get("customer", [])]
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise BadPayload(f"not a handoff draft: {exc}") from None


def read_basics(form: Form, draft: HandoffDraft, *, today: date, known_playbooks: set[str]) -> Errors:
    errors: Errors = {}
    name = form.text(Field.CUSTOMER_NAME)
    if not name:
        errors[Field.CUSTOMER_NAME] = "Enter the customer's name."
    elif wrong := problem(name, NAME_MAX):
        errors[Field.CUSTOMER_NAME] = wrong
    draft.customer_name = name

    acv_text = form.text(Field.ACV)
    acv: Decimal | None = None
    if wrong := problem(acv_text, ACV_MAX):
        errors[Field.ACV] = wrong
    else:
        try:
            acv = parse_acv(acv_text)
            draft.acv = str(acv)
        except AmountError as exc:
            errors[Field.ACV] = str(exc)

    chosen_tier = form.option(Field.TIER)
    if chosen_tier:
        draft.tier, draft.tier_overridden = int(chosen_tier), True
    elif acv is not None:
        draft.tier, draft.tier_overridden = int(tier_for_acv(acv)), False
    if acv is not None and draft.tier == Tier.SELF_SERVE:
        errors[Field.TIER] = self_serve_problem(acv, chosen=draft.tier_overridden)

    playbook = form.option(Field.PLAYBOOK)
    if playbook and playbook not in known_playbooks:
        errors[Field.PLAYBOOK] = "That plan no longer exists; pick another."
    draft.playbook_key = playbook

    signed, go_live = form.date(Field.CONTRACT_SIGNED), form.date(Field.TARGET_GO_LIVE)
    if signed is not None and draft.signed_default and signed.isoformat() == draft.signed_default:
        # The date the form offered, untouched, means "today": today where the customer is, the
        # zone it is checked against (the form was drawn before that zone was chosen).
        signed = today
    if signed is None:
        errors[Field.CONTRACT_SIGNED] = "Pick the date the contract was signed."
    elif signed > today:
        errors[Field.CONTRACT_SIGNED] = "The contract date can't be in the future."
    if go_live is None:
        errors[Field.TARGET_GO_LIVE] = "Pick the go-live date agreed in the sale."
    elif signed is not None and go_live <= signed:
        errors[Field.TARGET_GO_LIVE] = "Go-live must come after the contract date."
    elif go_live <= today:
        errors[Field.TARGET_GO_LIVE] = "The go-live date must be in the future."
    draft.contract_signed = signed.isoformat() if signed else ""
    draft.target_go_live = go_live.isoformat() if go_live else ""

    draft.timezone = form.option(Field.TIMEZONE) or draft.timezone
    draft.it_dependencies = [d for d in form.options(Field.IT_DEPENDENCIES) if d in ITDependency._value2member_map_]
    draft.it_other = form.text(Field.IT_OTHER)
    if wrong := problem(draft.it_other, OTHER_IT_MAX):
        errors[Field.IT_OTHER] = wrong
    draft.external_account_id = form.text(Field.ACCOUNT_ID)
    if draft.external_account_id and (wrong := account_problem(draft.external_account_id)):
        errors[Field.ACCOUNT_ID] = wrong
    return errors


def self_serve_problem(acv: Decimal, *, chosen: bool) -> str:
    """Why a self-serve customer gets no onboarding here, in terms of what the person chose."""
    if chosen:
        suggested = tier_for_acv(acv)
        fits = (
            f" A contract of {format_usd(acv)} a year usually gets {suggested.label}."
            if suggested is not Tier.SELF_SERVE
            else ""
        )
        return (
            f"You chose {Tier.SELF_SERVE.label}: self-serve customers get no CSM-led onboarding, so there is "
            f"nothing to set up here.{fits} Choose another service level, or leave it empty to follow the "
            "contract value."
        )
    return (
        "Under $1,000 a year this customer is self-serve (no CSM-led onboarding). "
        "Choose a service level here to onboard them anyway."
    )


@dataclass(frozen=True)
class ChannelFacts:
    """What Slack says about a channel the person picked."""

    exists: bool
    bot_is_member: bool
    is_ext_shared: bool
    name: str = ""


def read_team(
    form: Form,
    draft: HandoffDraft,
    *,
    channels: dict[str, ChannelFacts],
    user_names: dict[str, str],
    user_teams: dict[str, str | None],
    vendor_team_id: str,
) -> Errors:
    """Channels and vendor people. `user_teams` maps each picked user to their home team."""
    errors: Errors = {}
    shared, internal = form.conversation(Field.SHARED_CHANNEL), form.conversation(Field.INTERNAL_CHANNEL)
    if not shared:
        errors[Field.SHARED_CHANNEL] = "Pick the channel you share with the customer."
    if not internal:
        errors[Field.INTERNAL_CHANNEL] = "Pick the vendor-only channel for this customer."
    if shared and internal and shared == internal:
        errors[Field.INTERNAL_CHANNEL] = "The internal channel must be a different, vendor-only channel."
    for block, channel in ((Field.SHARED_CHANNEL, shared), (Field.INTERNAL_CHANNEL, internal)):
        facts = channels.get(channel or "")
        if channel and block not in errors:
            if facts is None or not facts.exists:
                errors[block] = "I can't see that channel. Invite me to it with `/invite @Onboard`, then try again."
            elif not facts.bot_is_member:
                errors[block] = f"I'm not in #{facts.name} yet. Type `/invite @Onboard` there, then submit again."
    if internal and Field.INTERNAL_CHANNEL not in errors and channels[internal].is_ext_shared:
        errors[Field.INTERNAL_CHANNEL] = (
            "This channel is shared with another organisation, so internal notes would leak. "
            "Pick a channel only your team is in."
        )
    draft.shared_channel_id, draft.internal_channel_id = shared or "", internal or ""
    draft.shared_channel_external = bool(shared and shared in channels and channels[shared].is_ext_shared)

    draft.vendor = {}
    for role, block in VENDOR_FIELDS.items():
        user = form.user(block)
        if not user:
            if role in REQUIRED_VENDOR_ROLES:
                errors[block] = f"Pick the {role.label.lower()}."
            continue
        if user_teams.get(user) != vendor_team_id:
            errors[block] = "Pick someone from your own team here."
        draft.vendor[role.value] = user
        draft.names[user] = user_names.get(user, user)
    return errors


def read_customer(
    form: Form,
    draft: HandoffDraft,
    *,
    user_names: dict[str, str],
    user_teams: dict[str, str | None],
    vendor_team_id: str,
) -> Errors:
    """Customer people by role. `user_names` gives each picked Slack user's display name."""
    errors: Errors = {}
    draft.customer = []
    fitness = set(form.options(Field.PROJECT_OWNER_FITNESS))
    for role in CUSTOMER_ROLES:
        user_block, name_block, email_block = (person_field(role.value, p) for p in ("user", "name", "email"))
        user, name, email = form.user(user_block), form.text(name_block), form.text(email_block)
        if user and user_teams.get(user) == vendor_team_id:
            errors[user_block] = "This is someone from your own team; pick the customer's person."
            continue
        if wrong := problem(email, EMAIL_MAX):
            errors[email_block] = wrong
        elif email and not _EMAIL.match(email):
            errors[email_block] = "That doesn't look like an email address."
        if wrong := problem(name, NAME_MAX):
            errors[name_block] = wrong
        if user:
            name = user_names.get(user) or name or user
        elif not name:
            if email:
                errors[name_block] = "Add the person's name too."
            elif role in REQUIRED_CUSTOMER_ROLES:
                errors[user_block] = f"Name the {role.label.lower()}: pick them in Slack or type a name below."
            continue
        contact = Contact(role=role.value, name=name, slack_user_id=user, email=email or None)
        if role is Role.PROJECT_OWNER:
            contact.has_capacity, contact.has_authority = CAPACITY in fitness, AUTHORITY in fitness
        draft.customer.append(contact)
    return errors


def read_story(form: Form, draft: HandoffDraft) -> Errors:
    errors: Errors = {}
    for block in STORY_FIELDS:
        text = form.text(block)
        if not text and block in REQUIRED_STORY:
            errors[block] = "This is needed so the customer never has to repeat it."
        elif wrong := problem(text, STORY_MAX, multiline=True):
            errors[block] = wrong
        draft.story[block.value] = text
    return errors


def metadata_problem(draft: HandoffDraft) -> str | None:
    """Slack keeps at most 3000 characters of private_metadata between steps."""
    size = len(draft.to_metadata()) + SEAL_LENGTH
    return None if size <= 3000 else f"Too much text to carry to the next step ({size} characters); shorten names."
