from pathlib import Path

from tests.slack_checks import check_manifest

ROOT = Path(__file__).resolve().parents[1]


def test_app_manifest_is_valid_for_slack():
    assert check_manifest(ROOT / "manifest.json") == []


def test_manifest_declares_what_the_bot_uses():
    import json

    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/onboard"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:read", "users:read", "users:read.email"} <= scopes
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
