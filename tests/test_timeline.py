from __future__ import annotations

from datetime import date

import pytest

from bot.core.calendar import add_business_days, business_days_between
from bot.core.domain import ITDependency, Stage, Track
from bot.planning.playbook import load_playbooks
from bot.planning.timeline import check_feasibility, plan_onboarding, planned_milestones

FRIDAY = date(2025, 3, 7)  # contract signed on a Friday: day 1 is the Monday after


@pytest.fixture(scope="module")
def playbooks():
    return load_playbooks(None)


@pytest.fixture(scope="module")
def standard(playbooks):
    return playbooks["standard_30"]


def by_key(milestones):
    return {m.key: m for m in milestones}


def test_dates_skip_the_weekend(standard):
    plan = by_key(planned_milestones(standard, FRIDAY))
    assert plan["intake_received"].start == FRIDAY  # day 0
    assert plan["intake_received"].due == date(2025, 3, 11)  # day 2: Fri -> Mon -> Tue
    assert plan["admin_access"].start == date(2025, 3, 10)  # day 1 is Monday
    assert plan["kickoff_held"].start == plan["kickoff_held"].due == date(2025, 3, 12)
    assert plan["first_workflow_live"].due == date(2025, 3, 19)  # 12 calendar days: first value
    assert plan["go_live_signed"].due == date(2025, 4, 8)  # day 22, about 30 calendar days
    assert all(m.start.weekday() < 5 and m.due.weekday() < 5 for m in plan.values())
    assert "sso_live" not in plan  # IT work out of scope is not planned


def test_contract_signed_on_a_weekend_starts_on_monday(standard):
    plan = by_key(planned_milestones(standard, date(2025, 3, 8)))
    assert plan["intake_received"].start == date(2025, 3, 10)
    assert plan["kickoff_held"].due == date(2025, 3, 13)


def test_dependencies_are_respected(standard):
    plan = by_key(planned_milestones(standard, FRIDAY, it_in_scope=list(ITDependency)))
    for m in plan.values():
        for dep in m.depends_on:
            gap = business_days_between(plan[dep].due, m.start)
            assert gap >= (standard.buffer_days + 1 if m.go_live else 1), (dep, m.key)


def test_planned_milestone_carries_what_the_store_needs(standard):
    plan = by_key(planned_milestones(standard, FRIDAY, it_in_scope=["sso"]))
    sso = plan["sso_live"]
    assert (sso.stage, sso.track, sso.requires_it) == (Stage.SETUP, Track.IT, ITDependency.SSO)
    assert sso.customer_owner.value == "it_contact" and sso.vendor_owner.value == "technical_lead"
    assert sso.client_verified and sso.depends_on == ("kickoff_held",)
    # IT milestones last the upper bound of the IT duration: 10 business days from day 4
    assert sso.start == date(2025, 3, 13) and sso.due == date(2025, 3, 26)
    assert plan["first_workflow_live"].first_value and plan["go_live_signed"].go_live


def test_infeasible_target_when_data_migration_is_in_scope(standard):
    target = date(2025, 4, 8)  # the playbook's own 30 days
    result = check_feasibility(standard, FRIDAY, target, it_in_scope=["data_migration"])
    assert not result.feasible
    # migration: days 4..33 (30 business days); then 3 buffer days; sign-off on day 37
    assert result.earliest_go_live == add_business_days(FRIDAY, 37) == date(2025, 4, 29)
    assert result.driving_track is Track.IT and result.it_on_critical_path
    assert result.driving_milestones[-2:] == ("legacy_migrated", "go_live_signed")
    assert result.best_case_go_live == target
    assert "Tue 29 Apr 2025" in result.reason and "IT track" in result.reason
    assert "shortest estimate" in result.reason


def test_infeasible_plan_is_dated_to_the_earliest_realistic_go_live(standard):
    plan = plan_onboarding(standard, FRIDAY, date(2025, 4, 8), it_in_scope=["data_migration"])
    assert plan.go_live == plan.feasibility.earliest_go_live == date(2025, 4, 29)
    assert by_key(plan.milestones)["go_live_signed"].due == date(2025, 4, 29)


def test_feasible_target_stretches_the_go_live_stage_only(standard):
    target = date(2025, 5, 2)
    plan = plan_onboarding(standard, FRIDAY, target, it_in_scope=["sso"])
    assert plan.feasibility.feasible and plan.feasibility.earliest_go_live == date(2025, 4, 8)
    assert plan.feasibility.driving_track is Track.BUSINESS
    assert "realistic" in plan.feasibility.reason
    milestones = by_key(plan.milestones)
    assert plan.go_live == milestones["go_live_signed"].due == target
    nominal = by_key(planned_milestones(standard, FRIDAY, it_in_scope=["sso"]))
    assert milestones["first_workflow_live"].due == nominal["first_workflow_live"].due
    assert milestones["sso_live"].due == nominal["sso_live"].due
    assert milestones["uat_passed"].due > nominal["uat_passed"].due
    assert business_days_between(milestones["uat_passed"].due, target) == standard.buffer_days + 1


def test_weekend_target_means_the_friday_before(standard):
    plan = plan_onboarding(standard, FRIDAY, date(2025, 5, 3))
    assert plan.feasibility.feasible and plan.go_live == date(2025, 5, 2)


def test_target_earlier_than_the_plan_is_infeasible_without_it(standard):
    result = check_feasibility(standard, FRIDAY, date(2025, 4, 1))
    assert not result.feasible and result.earliest_go_live == date(2025, 4, 8)
    assert result.driving_track is Track.BUSINESS and result.driving_milestones[-1] == "go_live_signed"


def test_it_with_no_slack_is_flagged_even_when_feasible(standard):
    result = check_feasibility(standard, FRIDAY, date(2025, 4, 8), it_in_scope=["crm_integration"])
    assert result.feasible and result.it_on_critical_path
    assert "critical path" in result.reason


def test_known_it_duration_overrides_the_planning_figure(standard):
    result = check_feasibility(standard, FRIDAY, date(2025, 4, 8), ["data_migration"], {"data_migration": 12})
    assert result.feasible and result.earliest_go_live == date(2025, 4, 8)
    ranged = check_feasibility(standard, FRIDAY, None, ["data_migration"], {"data_migration": (10, 20)})
    assert ranged.earliest_go_live == add_business_days(FRIDAY, 4 + 20 - 1 + 1 + 3)


def test_holidays_push_dates(standard):
    plan = by_key(planned_milestones(standard, FRIDAY, holidays={date(2025, 3, 10)}))
    assert plan["admin_access"].start == date(2025, 3, 11)
    assert plan["go_live_signed"].due == date(2025, 4, 9)


def test_no_target_reports_the_earliest_date(standard):
    result = check_feasibility(standard, FRIDAY, None)
    assert result.feasible and result.target_go_live is None
    assert result.reason.startswith("The earliest realistic go-live is Tue 8 Apr 2025")


def test_unknown_it_dependency_is_rejected(standard):
    with pytest.raises(ValueError):
        check_feasibility(standard, FRIDAY, None, ["vpn"])


@pytest.mark.parametrize("key", ["light", "standard_30", "standard_60", "enterprise_90"])
def test_every_shipped_playbook_fits_its_length_without_it(playbooks, key):
    playbook = playbooks[key]
    result = check_feasibility(playbook, FRIDAY, add_business_days(FRIDAY, playbook.length_days))
    assert result.feasible
    assert result.earliest_go_live == add_business_days(FRIDAY, playbook.length_days)


def test_enterprise_absorbs_every_it_dependency_from_day_one(playbooks):
    playbook = playbooks["enterprise_90"]
    target = add_business_days(FRIDAY, playbook.length_days)
    result = check_feasibility(playbook, FRIDAY, target, it_in_scope=list(ITDependency))
    assert result.feasible and not result.it_on_critical_path
