"""`onboard-bot metrics` output: a table for people, CSV for a spreadsheet (one header, one row per
group), JSON for scripts. Plain text: nothing here reaches Slack."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, Protocol


class Row(Protocol):
    key: str

    def as_row(self) -> dict[str, Any]: ...


def _show(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value}{unit}"


def as_table(groups: Sequence[Row]) -> str:
    if not groups:
        return "No onboardings to measure.\n"
    out = []
    for g in groups:
        r = g.as_row()
        out.append(f"{r['group']} ({r['onboardings']} onboarding{'s' if r['onboardings'] != 1 else ''})")
        out.append(f"  time to first value   median {_show(r['median_days_to_first_value'], ' days')} (target 14 days)"
                   + (f"; missed: {r['first_value_missed']}" if r["first_value_missed"] else ""))  # fmt: skip
        out.append(f"  seat activation       median {_show(r['median_activation_percent'], '%')} (target 70% by day 60)"
                   + (f"; missed: {r['activation_missed']}" if r["activation_missed"] else ""))  # fmt: skip
        out.append(f"  milestone completion  {_show(r['completion_percent'], '%')} (target {r['completion_target_percent']}%)"
                   + (f"; missed: {r['completion_missed']}" if r["completion_missed"] else ""))  # fmt: skip
        out.append(f"  on time               {_show(r['on_time_percent'], '%')}")
        out.append(f"  schedule              {r['on_track']} on track, {r['at_risk']} at risk, {r['behind']} behind, "
                   f"{r['live']} live")  # fmt: skip
        csat = [f"{k.removeprefix('csat_').replace('_', '-')} {_show(v)}" for k, v in r.items()
                if k.startswith("csat_") and v is not None]  # fmt: skip
        out.append(f"  CSAT (1-5)            {', '.join(csat) if csat else 'no ratings yet'}")
    return "\n".join(out) + "\n"


def as_csv(groups: Sequence[Row]) -> str:
    rows = [g.as_row() for g in groups]
    buffer = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def as_json(groups: Sequence[Row]) -> str:
    return json.dumps([g.as_row() for g in groups], indent=2, default=str) + "\n"
