"""Stage exit criteria: which are met, whether a stage may be left, and which milestones hold it.

A criterion is met when every milestone it names is done; client-verified milestones only reach
"done" through a customer-side confirmation, so the vendor's word alone never advances a stage.
Kickoff also requires an owner on both sides of every milestone, of every stage. Go-live is signed
off only once the stage's other criteria are met (the work the sign-off rests on).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import STAGE_ORDER, MilestoneStatus, Stage
from bot.core.effects import Hold, Need
from store.models import Milestone
from store.onboardings import OnboardingRecord

OWNERS_TEXT = "Every milestone has an owner on both sides"


@dataclass(frozen=True)
class CriterionState:
    text: str
    client_verified: bool
    met: bool
    awaiting_customer: bool = False  # done on the vendor's side, waiting for the customer's confirmation
    milestones: tuple[str, ...] = ()  # the keys of the milestones it names (those in this plan)


def unowned(record: OnboardingRecord) -> list[Milestone]:
    """Milestones of any stage with nobody named on one side or the other."""
    return [m for m in record.milestones if m.customer_owner_id is None or m.vendor_owner_id is None]


def criteria(record: OnboardingRecord, stage: Stage) -> list[CriterionState]:
    by_key = {m.key: m for m in record.milestones}
    stored = next((s for s in record.stages if s.key == stage.value), None)
    out = []
    for c in stored.exit_criteria if stored else []:
        keys = [k for k in c.get("milestones", []) if k in by_key]
        met = bool(keys) and all(by_key[k].status == MilestoneStatus.DONE for k in keys)
        awaiting = any(by_key[k].status == MilestoneStatus.AWAITING_CONFIRMATION for k in keys)
        out.append(CriterionState(c["text"], bool(c.get("client_verified")), met, awaiting, tuple(keys)))
    if stage is Stage.KICKOFF:
        missing = len(unowned(record))
        text = OWNERS_TEXT + (f" ({missing} still {'needs' if missing == 1 else 'need'} one)" if missing else "")
        out.append(CriterionState(text, False, missing == 0))
    return out


def next_stage(stage: Stage) -> Stage | None:
    i = STAGE_ORDER.index(stage)
    return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else None


def unmet(record: OnboardingRecord, stage: Stage) -> list[CriterionState]:
    return [c for c in criteria(record, stage) if not c.met]


def _status_need(m: Milestone) -> Need | None:
    status = MilestoneStatus(m.status)
    if status is MilestoneStatus.DONE:
        return None
    if status is MilestoneStatus.AWAITING_CONFIRMATION:
        return Need.CONFIRMATION
    if status is MilestoneStatus.BLOCKED:
        return Need.UNBLOCK
    return Need.DONE


def holds(record: OnboardingRecord, stage: Stage, go_live_key: str | None = None) -> list[Hold]:
    """Each milestone that keeps `stage` from moving on, with what it needs, in plan order.

    `go_live_key` names the go-live milestone, which is done by the sign-off, not by a button.
    """
    by_key = {m.key: m for m in record.milestones}
    needs: dict[int, list[Need]] = {}
    for c in unmet(record, stage):
        for key in c.milestones:
            need = _status_need(by_key[key])
            if need is not None and key == go_live_key:
                need = Need.SIGN_OFF
            if need is not None:
                needs.setdefault(by_key[key].id, []).append(need)
    if stage is Stage.KICKOFF:
        for m in unowned(record):
            owners = [Need.CUSTOMER_OWNER] if m.customer_owner_id is None else []
            owners += [Need.VENDOR_OWNER] if m.vendor_owner_id is None else []
            needs[m.id] = owners + needs.get(m.id, [])
    ordered = sorted(
        (m for m in record.milestones if m.id in needs), key=lambda m: (Stage(m.stage).position, m.position)
    )
    return [
        Hold(
            onboarding_id=record.id,
            milestone_id=m.id,
            version=m.version,
            title=m.title,
            stage=Stage(m.stage),
            needs=tuple(dict.fromkeys(needs[m.id])),
            customer_role=m.customer_owner_role,
            vendor_role=m.vendor_owner_role,
        )
        for m in ordered
    ]


def signoff_waits_for(record: OnboardingRecord, go_live_key: str | None) -> list[CriterionState]:
    """The go-live criteria still open before the sponsor may sign off: all but the sign-off's own."""
    if go_live_key is None:
        return []
    return [c for c in unmet(record, Stage.GO_LIVE) if go_live_key not in c.milestones]
