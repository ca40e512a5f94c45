"""onboard-bot: customer onboarding run from Slack.

Packages, in the order a request meets them:
- bot.runtime     process plumbing: settings, the app factory, the HTTP server, the CLI, the scheduler
                  and sweep, locks, logs. May import anything.
- bot.slack       the only code that calls Slack: publishing cards, delivering the outbox, look-ups,
                  reading forms. May import the domain, messages and store.
- bot.onboarding, bot.milestones, bot.automation, bot.planning
                  the domain. They may import bot.core, each other (planning is the lowest) and
                  store; never slack_sdk, slack_bolt, messages, handlers, bot.slack or bot.runtime.
- bot.core        the shared vocabulary every layer speaks. Imports nothing of the project.
- bot.fake_slack  a local stand-in for the Slack Web API, for tests and the demo (standard library only).
The layering is checked by import-linter (the [tool.importlinter] contracts in pyproject.toml).
"""
