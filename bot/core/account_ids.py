"""The product's id of a customer's account (what usage reports name): how one may look."""

from __future__ import annotations

import re

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$")
ACCOUNT_ID_MAX = 100


def account_problem(account_id: str) -> str | None:
    if not ACCOUNT_ID.match(account_id):
        return (
            "An account id is up to 100 letters, digits and . _ : @ / - (starting with a letter or digit), "
            "as the product names the customer's account."
        )
    return None
