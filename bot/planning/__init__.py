"""Planning: playbooks (TOML files, read and checked), the settings their [rules] tables carry, and
dating a plan for one customer with its feasibility.

May import bot.core. Pure: no store, no Slack.
"""
