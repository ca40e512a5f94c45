"""The only code that calls the Slack Web API: the publish path for cards and history, delivery of the
outbox, look-ups of users and channels, and reading what a modal sent.

May import the domain packages, messages and store.
"""
