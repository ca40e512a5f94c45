"""Sealing what the bot hands to Slack to carry back (a modal's `private_metadata`).

A sealed text ends in an HMAC of itself under a server-side key, so a person's client can return it
but not forge or alter it: a draft whose channels were edited, or a form pointed at another
onboarding, fails to open and is refused before any code reads it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bot.core.payloads import BadPayload

SEPARATOR = "~"
MAC_BYTES = 16
SEAL_LENGTH = len(SEPARATOR) + len(base64.urlsafe_b64encode(b"\0" * MAC_BYTES).rstrip(b"="))


class Seal:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a seal needs a secret")
        self._key = hashlib.sha256(b"onboard-bot seal:" + secret.encode()).digest()

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()[:MAC_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, text: str) -> str:
        return f"{text}{SEPARATOR}{self._mac(text)}"

    def open(self, sealed: str | None) -> str:
        """The text, or BadPayload when it was not sealed here or was changed since."""
        text, separator, mac = (sealed or "").rpartition(SEPARATOR)
        # As bytes: compare_digest refuses a str with characters outside ASCII, which a forger may send.
        if not separator or not hmac.compare_digest(mac.encode(), self._mac(text).encode()):
            raise BadPayload("not sealed by this bot")
        return text
