"""The store: SQLModel tables, sessions, the queries and bulk writes the domain needs, the outbox,
and Alembic migrations (store/migrations). SQLite by default, PostgreSQL by URL.

May import bot.core only (its enums name the stored values), never the domain, Slack or messages.
"""
