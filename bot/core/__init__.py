"""The shared vocabulary: domain enums, ids of every Slack element, typed payloads, what a change
did (effects), notices, the business calendar, the clock, money.

Imports only the standard library and other bot.core modules, so every layer, the store included,
can speak it.
"""
