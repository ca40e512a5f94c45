"""Sealed texts (bot.core.signing): whatever comes back is opened or refused, never an error."""

from __future__ import annotations

import pytest

from bot.core.payloads import BadPayload
from bot.core.signing import Seal

SEAL = Seal("a secret")


def test_a_sealed_text_opens_with_any_characters():
    for text in ("plain", "Zürich · 東京", "\ud800 lone surrogate"):
        assert SEAL.open(SEAL.seal(text)) == text


@pytest.mark.parametrize("returned", [None, "", "no separator", "text~forged", "text~é", "x~\ud800", "~"])
def test_anything_else_is_refused(returned):
    with pytest.raises(BadPayload):
        SEAL.open(returned)


def test_another_key_does_not_open_it():
    with pytest.raises(BadPayload):
        Seal("another").open(SEAL.seal("text"))
