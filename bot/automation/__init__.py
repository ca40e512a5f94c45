"""The rules that act on their own: deciding, at a given now, who must hear what (bot.automation.rules),
the health score, snoozes and escalation pick-ups.

May import bot.core, bot.planning, bot.milestones, bot.value (the adoption trend) and store; never Slack,
messages or handlers.
"""
