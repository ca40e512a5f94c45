"""Annual contract values as people type them: "50000", "$50,000", "50k", "1.2M"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^\$?\s*(?P<number>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmM])?\s*(?:usd|USD)?$")
_SCALE = {None: 1, "k": 1_000, "m": 1_000_000}
MAX_ACV = Decimal(1_000_000_000)


class AmountError(ValueError):
    pass


def parse_acv(text: str) -> Decimal:
    """The amount in dollars, or AmountError with what to type instead."""
    raw = (text or "").strip()
    if raw.startswith("-"):
        raise AmountError("The annual contract value must be more than zero.")
    match = _AMOUNT.match(raw)
    if not match or (match["number"].count(",") and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", match["number"])):
        raise AmountError("Enter the annual contract value as a number, e.g. 50000, $50,000 or 50k.")
    try:
        amount = Decimal(match["number"].replace(",", "")) * _SCALE[(match["suffix"] or "").lower() or None]
    except InvalidOperation:
        raise AmountError("Enter the annual contract value as a number, e.g. 50000, $50,000 or 50k.") from None
    if amount <= 0:
        raise AmountError("The annual contract value must be more than zero.")
    if amount > MAX_ACV:
        raise AmountError("That is more than a billion a year; check the number.")
    return amount.quantize(Decimal("0.01"))


def format_usd(amount: Decimal) -> str:
    return f"${amount:,.0f}" if amount == amount.to_integral() else f"${amount:,.2f}"
