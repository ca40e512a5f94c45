"""Milestones and stages: who may do what, the status transitions, changes as compare-and-set, stage
exit criteria, moving on and the go-live sign-off, progress words.

May import bot.core, bot.planning, bot.onboarding and store; never Slack, messages or handlers.
"""
