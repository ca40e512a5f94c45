"""The handoff's pure rules: amounts, tiers, the readiness gate, the draft carried between steps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.core.domain import Tier, tier_for_acv
from bot.core.money import AmountError, format_usd, parse_acv
from bot.onboarding.handoff import Contact, HandoffDraft, metadata_problem
from bot.onboarding.readiness import evaluate, kickoff_allowed
from store.models import Onboarding, Person


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("50000", 50000),
        ("$50,000", 50000),
        ("50k", 50000),
        ("50K", 50000),
        ("1.2m", 1_200_000),
        ("$ 12.5k", 12500),
        ("7,500.50", Decimal("7500.50")),
        ("  900 ", 900),
    ],
)
def test_acv_as_people_type_it(typed, amount):
    assert parse_acv(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "50,00", "5O000", "$", "1,2,3", "50kk", "0", "-1", "0k"])
def test_acv_that_is_not_a_positive_amount(typed):
    with pytest.raises(AmountError):
        parse_acv(typed)


def test_usd_formatting():
    assert format_usd(Decimal("50000")) == "$50,000"
    assert format_usd(Decimal("7500.5")) == "$7,500.50"


@pytest.mark.parametrize(
    ("acv", "tier"),
    [
        (999, Tier.SELF_SERVE),
        (1000, Tier.LIGHT_TOUCH),
        (4999, Tier.LIGHT_TOUCH),
        (5000, Tier.STANDARD),
        (49_999, Tier.STANDARD),
        (50_000, Tier.ENTERPRISE),
    ],
)
def test_tier_bands(acv, tier):
    assert tier_for_acv(Decimal(acv)) is tier


def _onboarding(**kw) -> Onboarding:
    fields = dict(
        customer_name="Acme",
        tier=2,
        acv_cents=1,
        playbook_key="standard_30",
        timezone="UTC",
        contract_signed_on=date(2026, 5, 1),
        target_go_live_on=date(2026, 6, 19),
        earliest_go_live_on=date(2026, 6, 2),
        created_by="U1",
    )
    return Onboarding(**(fields | kw))


def _owner(**kw) -> Person:
    return Person(onboarding_id=1, side="customer", role="project_owner", name="Pat", **kw)


def test_gate_passes_with_owner_timeline_and_capacity():
    readiness = evaluate(_onboarding(), [_owner(has_capacity=True, has_authority=True)], csm_active_accounts=10)
    assert readiness.ready and readiness.missing == []


def test_gate_reports_each_missing_part():
    ob = _onboarding(tier=3, target_go_live_on=date(2026, 5, 20))
    readiness = evaluate(ob, [], csm_active_accounts=16)
    assert [c.key for c in readiness.missing] == ["project_owner", "timeline", "capacity"]
    assert "earliest realistic date is Tue 02 Jun 2026" in readiness.missing[1].text


def test_kickoff_needs_the_gate_or_an_override():
    ob = _onboarding()
    failing = evaluate(ob, [], csm_active_accounts=1)
    assert not kickoff_allowed(ob, failing)
    ob.gate_override_at = datetime(2026, 5, 4, tzinfo=UTC)
    assert kickoff_allowed(ob, failing)


def test_draft_survives_the_trip_through_private_metadata():
    draft = HandoffDraft(
        customer_name="Acme",
        acv="40000.00",
        contract_signed="2026-05-01",
        customer=[Contact(role="champion", name="Chris", slack_user_id="U1")],
    )
    again = HandoffDraft.from_metadata(draft.to_metadata())
    assert again == draft
    assert metadata_problem(draft) is None


def test_oversized_draft_is_caught_before_slack_would_cut_it():
    draft = HandoffDraft(
        customer=[Contact(role="end_user", name="N" * 120, email="e" * 240 + "@x.io") for _ in range(12)]
    )
    assert "Too much text" in metadata_problem(draft)
