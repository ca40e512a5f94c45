"""Tying an onboarding to the customer's account in the vendor's product, so usage reports find it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.account_ids import account_problem
from bot.core.effects import Kind, Outcome
from store import audit
from store.db import session_scope
from store.models import Onboarding
from store.usage import account_holder


def write_account_id(session: Session, onboarding: Onboarding, account_id: str, *, actor: str, now: datetime) -> None:
    """Tie `onboarding` to the account (checked and free already), with its audit line."""
    old = onboarding.external_account_id
    onboarding.external_account_id = account_id
    onboarding.updated_at = now
    audit.record(
        session,
        onboarding_id=onboarding.id,
        entity="onboarding",
        entity_id=onboarding.id,
        action="account_id_set",
        field="external_account_id",
        old=old,
        new=account_id,
        actor=actor,
        actor_side="vendor",
        at=now,
    )


def set_account_id(engine: Engine, onboarding_id: int, account_id: str, *, actor: str, now: datetime) -> Outcome:
    if problem := account_problem(account_id):
        return Outcome.refused(problem)
    with session_scope(engine) as session:
        onboarding = session.get(Onboarding, onboarding_id)
        if onboarding is None:
            return Outcome(Kind.MISSING, "This onboarding no longer exists; nothing was changed.")
        holder = account_holder(session, account_id)
        if holder is not None and holder.id != onboarding_id:
            return Outcome.refused(
                f"Account `{account_id}` already belongs to the onboarding of {holder.customer_name}; "
                "clear it there first (set another id on it), or check the id."
            )
        old = onboarding.external_account_id
        if old == account_id:
            return Outcome(Kind.APPLIED, f"{onboarding.customer_name} already has account id `{account_id}`.")
        write_account_id(session, onboarding, account_id, actor=actor, now=now)
        name = onboarding.customer_name
    return Outcome(Kind.APPLIED, f"Usage reports for account `{account_id}` now count for {name}.")


def record_report_posted(
    engine: Engine, onboarding_id: int, *, actor: str, channel_id: str, ts: str, chart: str, now: datetime
) -> None:
    """The audit line of a value report shared with the customer (`chart`: the file id, or how it fell back)."""
    with session_scope(engine) as session:
        audit.record(
            session,
            onboarding_id=onboarding_id,
            entity="onboarding",
            entity_id=onboarding_id,
            action="value_report_posted",
            new=f"{channel_id}/{ts}",
            reason=f"chart: {chart}",
            actor=actor,
            actor_side="vendor",
            at=now,
        )
