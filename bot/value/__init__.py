"""Value and adoption after go-live: product usage in, the numbers that say whether it is paying off out.

Holds the reading and checking of usage reports (`usage`), the pure computations over them
(`metrics`: time to value, seat activation, milestone rates, the go-live criterion, the weekly
series and its trend; `health`: the early health score with product usage as its usage part) and
the writes that record usage and let a key event complete a milestone (`ingest`, `accounts`).

May import bot.core, bot.planning and store; never Slack, messages, handlers, bot.slack or
bot.runtime (what changed is returned as bot.core.effects for the publish path).
"""
