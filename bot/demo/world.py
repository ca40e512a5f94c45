"""The sandbox's sample workspace: a vendor team, one customer on another team, their channels,
and the answers the sample handoff gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VENDOR_TEAM = "T0VENDOR"
CUSTOMER_TEAM = "T0NORTHWIND"
CUSTOMER_NAME = "Northwind Traders"
CUSTOMER_TZ = "America/New_York"
GO_LIVE_AFTER_DAYS = 90  # the sample handoff's go-live date, from the day of the handoff
SHARED_CHANNEL = "C0SHARED"
INTERNAL_CHANNEL = "C0INTERNAL"


@dataclass(frozen=True)
class Person:
    id: str
    name: str  # Slack's handle
    real_name: str
    role: str  # what they are in the story, for the "You are" picker
    team: str
    email: str

    @property
    def vendor(self) -> bool:
        return self.team == VENDOR_TEAM

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "real_name": self.real_name,
            "role": self.role,
            "side": "vendor" if self.vendor else "customer",
            "team": self.team,
        }


CSM = Person("U0CSM", "casey", "Casey Vega", "Implementation CSM", VENDOR_TEAM, "casey@vendor.example")
MANAGER = Person("U0MANAGER", "morgan", "Morgan Lee", "CSM manager", VENDOR_TEAM, "morgan@vendor.example")
AE = Person("U0AE", "alex", "Alex Romero", "Account executive", VENDOR_TEAM, "alex@vendor.example")
CHAMPION = Person("U0CHAMPION", "chris", "Chris Park", "Champion", CUSTOMER_TEAM, "chris@northwind.example")
OWNER = Person("U0OWNER", "priya", "Priya Shah", "Project owner", CUSTOMER_TEAM, "priya@northwind.example")
IT = Person("U0ITCONTACT", "ivan", "Ivan Novak", "IT contact", CUSTOMER_TEAM, "ivan@northwind.example")
SPONSOR = Person("U0SPONSOR", "sofia", "Sofia Marin", "Executive sponsor", CUSTOMER_TEAM, "sofia@northwind.example")
BYSTANDER = Person("U0BYSTANDER", "ben", "Ben Ortiz", "Bystander", CUSTOMER_TEAM, "ben@northwind.example")

PEOPLE: tuple[Person, ...] = (CSM, MANAGER, AE, CHAMPION, OWNER, IT, SPONSOR, BYSTANDER)
BY_ID = {p.id: p for p in PEOPLE}

CHANNELS: tuple[dict[str, Any], ...] = (
    {
        "id": SHARED_CHANNEL,
        "name": "northwind-onboarding",
        "shared": True,
        "members": [p.id for p in PEOPLE if p is not AE],
        "about": f"Slack Connect channel shared with {CUSTOMER_NAME}",
    },
    {
        "id": INTERNAL_CHANNEL,
        "name": "northwind-internal",
        "shared": False,
        "members": [CSM.id, MANAGER.id, AE.id],
        "about": "the vendor's own channel for this customer",
    },
)


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _day(iso: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": iso}


def _user(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def _channel(channel_id: str) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": channel_id}


def _choice(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


def _ticks(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def handoff_answers(contract_signed: str, target_go_live: str) -> list[dict[str, dict[str, Any]]]:
    """The four steps of the sample handoff, as {block_id: element state}: what the CSM would enter."""
    people: dict[str, tuple[str | None, str, str]] = {
        "economic_buyer": (SPONSOR.id, "", ""),
        "executive_sponsor": (SPONSOR.id, "", ""),
        "champion": (CHAMPION.id, "", ""),
        "project_owner": (OWNER.id, "", ""),
        "day_to_day_owner": (OWNER.id, "", ""),
        "it_contact": (IT.id, "", ""),
    }
    customer: dict[str, dict[str, Any]] = {}
    for role, (slack, name, email) in people.items():
        customer[f"person.{role}.user"] = _user(slack)
        customer[f"person.{role}.name"] = _text(name)
        customer[f"person.{role}.email"] = _text(email)
    customer["project_owner_fitness"] = _ticks("capacity", "authority")
    return [
        {
            "customer_name": _text(CUSTOMER_NAME),
            "acv": _text("$48,000"),
            "tier": _choice(None),
            "playbook": _choice(None),
            "contract_signed": _day(contract_signed),
            "target_go_live": _day(target_go_live),
            "timezone": _choice(CUSTOMER_TZ),
            "it_dependencies": _ticks("sso"),
            "it_other": _text(""),
        },
        {
            "shared_channel": _channel(SHARED_CHANNEL),
            "internal_channel": _channel(INTERNAL_CHANNEL),
            "implementation_csm": _user(CSM.id),
            "ongoing_csm": _user(CSM.id),
            "account_executive": _user(AE.id),
            "technical_lead": _user(CSM.id),
            "csm_manager": _user(MANAGER.id),
            "escalation_contact": _user(MANAGER.id),
        },
        customer,
        {
            "sold": _text("Team plan, 80 seats, standard support"),
            "commitments": _text("Single sign-on in place before the spring planning cycle"),
            "success_criteria": _text("Every warehouse team plans its shifts in the product"),
            "first_value_definition": _text("The first warehouse's weekly rota built without a spreadsheet"),
            "full_value_definition": _text("All 80 people planning in the product every week"),
            "concerns": _text("The last tool they bought was never rolled out"),
            "political_dynamics": _text(""),
        },
    ]
