"""Message templates: mrkdwn escaping, length caps, a team's own file overriding a shipped one, and validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from bot.runtime import cli
from bot.value.metrics import Activation, GoLiveCriterion
from messages import value_posts
from messages.templates import Mrkdwn, Templates, shipped_names, validate_dir
from messages.value_posts import SAMPLES

CRITERION = GoLiveCriterion(80, Activation(None, 41, 50))  # type: ignore[arg-type]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.md.j2"
    path.write_text(text)
    return path


def test_every_shipped_template_has_sample_values_and_validates():
    assert set(shipped_names()) == set(SAMPLES)
    shipped = Path(value_posts.__file__).parent / "templates"
    assert validate_dir(shipped, SAMPLES) == []


def test_values_are_escaped_for_mrkdwn_unless_the_bot_built_them(tmp_path):
    write(tmp_path, "go_live_criterion", "{{ name }} / {{ who }}")
    text = Templates(tmp_path).render("go_live_criterion", name="<!channel> & <https://x|y>", who=Mrkdwn("<@U1>"))
    assert text == "&lt;!channel&gt; &amp; &lt;https://x|y&gt; / <@U1>"


def test_a_rendering_is_cut_to_its_cap(tmp_path):
    write(tmp_path, "go_live_criterion", "{% for i in range(500) %}word {% endfor %}")
    assert len(Templates(tmp_path).render("go_live_criterion", cap=100)) == 100


def test_the_sandbox_keeps_a_template_out_of_python(tmp_path):
    write(tmp_path, "go_live_criterion", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        Templates(tmp_path).render("go_live_criterion")


def test_a_team_template_overrides_the_shipped_one_by_name(tmp_path):
    shipped = value_posts.go_live_criterion(Templates(), CRITERION, 7)
    assert "41 of 50 seats active in the last 7 days (82%)" in shipped[0]["elements"][0]["text"]
    write(
        tmp_path,
        "go_live_criterion",
        "Adoption: {{ activation.active }}/{{ activation.seats }} ({{ activation.percent }}%).",
    )
    ours = value_posts.go_live_criterion(Templates(tmp_path), CRITERION, 7)
    assert ours[0]["elements"][0]["text"] == "Adoption: 41/50 (82%)."
    # a name the team did not override still comes from the shipped files
    assert (
        Templates(tmp_path / "missing")
        .render("go_live_criterion", **SAMPLES["go_live_criterion"])
        .startswith(":white_check_mark:")
    )


def test_validate_names_file_and_line_of_every_broken_template(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.logs, "configure", lambda *a, **k: None)
    syntax = write(tmp_path, "go_live_criterion", "line one\n{% if met %}\nunclosed\n")
    unknown = write(tmp_path, "weekly_digest", "hello")
    assert cli.main(["templates", "validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        err[0]
        == f"{syntax}:3: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."
    )
    assert err[1].startswith(f"{unknown}: not a template the bot uses")
    assert err[2] == "2 problem(s); fix them before pointing ONBOARD_TEMPLATES_DIR here"
    unknown.unlink()
    write(tmp_path, "go_live_criterion", "fine\n{{ activation.active }}\n{{ nonsense.deep }}\n")
    assert cli.main(["templates", "validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{syntax}:3: 'nonsense' is undefined"
    write(tmp_path, "go_live_criterion", "{{ activation.active }} active")
    assert cli.main(["templates", "validate", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"{tmp_path}: templates are valid\n"
