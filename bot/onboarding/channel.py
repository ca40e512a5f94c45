"""The shared channel itself changing: shared with another organisation, or no longer shared.

Either matters to an onboarding run in that channel (the customer can no longer see it once it is
unshared), so it goes into that onboarding's audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from store.activity import record_channel_change, watched_in_channel
from store.db import session_scope

SHARED = "channel_shared"
UNSHARED = "channel_unshared"


def sharing_changed(engine: Engine, channel_id: str, *, shared: bool, team_id: str | None, at: datetime) -> list[int]:
    """Record the change in each running onboarding of the channel; returns those onboardings' ids."""
    action = SHARED if shared else UNSHARED
    with session_scope(engine) as session:
        onboarding_ids = watched_in_channel(session, channel_id)
        for onboarding_id in onboarding_ids:
            record_channel_change(session, onboarding_id=onboarding_id, action=action, team_id=team_id, at=at)
    return onboarding_ids
