"""Render the Jenkins job history as a terminal table, a Markdown page and a static HTML page."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Sequence

from ci.jenkins import KEY_METRICS, BuildRow

COLUMNS = ("build", "result", "duration", "commit", "started (UTC)", *KEY_METRICS)


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"


def _started(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if ts else ""


def history_cells(row: BuildRow) -> list[str]:
    """The text of one history row, in COLUMNS order."""
    metrics = [f"{row.metrics[k]:.3f}" if k in row.metrics else "–" for k in KEY_METRICS]
    return [f"#{row.number}", row.result, _duration(row.duration_s), row.commit or "–",
            _started(row.started), *metrics]


def history_markdown(job: str, rows: Sequence[BuildRow]) -> str:
    """A Markdown page: title plus one table row per build, linking each build."""
    lines = [f"# Jenkins job history: {job}", "", "| " + " | ".join(COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = history_cells(row)
        if row.url:
            cells[0] = f"[{cells[0]}]({row.url})"
        lines.append("| " + " | ".join(cells) + " |")
    if not rows:
        lines.append("\n_no builds yet_")
    return "\n".join(lines) + "\n"


_RESULT_COLOURS = {"SUCCESS": "#2e7d32", "FAILURE": "#c62828", "UNSTABLE": "#ef6c00", "ABORTED": "#616161",
                   "RUNNING": "#1565c0"}


def history_html(job: str, rows: Sequence[BuildRow]) -> str:
    """A self-contained static HTML page (no scripts, inline style) of the history."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = []
    for row in rows:
        cells = [esc(c) for c in history_cells(row)]
        if row.url:
            cells[0] = f'<a href="{esc(row.url, quote=True)}">{cells[0]}</a>'
        colour = _RESULT_COLOURS.get(row.result, "#000")
        cells[1] = f'<span style="color:{colour};font-weight:bold">{cells[1]}</span>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows_html = "\n".join(body) or f'<tr><td colspan="{len(COLUMNS)}">no builds yet</td></tr>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(job)}: job history</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#eee}}</style></head>
<body><h1>Jenkins job history: {esc(job)}</h1>
<table><thead><tr>{head}</tr></thead><tbody>
{rows_html}
</tbody></table></body></html>
"""
