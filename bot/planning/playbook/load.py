"""Finding, validating and choosing playbooks."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.core.domain import Tier
from bot.planning.playbook.model import Playbook
from bot.planning.playbook.parse import Parsed, PlaybookError, Problem, parse_text


def shipped_dir() -> Traversable:
    return files("bot.planning") / "playbooks"


def _read(file: Traversable) -> Parsed:
    label = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Parsed(None, [Problem(label, 0, f"cannot read file: {exc}")])
    return parse_text(text, label)


def _check_dir(directory: Traversable) -> tuple[list[Problem], dict[str, Playbook]]:
    label = str(directory)
    if not directory.is_dir():
        return [Problem(label, 0, "not a directory")], {}
    paths = sorted((f for f in directory.iterdir() if f.name.endswith(".toml") and f.is_file()), key=lambda f: f.name)
    if not paths:
        return [Problem(label, 0, "no playbook files (*.toml) found")], {}
    problems: list[Problem] = []
    playbooks: dict[str, Playbook] = {}
    owners: dict[str, tuple[str, int]] = {}
    for path in paths:
        parsed = _read(path)
        problems.extend(parsed.problems)
        if parsed.key is None:
            continue
        if parsed.key in owners:
            file, line = owners[parsed.key]
            problems.append(
                Problem(str(path), parsed.key_line, f"playbook key '{parsed.key}' is already used by {file}:{line}")
            )
            continue
        owners[parsed.key] = (str(path), parsed.key_line)
        if parsed.playbook is not None:
            playbooks[parsed.key] = parsed.playbook
    return sorted(problems), playbooks


def validate_file(path: Path) -> list[Problem]:
    return _read(Path(path)).problems


def validate_dir(path: Path | Traversable) -> list[Problem]:
    """Every problem in every `*.toml` file of the directory, plus keys used by two files."""
    return _check_dir(Path(path) if isinstance(path, str) else path)[0]


def load_playbooks(override_dir: Path | None = None) -> dict[str, Playbook]:
    """The shipped playbooks, replaced by same-key files in `override_dir` and joined by new ones there.

    Raises PlaybookError listing every problem when any file is invalid.
    """
    problems, playbooks = _check_dir(shipped_dir())
    if override_dir is not None:
        more_problems, overrides = _check_dir(Path(override_dir))
        problems += more_problems
        playbooks.update(overrides)
    if problems:
        raise PlaybookError(problems)
    return playbooks


def playbook_for_tier(
    playbooks: Mapping[str, Playbook], tier: Tier, preferred_key: str | None = None
) -> Playbook | None:
    """The playbook to run for an account of `tier`.

    A preferred key wins whatever its tiers (a team's explicit choice); an unknown one raises
    KeyError. Otherwise the shortest playbook listing the tier, or None when none does (self-serve).
    """
    if preferred_key is not None:
        if preferred_key not in playbooks:
            raise KeyError(f"no playbook with key '{preferred_key}'")
        return playbooks[preferred_key]
    candidates = [p for p in playbooks.values() if tier in p.tiers]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (p.length_days, p.key))


def validate_command(directory: str | None) -> int:
    """Print every problem (one per line) and a summary; 0 when clean, 1 otherwise."""
    target = shipped_dir() if directory is None else Path(directory)
    problems, playbooks = _check_dir(target)
    for problem in problems:
        print(problem)
    if problems:
        files_hit = len({p.file for p in problems})
        print(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"in {files_hit} file{'s' if files_hit != 1 else ''} under {target}"
        )
        return 1
    print(
        f"{len(playbooks)} playbook{'s' if len(playbooks) != 1 else ''} valid in {target}: {', '.join(sorted(playbooks))}"
    )
    return 0
