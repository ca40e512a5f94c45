from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.domain import STAGE_ORDER, ITDependency, Role, Stage, Tier
from bot.planning.playbook import (
    PlaybookError,
    Problem,
    load_playbooks,
    parse_text,
    playbook_for_tier,
    shipped_dir,
    validate_command,
    validate_dir,
    validate_file,
)
from bot.planning.playbook.locate import Locator

SHIPPED = {"light", "standard_30", "standard_60", "enterprise_90"}

TINY = """\
key = "tiny"
name = "Tiny"
tiers = [2]
length_days = 10
buffer_days = 1

[it_durations]
sso = [2, 4]

[[stages]]
stage = "pre_kickoff"

[[stages.exit_criteria]]
text = "Intake in"
client_verified = false
milestones = ["a"]

[[stages]]
stage = "kickoff"

[[stages.exit_criteria]]
text = "Kickoff held"
client_verified = false

[[stages]]
stage = "setup"

[[stages.exit_criteria]]
text = "Customer confirms setup"
client_verified = true
milestones = [
    "b",
]

[[stages]]
stage = "training"

[[stages.exit_criteria]]
text = "Users trained"
client_verified = false

[[stages]]
stage = "go_live"

[[stages.exit_criteria]]
text = "Sponsor signed off"
client_verified = true
milestones = ["c"]

[[stages]]
stage = "adoption"

[[stages.exit_criteria]]
text = "Handed off"
client_verified = false

[[milestones]]
key = "a"
title = "Intake form returned with seat count"
stage = "pre_kickoff"
track = "business"
start_day = 0
due_day = 1
customer_owner = "champion"
vendor_owner = "implementation_csm"
client_verified = false

[[milestones]]
key = "b"
title = "First report built on the customer's data and confirmed"
stage = "setup"
track = "business"
start_day = 2
due_day = 4
customer_owner = "day_to_day_owner"
vendor_owner = "implementation_csm"
client_verified = true
first_value = true
depends_on = [
    "a",
]

[[milestones]]
key = "sso"
title = "3 users signed in through SSO"
stage = "setup"
track = "it"
start_day = 1
customer_owner = "it_contact"
vendor_owner = "technical_lead"
client_verified = true
requires_it = "sso"
depends_on = ["a"]

[[milestones]]
key = "c"
title = "Executive sponsor signed the go-live"
stage = "go_live"
track = "business"
start_day = 8
due_day = 8
customer_owner = "executive_sponsor"
vendor_owner = "implementation_csm"
client_verified = true
go_live = true
depends_on = ["b", "sso"]
"""


def block_line(text: str, key: str, field: str) -> int:
    """Line number of `field = ...` inside the [[milestones]] entry whose key is `key`."""
    lines = text.splitlines()
    start = lines.index(f'key = "{key}"')
    for i in range(start, len(lines)):
        if lines[i].startswith(f"{field} ="):
            return i + 1
        if i > start and lines[i].startswith("[["):
            break
    raise AssertionError(f"{field} not in block {key}")


def header_line(text: str, key: str) -> int:
    return text.splitlines().index(f'key = "{key}"')  # the [[milestones]] line just above


def line_of(text: str, fragment: str) -> int:
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def set_field(text: str, key: str, field: str, new: str | None) -> str:
    lines = text.splitlines()
    index = block_line(text, key, field) - 1
    if new is None:
        del lines[index]
    else:
        lines[index] = new
    return "\n".join(lines) + "\n"


def check(tmp_path: Path, text: str, name: str = "tiny.toml") -> tuple[str, list[Problem]]:
    path = tmp_path / name
    path.write_text(text)
    return str(path), validate_file(path)


def test_tiny_fixture_is_valid(tmp_path):
    assert check(tmp_path, TINY)[1] == []


def test_shipped_playbooks_load_and_validate_clean(capsys):
    playbooks = load_playbooks(None)
    assert set(playbooks) == SHIPPED
    assert validate_dir(shipped_dir()) == []
    assert validate_command(None) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "4 playbooks valid" in out[0]


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_shipped_playbooks_follow_the_domain(key):
    playbook = load_playbooks(None)[key]
    assert tuple(s.stage for s in playbook.stages) == STAGE_ORDER
    first_value = playbook.first_value_milestone
    assert first_value.stage is Stage.SETUP and first_value.client_verified
    # within 14 calendar days of signature; enterprise spends 5-10 business days before kickoff
    assert first_value.due_day <= (16 if key == "enterprise_90" else 10)
    go_live = playbook.go_live_milestone
    assert go_live.customer_owner is Role.EXECUTIVE_SPONSOR and go_live.due_day == playbook.length_days
    it_milestones = {m.requires_it: m for m in playbook.milestones if m.requires_it}
    assert set(it_milestones) == set(ITDependency)
    assert all(m.start_day <= 5 and m.key in go_live.depends_on for m in it_milestones.values())
    assert set(playbook.it_durations) == set(ITDependency)
    for spec in playbook.milestones:
        assert spec.customer_owner.side.value == "customer" and spec.vendor_owner.side.value == "vendor"


def test_enterprise_has_phases_and_it_from_day_one():
    playbook = load_playbooks(None)["enterprise_90"]
    assert [p.key for p in playbook.phases] == ["pilot", "feedback", "department", "company_wide"]
    assert all(p.completion_criteria for p in playbook.phases)
    assert {m.start_day for m in playbook.milestones if m.requires_it} == {1}
    assert playbook.milestone("success_plan").client_verified


def test_playbook_for_tier():
    playbooks = load_playbooks(None)
    assert playbook_for_tier(playbooks, Tier.LIGHT_TOUCH).key == "light"
    assert playbook_for_tier(playbooks, Tier.STANDARD).key == "standard_30"
    assert playbook_for_tier(playbooks, Tier.ENTERPRISE).key == "enterprise_90"
    assert playbook_for_tier(playbooks, Tier.SELF_SERVE) is None
    assert playbook_for_tier(playbooks, Tier.STANDARD, "standard_60").key == "standard_60"
    with pytest.raises(KeyError):
        playbook_for_tier(playbooks, Tier.STANDARD, "nope")


def test_scoped_drops_out_of_scope_it_work():
    playbook = load_playbooks(None)["standard_30"]
    scoped = playbook.scoped([ITDependency.SSO])
    keys = {m.key for m in scoped.milestones}
    assert "sso_live" in keys and "legacy_migrated" not in keys
    assert "legacy_migrated" not in scoped.go_live_milestone.depends_on
    assert "sso_live" in scoped.go_live_milestone.depends_on


# --- one test per kind of problem: right file, right line --------------------------------------


def test_toml_syntax_error(tmp_path):
    text = TINY.replace('name = "Tiny"', 'name = "Tiny', 1)
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, 2)]
    assert "TOML syntax error" in problems[0].message


def test_missing_required_milestone_field(tmp_path):
    text = set_field(TINY, "b", "title", None)
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, header_line(text, "b"))]
    assert "milestone 'b': missing required field 'title'" in problems[0].message


def test_missing_required_top_level_field(tmp_path):
    text = TINY.replace('name = "Tiny"\n', "", 1)
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line, p.message) for p in problems] == [(file, 1, "playbook: missing required field 'name'")]


def test_unknown_stage(tmp_path):
    text = set_field(TINY, "b", "stage", 'stage = "set_up"')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "b", "stage"))]
    assert "unknown stage 'set_up'" in problems[0].message


def test_unknown_stage_in_stage_list(tmp_path):
    text = TINY.replace('stage = "training"', 'stage = "traning"', 1)
    file, problems = check(tmp_path, text)
    messages = {(p.line, p.message.split(" (")[0]) for p in problems}
    assert (line_of(text, '"traning"'), "stage #4: unknown stage 'traning'") in messages
    assert all(p.file == file for p in problems)
    assert any("missing stage 'training'" in p.message for p in problems)


def test_stage_out_of_order(tmp_path):
    text = TINY.replace('stage = "kickoff"\n\n', 'stage = "@@"\n\n').replace(
        'stage = "setup"\n\n', 'stage = "kickoff"\n\n'
    )
    text = text.replace('stage = "@@"', 'stage = "setup"')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, line_of(text, 'stage = "kickoff"'))]
    assert "stage 'kickoff': out of order" in problems[0].message


def test_unknown_role(tmp_path):
    text = set_field(TINY, "a", "customer_owner", 'customer_owner = "ceo"')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "a", "customer_owner"))]
    assert "unknown role 'ceo'" in problems[0].message


@pytest.mark.parametrize(
    ("field", "role", "side"),
    [("customer_owner", "technical_lead", "customer"), ("vendor_owner", "champion", "vendor")],
)
def test_role_on_the_wrong_side(tmp_path, field, role, side):
    text = set_field(TINY, "b", field, f'{field} = "{role}"')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "b", field))]
    assert f"must be a {side}-side role" in problems[0].message


def test_unknown_track(tmp_path):
    text = set_field(TINY, "b", "track", 'track = "sales"')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "b", "track"))]
    assert "unknown track 'sales'" in problems[0].message


def test_unknown_it_dependency(tmp_path):
    text = set_field(TINY, "sso", "requires_it", 'requires_it = "vpn"')
    text = text.replace("sso = [2, 4]", "sso = [2, 4]\nvpn = [1, 2]")
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [
        (file, line_of(text, "vpn = [1, 2]")),
        (file, block_line(text, "sso", "requires_it")),
    ]
    assert all("unknown IT dependency 'vpn'" in p.message for p in problems)


def test_dependency_on_unknown_key(tmp_path):
    text = TINY.replace('    "a",\n]', '    "a",\n    "zzz",\n]', 1)
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, line_of(text, '"zzz"'))]
    assert problems[0].message == "milestone 'b': depends on unknown milestone 'zzz'"


def test_dependency_cycle(tmp_path):
    text = set_field(TINY, "a", "client_verified", 'client_verified = false\ndepends_on = ["c"]')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "a", "depends_on"))]
    assert problems[0].message == "dependency cycle: a -> c -> b -> a"


def test_self_dependency_is_a_cycle(tmp_path):
    text = set_field(TINY, "sso", "depends_on", 'depends_on = ["sso"]')
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line, p.message) for p in problems] == [
        (file, block_line(text, "sso", "depends_on"), "dependency cycle: sso -> sso")
    ]


def test_due_before_start(tmp_path):
    text = set_field(TINY, "b", "due_day", "due_day = 1")
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "b", "due_day"))]
    assert "due_day 1 is before start_day 2" in problems[0].message


def test_negative_offset(tmp_path):
    text = set_field(TINY, "a", "start_day", "start_day = -1")
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "a", "start_day"))]
    assert "'start_day' must not be negative" in problems[0].message


def test_duplicate_milestone_key(tmp_path):
    text = set_field(TINY, "sso", "key", 'key = "b"')
    file, problems = check(tmp_path, text)
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line == 'key = "b"']
    duplicate = [p for p in problems if "duplicate" in p.message]
    assert [(p.file, p.line) for p in duplicate] == [(file, lines[1])]
    assert f"first defined on line {lines[0]}" in duplicate[0].message


def test_duplicate_playbook_key_across_files(tmp_path):
    (tmp_path / "a_first.toml").write_text(TINY)
    (tmp_path / "b_second.toml").write_text(TINY.replace('name = "Tiny"', 'name = "Tiny again"'))
    problems = validate_dir(tmp_path)
    assert [(p.file, p.line) for p in problems] == [(str(tmp_path / "b_second.toml"), 1)]
    assert f"already used by {tmp_path / 'a_first.toml'}:1" in problems[0].message


def test_exit_criterion_referencing_unknown_milestone(tmp_path):
    text = TINY.replace('milestones = [\n    "b",\n]', 'milestones = [\n    "b",\n    "ghost",\n]', 1)
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, line_of(text, '"ghost"'))]
    assert problems[0].message == "stage 'setup', criterion #1: refers to unknown milestone 'ghost'"


def test_client_verified_criterion_needs_client_verified_milestones(tmp_path):
    text = TINY.replace(
        'text = "Sponsor signed off"\nclient_verified = true\nmilestones = ["c"]',
        'text = "Sponsor signed off"\nclient_verified = true\nmilestones = ["c", "a"]',
    )
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, line_of(text, 'milestones = ["c", "a"]'))]
    assert "milestone 'a' is not" in problems[0].message


def test_unknown_field(tmp_path):
    text = set_field(TINY, "b", "depends_on", "dependson = [")
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, block_line(text, "b", "dependson"))]
    assert "unknown field 'dependson'" in problems[0].message


def test_plan_longer_than_length_days(tmp_path):
    text = TINY.replace("length_days = 10", "length_days = 7")
    file, problems = check(tmp_path, text)
    assert [(p.file, p.line) for p in problems] == [(file, line_of(text, "length_days = 7"))]
    assert "business day 8" in problems[0].message


def test_every_problem_is_reported(tmp_path):
    text = set_field(TINY, "a", "track", 'track = "sales"')
    text = set_field(text, "b", "vendor_owner", 'vendor_owner = "champion"')
    text = set_field(text, "c", "due_day", "due_day = 2")
    file, problems = check(tmp_path, text)
    assert [p.line for p in problems] == [
        block_line(text, "a", "track"),
        block_line(text, "b", "vendor_owner"),
        block_line(text, "c", "due_day"),
    ]
    assert {p.file for p in problems} == {file}


def test_missing_file_is_a_problem(tmp_path):
    problems = validate_file(tmp_path / "absent.toml")
    assert len(problems) == 1 and "cannot read file" in problems[0].message


def test_problem_str():
    assert str(Problem("x.toml", 12, "bad")) == "x.toml:12: bad"
    assert str(Problem("dir", 0, "not a directory")) == "dir: not a directory"


def test_validate_command_reports_problems(tmp_path, capsys):
    (tmp_path / "one.toml").write_text(set_field(TINY, "b", "track", 'track = "sales"'))
    assert validate_command(str(tmp_path)) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert re.match(rf"{re.escape(str(tmp_path / 'one.toml'))}:\d+: milestone 'b': unknown track 'sales'", out[0])
    assert out[-1].startswith("1 problem in 1 file")


def test_validate_command_on_missing_dir(tmp_path, capsys):
    assert validate_command(str(tmp_path / "nowhere")) == 1
    assert "not a directory" in capsys.readouterr().out


# --- overrides -----------------------------------------------------------------------------------


def test_override_dir_replaces_same_key_and_adds_new(tmp_path):
    shipped = (shipped_dir() / "standard_30.toml").read_text(encoding="utf-8")
    (tmp_path / "ours.toml").write_text(
        shipped.replace('name = "Standard high-touch, 30 days"', 'name = "Our 30 days"')
    )
    (tmp_path / "tiny.toml").write_text(TINY)
    playbooks = load_playbooks(tmp_path)
    assert set(playbooks) == SHIPPED | {"tiny"}
    assert playbooks["standard_30"].name == "Our 30 days"
    assert playbooks["standard_30"].source == str(tmp_path / "ours.toml")
    assert playbooks["light"].name == load_playbooks(None)["light"].name


def test_invalid_override_raises_with_every_problem(tmp_path):
    (tmp_path / "tiny.toml").write_text(set_field(TINY, "b", "track", 'track = "sales"'))
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(tmp_path)
    assert [(p.file, p.line) for p in caught.value.problems] == [
        (str(tmp_path / "tiny.toml"), block_line(set_field(TINY, "b", "track", 'track = "sales"'), "b", "track"))
    ]


# --- the line locator ---------------------------------------------------------------------------


def test_locator_follows_nested_arrays_of_tables_and_multiline_values():
    text = '''\
top = 1
notes = """
key = "not a key"
[[milestones]]
"""

[[stages]]
stage = "a"

[[stages.exit_criteria]]
text = "x"

[[stages]]
stage = "b"

[[stages.exit_criteria]]
text = "y"

[[stages.exit_criteria]]
text = "z"  # comment with a [bracket
milestones = ["m1",
  "m2"]

[[milestones]]
key = "m1"
'''
    loc = Locator(text)
    assert loc.line((), "notes") == 2
    assert loc.line(("stages", 1), "stage") == 14
    assert loc.line(("stages", 1, "exit_criteria", 1), "text") == 20
    assert loc.value_line(("stages", 1, "exit_criteria", 1), "milestones", "m2") == 22
    assert loc.line(("milestones", 0), "key") == 25
    assert loc.line(("milestones", 0), "title") == 24
    assert loc.line(("milestones", 5), "key") == 1


def test_parse_text_gives_no_playbook_with_problems():
    parsed = parse_text(TINY.replace('track = "it"', 'track = "nope"'), "inline.toml")
    assert parsed.playbook is None and parsed.key == "tiny" and parsed.problems


def test_a_milestone_may_be_completed_by_a_key_event_but_never_go_live(tmp_path):
    with_event = set_field(TINY, "b", "title", 'title = "B"\ncompleted_by_event = "first_report_created"')
    assert check(tmp_path, with_event)[1] == []
    assert parse_text(with_event, "tiny.toml").playbook.milestone("b").completed_by_event == "first_report_created"
    assert parse_text(TINY, "tiny.toml").playbook.milestone("b").completed_by_event is None
    bad_name = set_field(TINY, "b", "title", 'title = "B"\ncompleted_by_event = "First Report"')
    _, problems = check(tmp_path, bad_name)
    assert [(p.line, p.message) for p in problems] == [
        (
            block_line(bad_name, "b", "completed_by_event"),
            "milestone 'b': 'completed_by_event' must be lowercase letters, digits and underscores, "
            "starting with a letter",
        )
    ]
    on_go_live = set_field(TINY, "c", "title", 'title = "C"\ncompleted_by_event = "went_live"')
    _, problems = check(tmp_path, on_go_live)
    assert [p.message for p in problems] == [
        "milestone 'c': go-live is signed off by the sponsor, never completed by an event"
    ]
