"""The small forms behind milestone buttons: blocked, not yet confirmed, new due date, reassign,
and adding a milestone to a live plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.domain import ROLE_LABELS, Act, Role, Stage, Track
from bot.core.ids import Action, Field, View
from bot.core.payloads import MilestoneChoice, MilestoneRef, OnboardingRef
from bot.milestones.changes import TITLE_MAX
from messages import blocks as b
from store.models import Milestone, Person

REASON_MAX = 500
UNBLOCKER_MAX = 200


def _title(m: Milestone) -> dict[str, Any]:
    return b.section(f"*{b.esc(m.title)}*")


def block_view(m: Milestone, ref: MilestoneRef, today: date) -> dict[str, Any]:
    return b.modal(
        View.MILESTONE_BLOCK,
        "Mark blocked",
        [
            _title(m),
            b.input_block(
                Field.BLOCKED_WHAT, "What is blocking it?", b.text_input(multiline=True, max_length=REASON_MAX)
            ),
            b.input_block(
                Field.BLOCKED_WHO,
                "Who can unblock it?",
                b.text_input(max_length=UNBLOCKER_MAX, placeholder="A person or a team"),
            ),
            b.input_block(Field.BLOCKED_SINCE, "Blocked since", b.datepicker(today.isoformat())),
        ],
        submit="Mark blocked",
        private_metadata=ref.encode(),
    )


def reject_view(m: Milestone, ref: MilestoneRef) -> dict[str, Any]:
    return b.modal(
        View.MILESTONE_REJECT,
        "Not done yet",
        [
            _title(m),
            b.input_block(
                Field.REJECT_REASON,
                "What still needs to happen?",
                b.text_input(multiline=True, max_length=REASON_MAX),
            ),
        ],
        submit="Send back",
        private_metadata=ref.encode(),
    )


def due_view(m: Milestone, ref: MilestoneRef) -> dict[str, Any]:
    return b.modal(
        View.MILESTONE_DUE,
        "Change due date",
        [
            _title(m),
            b.input_block(Field.NEW_DUE, "New due date", b.datepicker(m.due_on.isoformat())),
            b.input_block(Field.DUE_REASON, "Why is it moving?", b.text_input(max_length=REASON_MAX)),
        ],
        submit="Change",
        private_metadata=ref.encode(),
    )


def reassign_view(
    m: Milestone, ref: MilestoneRef, customer_people: list[Person], vendor_user: str | None
) -> dict[str, Any]:
    options = [b.option(f"{p.name} ({ROLE_LABELS[Role(p.role)].lower()})", str(p.id)) for p in customer_people]
    blocks: list[dict[str, Any]] = [_title(m)]
    if options:
        blocks.append(
            b.input_block(
                Field.CUSTOMER_OWNER,
                "Owner on the customer's side",
                b.static_select(options, initial=str(m.customer_owner_id) if m.customer_owner_id else None),
            )
        )
    blocks.append(b.input_block(Field.VENDOR_OWNER, "Owner on our side", b.users_select(vendor_user)))
    return b.modal(View.MILESTONE_REASSIGN, "Reassign", blocks, submit="Reassign", private_metadata=ref.encode())


def quick_block_buttons(ref: MilestoneRef) -> list[dict[str, Any]]:
    """The same as the Mark blocked form, without a form: for when a modal can't be opened."""

    def quick(text: str, reason: str) -> dict[str, Any]:
        return b.button(text, f"{Action.MILESTONE_QUICK}.{reason}", MilestoneChoice.of(Act.BLOCK, ref, reason).encode())

    return [
        b.section("I couldn't open the form here. What is it waiting on?"),
        b.actions(
            quick("Waiting on the vendor", "vendor"),
            quick("Waiting on our team", "customer"),
            quick("Something else", "other"),
        ),
    ]


def quick_reject_buttons(ref: MilestoneRef) -> list[dict[str, Any]]:
    choice = MilestoneChoice.of(Act.REJECT, ref, "not_done").encode()
    return [
        b.section("I couldn't open the form here. Send it back as not done yet?"),
        b.actions(b.button("Not done yet", f"{Action.MILESTONE_QUICK}.not_done", choice)),
    ]


QUICK_REASONS = {
    "vendor": "Waiting on the vendor",
    "customer": "Waiting on the customer's team",
    "other": "Blocked (no details given)",
    "not_done": "Not done yet (no details given)",
}


def add_view(onboardings: list[tuple[int, str]], *, preselected: int | None, today: date) -> dict[str, Any]:
    stage_opts = [b.option(s.label, s.value) for s in Stage]
    track_opts = [b.option(t.value.capitalize() if t is not Track.IT else "IT", t.value) for t in Track]
    customer_roles = [r for r in Role if r.side.value == "customer"]
    vendor_roles = [r for r in Role if r.side.value == "vendor"]
    blocks: list[dict[str, Any]] = []
    if preselected is None:
        blocks.append(
            b.input_block(
                Field.ONBOARDING,
                "Onboarding",
                b.static_select([b.option(name, str(oid)) for oid, name in onboardings]),
            )
        )
    blocks += [
        b.input_block(
            Field.MILESTONE_TITLE,
            "Outcome",
            b.text_input(max_length=TITLE_MAX, placeholder="e.g. 5 SSO users provisioned and signed in"),
            hint="A specific, checkable result, not an activity.",
        ),
        b.input_block(Field.MILESTONE_STAGE, "Stage", b.static_select(stage_opts)),
        b.input_block(Field.MILESTONE_TRACK, "Track", b.static_select(track_opts, initial=Track.BUSINESS.value)),
        b.input_block(Field.MILESTONE_START, "Starts", b.datepicker(today.isoformat())),
        b.input_block(Field.MILESTONE_DUE, "Due", b.datepicker()),
        b.input_block(
            Field.CUSTOMER_OWNER,
            "Owner on the customer's side (role)",
            b.static_select([b.option(r.label, r.value) for r in customer_roles]),
        ),
        b.input_block(
            Field.VENDOR_OWNER,
            "Owner on our side (role)",
            b.static_select([b.option(r.label, r.value) for r in vendor_roles], initial=Role.IMPLEMENTATION_CSM.value),
        ),
        b.input_block(
            Field.MILESTONE_CLIENT_VERIFIED,
            "Confirmation",
            b.checkboxes([b.option("The customer confirms it is done", "yes")]),
            optional=True,
        ),
    ]
    return b.modal(
        View.MILESTONE_ADD,
        "Add a milestone",
        blocks,
        submit="Add",
        private_metadata=OnboardingRef(preselected).encode() if preselected is not None else "",
    )
