"""What people read: Block Kit builders for cards, modals, posts and the App Home.

Person-typed text is escaped for mrkdwn here (messages.blocks.esc). May import bot.core, the domain
packages (for their value types) and store's models (as types); never Slack I/O, handlers or runtime.
"""
