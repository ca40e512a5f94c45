"""Onboarding playbooks: the TOML files shipped in bot/planning/playbooks/ (or a team's own), read and checked.

See bot/planning/playbooks/standard_30.toml for the file format. An optional `[rules]` table overrides the
rules engine's defaults for onboardings run on that playbook (keys and defaults: bot/planning/settings.py).
"""

from bot.planning.playbook.load import (
    load_playbooks,
    playbook_for_tier,
    shipped_dir,
    validate_command,
    validate_dir,
    validate_file,
)
from bot.planning.playbook.model import (
    DEFAULT_IT_DURATIONS,
    ExitCriterion,
    MilestoneSpec,
    PhaseSpec,
    Playbook,
    StageSpec,
)
from bot.planning.playbook.parse import PlaybookError, Problem, parse_text

__all__ = [
    "DEFAULT_IT_DURATIONS",
    "ExitCriterion",
    "MilestoneSpec",
    "PhaseSpec",
    "Playbook",
    "PlaybookError",
    "Problem",
    "StageSpec",
    "load_playbooks",
    "parse_text",
    "playbook_for_tier",
    "shipped_dir",
    "validate_command",
    "validate_dir",
    "validate_file",
]
