"""What any text a person types into a form must satisfy before it is stored: a length limit (the
same the form declares, checked again here because a request need not come from the form) and no
control characters, which Slack would show as garbage and PostgreSQL refuses outright (NUL).

`problem(text, limit, multiline=...)` says what is wrong, in words for an inline form error, or
None when the text is fine. Emptiness is each form's own business.
"""

from __future__ import annotations

import re

# C0 controls and DEL, but tab; line breaks are allowed where the field is multiline. Lone
# surrogates cannot be encoded as UTF-8, so no database can store them.
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_MULTILINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def problem(text: str, limit: int, *, multiline: bool = False) -> str | None:
    """Why `text` can't be taken as it is (too long, or characters no one can see), or None."""
    if len(text) > limit:
        return f"Keep this under {limit} characters (it is {len(text)})."
    bad = (_MULTILINE_BAD if multiline else _SINGLE_LINE_BAD).search(text)
    if bad is not None:
        if bad.group() in "\r\n":
            return "Keep this on one line."
        return "Remove the control characters (such as NUL) from this; they can't be shown or stored."
    return None
