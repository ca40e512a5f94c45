"""Process plumbing: settings, the app factory and services, the HTTP server, logs, the CLI, the
scheduler, one sweep, and the sweep lock.

May import anything in the project.
"""
