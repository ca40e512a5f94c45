"""Stage exit criteria: which are met, and whether a stage may be left.

A criterion is met when every milestone it names is done; client-verified milestones only reach
"done" through a customer-side confirmation, so the vendor's word alone never advances a stage.
Kickoff also requires an owner on both sides of every milestone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import STAGE_ORDER, MilestoneStatus, Stage
from store.onboardings import OnboardingRecord


@dataclass(frozen=True)
class CriterionState:
    text: str
    client_verified: bool
    met: bool
    awaiting_customer: bool = False  # done on the vendor's side, waiting for the customer's confirmation


def criteria(record: OnboardingRecord, stage: Stage) -> list[CriterionState]:
    by_key = {m.key: m for m in record.milestones}
    stored = next((s for s in record.stages if s.key == stage.value), None)
    out = []
    for c in stored.exit_criteria if stored else []:
        keys = [k for k in c.get("milestones", []) if k in by_key]
        met = bool(keys) and all(by_key[k].status == MilestoneStatus.DONE for k in keys)
        awaiting = any(by_key[k].status == MilestoneStatus.AWAITING_CONFIRMATION for k in keys)
        out.append(CriterionState(c["text"], bool(c.get("client_verified")), met, awaiting))
    if stage is Stage.KICKOFF:
        unowned = sum(1 for m in record.milestones if m.customer_owner_id is None or m.vendor_owner_id is None)
        text = "Every milestone has an owner on both sides" + (f" ({unowned} still need one)" if unowned else "")
        out.append(CriterionState(text, False, unowned == 0))
    return out


def next_stage(stage: Stage) -> Stage | None:
    i = STAGE_ORDER.index(stage)
    return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else None


def unmet(record: OnboardingRecord, stage: Stage) -> list[CriterionState]:
    return [c for c in criteria(record, stage) if not c.met]
