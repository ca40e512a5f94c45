"""The four steps of the handoff modal, the "working" view and the result."""

from __future__ import annotations

from typing import Any

from bot.core.account_ids import ACCOUNT_ID_MAX
from bot.core.domain import IT_DEPENDENCY_LABELS, TIER_LABELS, Tier
from bot.core.ids import Field, View, person_field
from bot.onboarding.handoff import (
    AUTHORITY,
    CAPACITY,
    CUSTOMER_ROLES,
    NAME_MAX,
    OTHER_IT_MAX,
    REQUIRED_CUSTOMER_ROLES,
    STORY_MAX,
    HandoffDraft,
)
from bot.planning.playbook import Playbook
from messages import blocks as b

TITLE = "New onboarding"

TIMEZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Vancouver",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Pacific/Honolulu",
    "America/Anchorage",
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Vienna",
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Jerusalem",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
)


def _step(number: int, what: str) -> dict[str, Any]:
    return b.context(f"Step {number} of 4 · {what}")


def timezone_options(default: str) -> list[dict[str, Any]]:
    zones = TIMEZONES if default in TIMEZONES else (default, *TIMEZONES)
    return [b.option(zone.replace("_", " "), zone) for zone in zones]


def basics_view(draft: HandoffDraft, *, playbooks: dict[str, Playbook], today: str) -> dict[str, Any]:
    tiers = [b.option(TIER_LABELS[t], str(int(t))) for t in Tier]
    plans = [b.option(p.name, key) for key, p in sorted(playbooks.items())]
    it_options = [b.option(label, dep.value) for dep, label in IT_DEPENDENCY_LABELS.items()]
    blocks = [
        _step(1, "the deal"),
        b.input_block(Field.CUSTOMER_NAME, "Customer", b.text_input(initial=draft.customer_name, max_length=NAME_MAX)),
        b.input_block(
            Field.ACV,
            "Annual contract value (USD)",
            b.text_input(initial=None if draft.acv == "0" else draft.acv, placeholder="50000, $50,000 or 50k"),
            hint="Sets the service level: under $1K self-serve, $1K-5K light-touch, "
            "$5K-50K standard, $50K and up enterprise.",
        ),
        b.input_block(
            Field.TIER,
            "Service level",
            b.static_select(tiers, initial=str(draft.tier) if draft.tier_overridden else None),
            optional=True,
            hint="Leave empty to follow the contract value.",
        ),
        b.input_block(
            Field.PLAYBOOK,
            "Plan",
            b.static_select(plans, initial=draft.playbook_key),
            optional=True,
            hint="Leave empty to use the usual plan for the service level.",
        ),
        b.input_block(Field.CONTRACT_SIGNED, "Contract signed on", b.datepicker(draft.contract_signed or today)),
        b.input_block(
            Field.TARGET_GO_LIVE,
            "Go-live date agreed in the sale",
            b.datepicker(draft.target_go_live or None),
        ),
        b.input_block(
            Field.TIMEZONE,
            "Customer's timezone",
            b.static_select(timezone_options(draft.timezone), initial=draft.timezone),
            hint="Dates, nudges and business hours follow this timezone.",
        ),
        b.input_block(
            Field.IT_DEPENDENCIES,
            "IT work in scope",
            b.checkboxes(it_options, initial=draft.it_dependencies),
            optional=True,
        ),
        b.input_block(
            Field.IT_OTHER,
            "Other IT work",
            b.text_input(initial=draft.it_other, max_length=OTHER_IT_MAX, placeholder="e.g. VPN allow-listing"),
            optional=True,
        ),
        b.input_block(
            Field.ACCOUNT_ID,
            "Account id in the product",
            b.text_input(initial=draft.external_account_id or None, max_length=ACCOUNT_ID_MAX, placeholder="acme-42"),
            optional=True,
            hint="How the product names this customer's account, so its usage reports count here. "
            "You can set it later with /onboard account-id.",
        ),
    ]
    return b.modal(View.HANDOFF_BASICS, TITLE, blocks, submit="Next", private_metadata=draft.to_metadata())


def team_view(draft: HandoffDraft, *, default_csm: str) -> dict[str, Any]:
    blocks = [
        _step(2, "channels and your team"),
        b.input_block(
            Field.SHARED_CHANNEL,
            "Channel shared with the customer",
            b.conversations_select(draft.shared_channel_id or None),
            hint="The Slack Connect channel. Invite me there first: /invite @Onboard",
        ),
        b.input_block(
            Field.INTERNAL_CHANNEL,
            "Internal channel (your team only)",
            b.conversations_select(draft.internal_channel_id or None),
            hint="The full handoff, internal notes included, goes here.",
        ),
        b.input_block(
            Field.CSM,
            "Implementation CSM",
            b.users_select(draft.vendor.get(Field.CSM.value) or default_csm),
        ),
        b.input_block(Field.AE, "Account executive", b.users_select(draft.vendor.get(Field.AE.value))),
        b.input_block(
            Field.TECH_LEAD,
            "Technical lead",
            b.users_select(draft.vendor.get(Field.TECH_LEAD.value)),
            optional=True,
        ),
        b.input_block(Field.MANAGER, "CSM's manager", b.users_select(draft.vendor.get(Field.MANAGER.value))),
        b.input_block(
            Field.ESCALATION_CONTACT,
            "Escalation contact",
            b.users_select(draft.vendor.get(Field.ESCALATION_CONTACT.value)),
            optional=True,
            hint="Who hears about escalations that nobody picks up (founder, CTO, VP of CS).",
        ),
        b.input_block(
            Field.ONGOING_CSM,
            "Ongoing CSM",
            b.users_select(draft.vendor.get(Field.ONGOING_CSM.value)),
            optional=True,
            hint="Who takes the account over after go-live; they own the handoff milestones. "
            "You can name them later from the plan.",
        ),
    ]
    return b.modal(View.HANDOFF_TEAM, TITLE, blocks, submit="Next", private_metadata=draft.to_metadata())


def customer_view(draft: HandoffDraft, *, shared_channel_name: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [_step(3, "the customer's people")]
    if not draft.shared_channel_external:
        blocks.append(
            b.context(
                f":warning: #{shared_channel_name} is not shared with another organisation yet. "
                "Send the customer a Slack Connect invitation to it; I'll post the plan there now and "
                "the customer sees it once they join."
            )
        )
    blocks.append(
        b.context("Pick each person in Slack if they are there, or type their name and email if they are not yet.")
    )
    for role in CUSTOMER_ROLES:
        contact = draft.contact(role)
        required = " (required)" if role in REQUIRED_CUSTOMER_ROLES else ""
        blocks.append(b.section(f"*{role.label}*{required}"))
        blocks.append(
            b.input_block(
                person_field(role.value, "user"),
                "In Slack",
                b.users_select(contact.slack_user_id if contact else None),
                optional=True,
            )
        )
        blocks.append(
            b.input_block(
                person_field(role.value, "name"),
                "Or name",
                b.text_input(
                    initial=contact.name if contact and not contact.slack_user_id else None, max_length=NAME_MAX
                ),
                optional=True,
            )
        )
        blocks.append(
            b.input_block(
                person_field(role.value, "email"),
                "Email",
                b.text_input(initial=contact.email if contact else None, max_length=254),
                optional=True,
            )
        )
        if role.value == "project_owner":
            blocks.append(
                b.input_block(
                    Field.PROJECT_OWNER_FITNESS,
                    "The project owner has",
                    b.checkboxes(
                        [
                            b.option("Time set aside to drive this project", CAPACITY),
                            b.option("Authority to make decisions and unblock", AUTHORITY),
                        ],
                        initial=[
                            k
                            for k, ok in (
                                (CAPACITY, contact and contact.has_capacity),
                                (AUTHORITY, contact and contact.has_authority),
                            )
                            if ok
                        ],
                    ),
                    optional=True,
                )
            )
    return b.modal(View.HANDOFF_CUSTOMER, TITLE, blocks, submit="Next", private_metadata=draft.to_metadata())


def story_view(draft: HandoffDraft) -> dict[str, Any]:
    def area(field: Field, label: str, *, optional: bool = False, hint: str | None = None) -> dict[str, Any]:
        return b.input_block(
            field,
            label,
            b.text_input(initial=draft.story.get(field.value), multiline=True, max_length=STORY_MAX),
            optional=optional,
            hint=hint,
        )

    blocks = [
        _step(4, "what was sold and why"),
        area(Field.SOLD, "What was sold", hint="Package, seats, custom terms."),
        area(Field.COMMITMENTS, "Commitments made to close", optional=True),
        area(Field.SUCCESS_CRITERIA, "Success criteria, in the customer's words"),
        area(Field.FIRST_VALUE, "First value looks like", hint="The first outcome the customer will recognise."),
        area(Field.FULL_VALUE, "Full value looks like"),
        b.divider(),
        b.section(":lock: *Internal only.* These two never appear in the shared channel."),
        area(Field.CONCERNS, "Concerns raised during the sale (internal)", optional=True),
        area(
            Field.POLITICAL_DYNAMICS,
            "Political dynamics (internal)",
            optional=True,
            hint="Skeptics, who could block the renewal.",
        ),
    ]
    return b.modal(View.HANDOFF_STORY, TITLE, blocks, submit="Create onboarding", private_metadata=draft.to_metadata())


def working_view(customer_name: str) -> dict[str, Any]:
    return b.modal(
        View.HANDOFF_RESULT,
        TITLE,
        [b.section(f":hourglass_flowing_sand: Setting up *{b.esc(customer_name)}*: building the plan and posting it…")],
        close="Close",
    )


def result_view(customer_name: str, lines: list[str]) -> dict[str, Any]:
    blocks = [b.header(f"{customer_name} is set up"), *[b.section(line) for line in lines]]
    return b.modal(View.HANDOFF_RESULT, TITLE, blocks, close="Done")
