"""Posting the value report to the shared channel: the report, then its chart shared with the upload flow,
or the chart's figures as text where Slack refuses the upload."""

from __future__ import annotations

import logging
from datetime import date, datetime

from slack_sdk.errors import SlackApiError

from bot.slack.publish import Outlet
from bot.slack.uploads import share_file
from bot.value.accounts import record_report_posted
from bot.value.metrics import WeekPoint
from bot.value.report import ReportFacts, report_facts
from bot.value.summary import summarise
from messages import value_report
from messages.chart import adoption_png

log = logging.getLogger(__name__)


def facts_of(services: Outlet, onboarding_id: int, now: datetime) -> ReportFacts | None:
    summary = summarise(services.engine, onboarding_id, now, services.playbooks)
    return None if summary is None else report_facts(summary)


def _points(facts: ReportFacts) -> list[WeekPoint]:
    weeks = facts.values["weeks"]
    return [WeekPoint(w["week"], w["start"], w["active"], w["seats"]) for w in weeks]


def post_report(
    services: Outlet,
    onboarding_id: int,
    channel_id: str | None,
    *,
    actor: str,
    now: datetime,
    edited: str | None = None,
) -> str:
    """Post it; returns what to tell the person who asked."""
    facts = facts_of(services, onboarding_id, now)
    if facts is None:
        return "This onboarding no longer exists; nothing was posted."
    if not channel_id:
        return "This onboarding has no shared channel to post the report to."
    shown = value_report.report_blocks(services.templates, facts, edited_intro=edited)
    try:
        ts = services.poster.chat_postMessage(channel=channel_id, blocks=shown, text=value_report.report_text(facts))[
            "ts"
        ]
    except SlackApiError as exc:
        error = exc.response.get("error", "an error")
        return f"Slack refused the report ({error}); nothing was posted. Check that the bot is in the channel, then try again."
    chart = "none (no weekly counts since go-live)"
    points = _points(facts)
    if points:
        png = adoption_png(points, value_report.chart_title(facts))
        file_id = share_file(
            services.poster,
            channel_id=channel_id,
            data=png,
            filename=f"adoption-{date.isoformat(facts.values['today'])}.png",
            title=value_report.chart_title(facts),
        )
        if file_id is None:
            chart = "text (the upload was refused)"
            try:
                services.poster.chat_postMessage(
                    channel=channel_id, thread_ts=ts, text=value_report.chart_fallback(services.templates, facts)
                )
            except SlackApiError as exc:
                log.warning(
                    "the chart's text for onboarding %s was refused: %s", onboarding_id, exc.response.get("error")
                )
        else:
            chart = file_id
    record_report_posted(
        services.engine, onboarding_id, actor=actor, channel_id=channel_id, ts=ts, chart=chart, now=now
    )
    if chart.startswith("text"):
        return "Posted the report. Slack refused the chart's upload, so its figures follow as text in the thread."
    return "Posted the report to the shared channel."
