"""The audit trail: every change, with who, when, from what and to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from store.models import AuditEntry
from store.types import utcnow

SYSTEM = "system"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def record(
    session: Session,
    *,
    onboarding_id: int | None,
    entity: str,
    action: str,
    actor: str,
    entity_id: int | None = None,
    actor_side: str | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        onboarding_id=onboarding_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        reason=reason,
        actor=actor,
        actor_side=actor_side,
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append many entries (the keyword arguments of `record`, one dict each) in one statement."""
    if not entries:
        return
    rows = [
        {
            "onboarding_id": e.get("onboarding_id"),
            "entity": e["entity"],
            "entity_id": e.get("entity_id"),
            "action": e["action"],
            "field": e.get("field"),
            "old_value": _text(e.get("old")),
            "new_value": _text(e.get("new")),
            "reason": e.get("reason"),
            "actor": e["actor"],
            "actor_side": e.get("actor_side"),
            "at": e.get("at") or utcnow(),
        }
        for e in entries
    ]
    session.connection().execute(insert(AuditEntry.__table__), rows)  # type: ignore[attr-defined]
