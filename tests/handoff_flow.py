"""Driving the `/onboard new` modal the way a person does, step by step, through signed requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.ids import Field, View, person_field
from tests.conftest import (
    CUSTOMER_CHAMPION,
    CUSTOMER_SPONSOR,
    INTERNAL_CHANNEL,
    SHARED_CHANNEL,
    VENDOR_AE,
    VENDOR_CSM,
    VENDOR_MANAGER,
    Harness,
)
from tests.slack_sender import Reply


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def day(iso: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": iso}


def user(user_id: str) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def channel(channel_id: str) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": channel_id}


def choice(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


def ticks(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def state(fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {block: {block: element} for block, element in fields.items()}


def basics(**over: Any) -> dict[str, dict[str, Any]]:
    fields = {
        Field.CUSTOMER_NAME: text("Acme Corp"),
        Field.ACV: text("$40,000"),
        Field.TIER: choice(None),
        Field.PLAYBOOK: choice(None),
        Field.CONTRACT_SIGNED: day("2026-05-01"),
        Field.TARGET_GO_LIVE: day("2026-06-19"),
        Field.TIMEZONE: choice("America/New_York"),
        Field.IT_DEPENDENCIES: ticks("sso"),
        Field.IT_OTHER: text(""),
    }
    fields.update({Field(k): v for k, v in over.items()})
    return fields


def team(**over: Any) -> dict[str, dict[str, Any]]:
    fields = {
        Field.SHARED_CHANNEL: channel(SHARED_CHANNEL),
        Field.INTERNAL_CHANNEL: channel(INTERNAL_CHANNEL),
        Field.CSM: user(VENDOR_CSM),
        Field.AE: user(VENDOR_AE),
        Field.TECH_LEAD: user(VENDOR_CSM),
        Field.MANAGER: user(VENDOR_MANAGER),
        Field.ESCALATION_CONTACT: user(VENDOR_MANAGER),
    }
    fields.update({Field(k): v for k, v in over.items()})
    return fields


def person(role: str, *, slack: str | None = None, name: str = "", email: str = "") -> dict[str, dict[str, Any]]:
    return {
        person_field(role, "user"): {"type": "users_select", "selected_user": slack},
        person_field(role, "name"): text(name),
        person_field(role, "email"): text(email),
    }


def customer(*, project_owner_fit: tuple[str, ...] = ("capacity", "authority"), **people: dict) -> dict:
    fields: dict[str, dict[str, Any]] = {}
    defaults = {
        "economic_buyer": person("economic_buyer", slack=CUSTOMER_SPONSOR),
        "executive_sponsor": person("executive_sponsor", slack=CUSTOMER_SPONSOR),
        "champion": person("champion", slack=CUSTOMER_CHAMPION),
        "project_owner": person("project_owner", name="Pat Owner", email="pat@acme.example"),
        "day_to_day_owner": person("day_to_day_owner", name="Dee Daily", email="dee@acme.example"),
        "it_contact": person("it_contact", name="Ian Tech", email="ian@acme.example"),
    }
    defaults.update(people)
    for entry in defaults.values():
        fields.update(entry)
    fields[Field.PROJECT_OWNER_FITNESS] = ticks(*project_owner_fit)
    return fields


def story(**over: str) -> dict[str, dict[str, Any]]:
    fields = {
        Field.SOLD: "Growth plan, 120 seats, premium support",
        Field.COMMITMENTS: "SSO working before the team offsite",
        Field.SUCCESS_CRITERIA: "Every regional team plans its week in the product",
        Field.FIRST_VALUE: "The first team's weekly plan built without spreadsheets",
        Field.FULL_VALUE: "All 120 people active every week",
        Field.CONCERNS: "",
        Field.POLITICAL_DYNAMICS: "",
    }
    fields.update({Field(k): v for k, v in over.items()})
    return {k: text(v) for k, v in fields.items()}


@dataclass
class HandoffFlow:
    h: Harness
    user_id: str = VENDOR_CSM
    team_id: str | None = None
    view: dict[str, Any] = field(default_factory=dict)

    def open(self, channel_id: str = SHARED_CHANNEL) -> Reply:
        reply = self.h.slack.command("new", user_id=self.user_id, channel_id=channel_id, team_id=self.team_id)
        if reply.status == 200 and not reply.text:
            opened = self.h.fake.wait_for("views.open")
            self.view = self.h.fake.view(opened.response["view"]["id"])
        return reply

    def submit(self, fields: dict[str, dict[str, Any]]) -> Reply:
        reply = self.h.slack.view_submission(self.view, state(fields), user_id=self.user_id, team_id=self.team_id)
        body = reply.json if reply.text else {}
        if body.get("response_action") == "update":
            # Slack replaces the view in place: same id, new content.
            self.view = {**body["view"], "id": self.view["id"]}
        return reply

    @property
    def step(self) -> str:
        return self.view.get("callback_id", "")

    def complete(
        self,
        *,
        basics_: dict | None = None,
        team_: dict | None = None,
        customer_: dict | None = None,
        story_: dict | None = None,
    ) -> dict[str, Any]:
        """Run all four steps; returns the result view once the bot has finished setting up."""
        self.open()
        for fields, expected_next in (
            (basics_ or basics(), View.HANDOFF_TEAM),
            (team_ or team(), View.HANDOFF_CUSTOMER),
            (customer_ or customer(), View.HANDOFF_STORY),
        ):
            reply = self.submit(fields)
            assert reply.status == 200 and self.step == expected_next, reply.text
        reply = self.submit(story_ or story())
        assert reply.json["response_action"] == "update", reply.text
        done = self.h.fake.wait_for("views.update", lambda c: c.args.get("view_id") == self.view["id"])
        return done.args["view"]
