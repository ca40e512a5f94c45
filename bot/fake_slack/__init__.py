"""A local fake of Slack's Web API, for tests and for the offline demo.

It depends only on the standard library, so `onboard-bot demo` can run the real bot against it.
"""

from .server import Call, FakeSlack

__all__ = ["Call", "FakeSlack"]
