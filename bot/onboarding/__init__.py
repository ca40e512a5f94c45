"""An onboarding from handoff to live: the handoff draft and its checks, starting an onboarding, the
readiness gate and its override, finding onboardings, the App Home data, activity in the channel.

May import bot.core, bot.planning, bot.milestones (its rules) and store; never Slack, messages or handlers.
"""
