"""Turning a complete, valid handoff into a live onboarding: the dated plan and the records.

Posting the handoff, the welcome and the first card is the Slack side's (bot.slack.publish); the
onboarding is stored whole first, so a Slack failure never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.calendar import today_in
from bot.core.domain import OnboardingStatus, Role, Side, Stage, StageStatus, Tier
from bot.onboarding.handoff import HandoffDraft
from bot.onboarding.readiness import Readiness, evaluate
from bot.planning.forecast import Work, project, schedule_of
from bot.planning.playbook import Playbook, playbook_for_tier
from bot.planning.timeline import Feasibility, Plan, plan_onboarding
from bot.value.accounts import write_account_id
from store import audit
from store.db import session_scope
from store.models import Milestone, Onboarding, Person, StageRecord
from store.onboardings import OnboardingRecord, active_onboardings_for_csm
from store.queries import running_in_channel
from store.usage import account_holder


@dataclass
class StartResult:
    record: OnboardingRecord
    readiness: Readiness
    feasibility: Feasibility
    post_failures: list[str] = field(default_factory=list)
    # The account id given at handoff that another tracked onboarding holds already: (id, its customer).
    account_taken: tuple[str, str] | None = None


class AlreadyRunning(Exception):
    """The shared channel already has an onboarding being set up or adopted: nothing new is created."""

    def __init__(self, customer_name: str, channel_id: str) -> None:
        super().__init__(f"{customer_name} is already being onboarded in {channel_id}")
        self.customer_name, self.channel_id = customer_name, channel_id


def choose_playbook(playbooks: dict[str, Playbook], draft: HandoffDraft) -> Playbook:
    chosen = playbook_for_tier(playbooks, Tier(draft.tier), draft.playbook_key)
    if chosen is None:
        raise ValueError(f"no playbook for level {draft.tier}")
    return chosen


def readiness_of(session: Session, record: OnboardingRecord) -> Readiness:
    csm = record.person(Role.IMPLEMENTATION_CSM)
    load = active_onboardings_for_csm(session, csm.slack_user_id) if csm and csm.slack_user_id else 0
    return evaluate(record.onboarding, record.people, load)


def start_onboarding(
    engine: Engine, draft: HandoffDraft, playbooks: dict[str, Playbook], *, actor: str, now: datetime
) -> StartResult:
    playbook = choose_playbook(playbooks, draft)
    plan = plan_onboarding(
        playbook, draft.contract_signed_on, draft.target_go_live_on, it_in_scope=draft.it_dependencies
    )
    # A repeated or replayed last step finds the onboarding the first one made (one per shared channel).
    try:
        return _start(engine, draft, playbook, plan, actor=actor, now=now)
    except IntegrityError:  # another submission of the same handoff got there first
        with session_scope(engine) as session:
            running = running_in_channel(session, draft.shared_channel_id)
        if running is None:
            raise
        raise AlreadyRunning(running.customer_name, draft.shared_channel_id) from None


def _start(
    engine: Engine, draft: HandoffDraft, playbook: Playbook, plan: Plan, *, actor: str, now: datetime
) -> StartResult:
    with session_scope(engine) as session:
        running = running_in_channel(session, draft.shared_channel_id)
        if running is not None:
            raise AlreadyRunning(running.customer_name, draft.shared_channel_id)
        record = create_onboarding(session, draft, playbook, plan, actor=actor, now=now)
        taken = _attach_account(session, record, draft.external_account_id, actor=actor, now=now)
        readiness = readiness_of(session, record)
        audit.record(
            session,
            onboarding_id=record.onboarding.id,
            entity="onboarding",
            entity_id=record.onboarding.id,
            action="readiness_checked",
            actor=actor,
            actor_side=Side.VENDOR.value,
            new="ready" if readiness.ready else "not ready",
            reason="; ".join(c.text for c in readiness.missing) or None,
            at=now,
        )
    return StartResult(record, readiness, plan.feasibility, account_taken=taken)


def _attach_account(
    session: Session, record: OnboardingRecord, account_id: str, *, actor: str, now: datetime
) -> tuple[str, str] | None:
    """Tie the new onboarding to the product's account given at handoff, as `/onboard account-id` does;
    (the id, its holder's customer) when another tracked onboarding has it already (nothing is changed)."""
    if not account_id:
        return None
    holder = account_holder(session, account_id)
    ob = record.onboarding
    if holder is not None and holder.id != ob.id:
        return account_id, holder.customer_name
    write_account_id(session, ob, account_id, actor=actor, now=now)
    return None


def feasibility_of(record: OnboardingRecord, playbooks: dict[str, Playbook]) -> Feasibility:
    """The timeline verdict for a stored onboarding, worked out again from its plan and dates."""
    ob = record.onboarding
    playbook = playbooks[ob.playbook_key]
    in_scope = [d for d in ob.it_dependencies if d in {dep.value for dep in playbook.it_durations}]
    return plan_onboarding(playbook, ob.contract_signed_on, ob.target_go_live_on, it_in_scope=in_scope).feasibility


def create_onboarding(
    session: Session, draft: HandoffDraft, playbook: Playbook, plan: Plan, *, actor: str, now: datetime
) -> OnboardingRecord:
    """Write the onboarding, its people, stages and dated plan, and audit each part, in one transaction."""
    today = today_in(draft.timezone, now)
    work = [Work(m.key, m.start, m.due, m.depends_on) for m in plan.milestones]
    projection = project(work, playbook.go_live_milestone.key, today, buffer_days=playbook.buffer_days)
    projected = projection.go_live if projection else plan.go_live
    schedule = schedule_of(draft.target_go_live_on, projected, None, today, playbook.rules.behind_schedule_days)
    onboarding = Onboarding(
        customer_name=draft.customer_name,
        status=OnboardingStatus.ACTIVE.value,
        stage=Stage.PRE_KICKOFF.value,
        tier=draft.tier,
        acv_cents=int(draft.acv_amount * 100),
        playbook_key=playbook.key,
        timezone=draft.timezone,
        contract_signed_on=draft.contract_signed_on,
        target_go_live_on=draft.target_go_live_on,
        earliest_go_live_on=plan.feasibility.earliest_go_live,
        projected_go_live_on=projected,
        schedule=schedule.value,
        forecast_on=today,
        shared_channel_id=draft.shared_channel_id,
        internal_channel_id=draft.internal_channel_id,
        sold=draft.story.get("sold", ""),
        commitments=draft.story.get("commitments", ""),
        success_criteria=draft.story.get("success_criteria", ""),
        first_value_definition=draft.story.get("first_value_definition", ""),
        full_value_definition=draft.story.get("full_value_definition", ""),
        it_dependencies=list(draft.it_dependencies) + ([draft.it_other] if draft.it_other else []),
        concerns=draft.story.get("concerns", ""),
        political_dynamics=draft.story.get("political_dynamics", ""),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(onboarding)
    session.flush()
    oid = onboarding.id

    def log(entity: str, action: str, **kw) -> None:
        audit.record(
            session,
            onboarding_id=oid,
            entity=entity,
            action=action,
            actor=actor,
            actor_side=Side.VENDOR.value,
            at=now,
            **kw,
        )

    tier_note = "chosen by hand" if draft.tier_overridden else "from the ACV"
    log(
        "onboarding",
        "created",
        entity_id=oid,
        new=draft.customer_name,
        reason=f"handoff; level {draft.tier} {tier_note}; plan {playbook.key}",
    )

    people: list[Person] = []
    for role, user_id in draft.vendor.items():
        people.append(
            Person(
                onboarding_id=oid,
                side=Side.VENDOR.value,
                role=role,
                name=draft.names.get(user_id, user_id),
                slack_user_id=user_id,
                created_at=now,
            )
        )
    for contact in draft.customer:
        people.append(
            Person(
                onboarding_id=oid,
                side=Side.CUSTOMER.value,
                role=contact.role,
                name=contact.name,
                slack_user_id=contact.slack_user_id,
                email=contact.email,
                has_capacity=contact.has_capacity,
                has_authority=contact.has_authority,
                created_at=now,
            )
        )
    session.add_all(people)
    session.flush()
    for person in people:
        log("person", "added", entity_id=person.id, field=person.role, new=person.slack_user_id or person.name)

    stages = []
    for spec in playbook.stages:
        first = spec.stage is Stage.PRE_KICKOFF
        stages.append(
            StageRecord(
                onboarding_id=oid,
                key=spec.stage.value,
                position=spec.stage.position,
                status=(StageStatus.ACTIVE if first else StageStatus.PENDING).value,
                exit_criteria=[
                    {"text": c.text, "client_verified": c.client_verified, "milestones": list(c.milestones)}
                    for c in spec.exit_criteria
                ],
                started_at=now if first else None,
            )
        )
    session.add_all(stages)

    by_role = {p.role: p for p in people}
    milestones = []
    for position, planned in enumerate(plan.milestones):
        customer_owner = by_role.get(planned.customer_owner.value)
        vendor_owner = by_role.get(planned.vendor_owner.value)
        milestones.append(
            Milestone(
                onboarding_id=oid,
                stage=planned.stage.value,
                key=planned.key,
                title=planned.title,
                track=planned.track.value,
                position=position,
                customer_owner_role=planned.customer_owner.value,
                vendor_owner_role=planned.vendor_owner.value,
                customer_owner_id=customer_owner.id if customer_owner else None,
                vendor_owner_id=vendor_owner.id if vendor_owner else None,
                start_on=planned.start,
                due_on=planned.due,
                client_verified=planned.client_verified,
                first_value=planned.first_value,
                depends_on=list(planned.depends_on),
            )
        )
    session.add_all(milestones)
    session.flush()
    feasibility = plan.feasibility
    log(
        "plan",
        "created",
        field="milestones",
        new=len(milestones),
        reason=f"earliest realistic go-live {feasibility.earliest_go_live.isoformat()}; "
        f"{'feasible' if feasibility.feasible else 'not feasible'}; driven by {feasibility.driving_track.value}",
    )
    return OnboardingRecord(onboarding, people, stages, milestones)
