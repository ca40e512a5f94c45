"""The only code that calls the Slack Web API: the publish path for cards and history, delivery of the
outbox, look-ups of users and channels, reading what a modal sent, and the turns a click's work takes
until it first calls Slack.

May import the domain packages, messages and store.
"""
