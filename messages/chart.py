"""The adoption chart: weekly active users against provisioned seats since go-live, as PNG bytes.

Drawn with matplotlib's Agg backend: it renders straight to a PNG in memory with no display, no
browser and no native helper process, so it runs the same on a headless server, in Docker and in
tests (Vega-Lite through vl-convert would add a bundled JavaScript engine for one line chart). The
figures drawn are also written into the PNG's `Description` text chunk as JSON, so what the chart
shows can be read back and checked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, ever

from matplotlib.figure import Figure

from bot.value.metrics import WeekPoint

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100


def chart_data(points: Sequence[WeekPoint]) -> dict[str, list]:
    return {
        "week": [p.week for p in points],
        "week_start": [p.start.isoformat() for p in points],
        "weekly_active_users": [p.active for p in points],
        "provisioned_seats": [p.seats for p in points],
    }


def adoption_png(points: Sequence[WeekPoint], title: str) -> bytes:
    """A line chart of the weekly points (at least one)."""
    data = chart_data(points)
    # A Figure of its own (not pyplot): nothing global, safe on the server's worker threads.
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    ax = fig.subplots()
    weeks = data["week"]
    ax.plot(weeks, data["weekly_active_users"], marker="o", color="#1264a3", linewidth=2, label="Weekly active users")
    seats = [s if s is not None else float("nan") for s in data["provisioned_seats"]]
    ax.step(weeks, seats, where="post", color="#9e9ea6", linestyle="--", label="Provisioned seats")
    ax.set_xlabel("Weeks since go-live")
    ax.set_ylabel("Users")
    ax.set_ylim(bottom=0)
    ax.set_xticks(weeks)
    ax.set_title(title[:80])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Description": json.dumps(data), "Software": "onboard-bot"})
    return out.getvalue()
