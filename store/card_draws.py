"""Which state each card last showed, kept in the database so that every replica of the bot keeps
the order of a card's redraws, not only the process that drew it.

A state is known by the onboarding revision it was read at (store.onboardings.load). On
PostgreSQL a redraw takes its card's row, sends only when no later state has been drawn, and has
recorded its revision by the time it lets go: replicas draw one card one at a time, in order,
while other cards go on. SQLite is one machine's file, served by one process, whose own per-card
order (bot.slack.draws) is all there is to keep: nothing is locked or written there.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine

from store.models import PostedCard, table_of

_C = table_of(PostedCard)


def draw_in_order(engine: Engine, card_id: int, revision: int, send: Callable[[], object]) -> bool:
    """Run `send` (the card's redraw showing the state of `revision`) unless a later state of the
    card has been drawn already; whether it ran.

    A state read without its onboarding's lock (revision 0) is always drawn and leaves the order as
    it was. On PostgreSQL one statement both takes the card's row and records the revision, when no
    later one is recorded; a redraw that waited on another replica's finds the row as that one left
    it. `send` runs while the row is held, so it must not write that row.
    """
    if not revision or engine.dialect.name != "postgresql":
        send()
        return True
    with engine.begin() as conn:
        taken = conn.execute(
            update(_C)
            .where(_C.c.id == card_id, _C.c.drawn_revision <= revision)
            .values(drawn_revision=revision)
            .returning(_C.c.id)
        ).first()
        if taken is None:  # a later state is drawn already (or the card is gone)
            return False
        send()
    return True
