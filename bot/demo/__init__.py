"""The offline sandbox behind `onboard-bot demo`: the real bot, the bundled fake Slack and a small
web page showing the sandbox workspace, all in one process bound to 127.0.0.1.

Everything a sample person does in the page reaches the bot as a signed Slack request over HTTP
(`requests`), exactly as Slack would send it; the sandbox never calls the bot's own code to act.
The bot's clock is the sandbox's (`Services.clock`), moved by the page or the script, and the
scheduler's sweep runs at that time. May import bot.core, bot.fake_slack, bot.runtime (to build and
serve the app and run its sweep), bot.planning, bot.automation.rules (the sweep's rules) and
store.db / store.migrate (a fresh database); never handlers, messages, bot.slack, bot.onboarding
or bot.milestones. Nothing in the product imports it except the CLI's `demo` command.
"""
