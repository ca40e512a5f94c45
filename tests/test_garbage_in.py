"""Whatever comes back in a button value, an option, a block id or a form's metadata: never a 5xx,
never a change. Hypothesis makes the values; the real app answers them over signed requests."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.core.ids import Action, View
from store.db import session_scope
from store.models import ALL_TABLES, Milestone
from tests.cards_helpers import start_onboarding
from tests.conftest import CUSTOMER_CHAMPION, CUSTOMER_TEAM, SHARED_CHANNEL, VENDOR_CSM

ACTIONS = [a.value for a in Action] + [f"{Action.MILESTONE_QUICK}.vendor", f"{Action.MILESTONE_QUICK}.not_done"]
VIEWS = [v.value for v in View if v is not View.HANDOFF_RESULT]
FAR = st.integers(min_value=10**7, max_value=10**12)  # ids no row has
KINDS = st.sampled_from(["o", "s", "m", "ma", "mf", "n", "z", "x", ""])
STAGES = st.sampled_from(["kickoff", "pre_kickoff", "mars", "", "go_live"])
SHAPED = st.builds(
    lambda kind, parts: ":".join([kind, *parts]),
    KINDS,
    st.lists(
        st.one_of(FAR.map(str), STAGES, st.sampled_from(["done", "block", "-1", "1e9", "%3A", "x|1d"])), max_size=6
    ),
)
JUNK = st.one_of(
    st.text(max_size=60),
    SHAPED,
    st.sampled_from(["abc", "{not json", "2026-02-30", "Mars/Base", "99", "[]", '{"a": 1}', "\x00", "~AAAA"]),
)
SELECTED = st.one_of(
    st.none(),
    JUNK.map(lambda v: {"selected_option": {"value": v}}),
    JUNK.map(lambda v: {"selected_date": v}),
    st.just({"selected_option": None}),
)
WHO = st.sampled_from([(VENDOR_CSM, None), (CUSTOMER_CHAMPION, CUSTOMER_TEAM), ("U0NOBODY", None), ("", None)])


def _snapshot(engine) -> tuple:
    with session_scope(engine) as s:
        counts = tuple(s.execute(select(func.count()).select_from(t)).scalar_one() for t in ALL_TABLES)
        versions = tuple(s.execute(select(Milestone.version).order_by(Milestone.id)).scalars())
    return counts, versions


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_garbage_never_breaks_or_changes_anything(harness, data):
    if not hasattr(harness, "_garbage_onboarding"):
        harness._garbage_onboarding = start_onboarding(harness)
        harness.settle()
        harness._garbage_before = _snapshot(harness.engine)
    user, team = data.draw(WHO)
    if data.draw(st.booleans()):
        reply = harness.slack.block_action(
            data.draw(st.sampled_from(ACTIONS)),
            user_id=user,
            team_id=team,
            value=data.draw(st.one_of(st.none(), JUNK)),
            block_id=data.draw(JUNK) or "b",
            selected=data.draw(SELECTED),
            channel_id=data.draw(st.sampled_from([SHARED_CHANNEL, "C0ELSEWHERE", None])),
            message_ts="1777647600.000100",
        )
    else:
        view = {
            "id": "V0GARBAGE",
            "type": "modal",
            "callback_id": data.draw(st.sampled_from(VIEWS)),
            "private_metadata": data.draw(JUNK),
            "blocks": [{"type": "input", "block_id": "x"}],
        }
        values = {"x": {"x": {"type": "plain_text_input", "value": data.draw(JUNK)}}}
        reply = harness.slack.view_submission(view, values, user_id=user, team_id=team)
    assert reply.status < 500, reply.text
    if reply.text:
        json.loads(reply.text)
    harness.settle()
    assert _snapshot(harness.engine) == harness._garbage_before
