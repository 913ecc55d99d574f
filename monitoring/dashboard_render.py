"""Static rendering of the training dashboard (PNG + HTML with matplotlib) from the run ledger.

Grafana cannot run on every machine; this draws the same panels from the same SQL
(monitoring.ledger_queries) so a person can look at training progress anywhere:
runs by status, throughput, learning curves, evaluation vs baselines and the promotion history.
"""
from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from pathlib import Path
from typing import Any

from monitoring.ledger_queries import QUERIES

PNG_NAME = "training_dashboard.png"
VIEW_LIMIT = 4.0  # the evaluation panels' x axis ends here (time ratios; 1 = the reference)
HTML_NAME = "training_dashboard.html"
LEDGER_TABLES = ("runs", "training_metrics", "evaluation_results", "promotions")
TIME_COLUMNS = {"time", "started_at", "ended_at"}
# training.gate decisions: promoted | first (no champion yet: no comparison) | rejected
DECISION_STYLE = {"promoted": ("tab:green", "o"), "first": ("tab:blue", "*"), "rejected": ("tab:red", "o")}


def fetch_panels(db_url: str) -> dict[str, Any]:
    """Run every training-dashboard query on the ledger at ``db_url``: {query name: DataFrame}.

    Raises training.ledger.LedgerError (one line, password hidden) when the URL is invalid, the
    database cannot be reached or holds no run ledger.
    """
    import pandas as pd
    import sqlalchemy as sa

    from training.ledger import LedgerError, make_engine, redact

    try:
        url = sa.make_url(db_url)
    except sa.exc.ArgumentError:
        url = None  # make_engine reports it
    if url is not None and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # connecting would create an empty file: a wrong path must leave nothing behind
        raise LedgerError(f"no ledger file at {url.database or '(memory)'}: train a run first "
                          "or point SWARMOPS_DB_URL at the ledger")
    engine = make_engine(db_url)
    try:
        try:
            with engine.connect() as conn:
                missing = [t for t in LEDGER_TABLES if not sa.inspect(conn).has_table(t)]
                if missing:
                    raise LedgerError(f"{redact(db_url)} holds no run ledger (missing tables: "
                                      f"{', '.join(missing)}); train a run first or point SWARMOPS_DB_URL "
                                      "at the ledger")
                panels = {name: pd.read_sql(sa.text(q.sql), conn) for name, q in QUERIES.items()}
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise LedgerError(f"cannot read the ledger database {redact(db_url)}: {reason}") from None
    finally:
        engine.dispose()
    for df in panels.values():
        for column in TIME_COLUMNS.intersection(df.columns):
            df[column] = pd.to_datetime(df[column])  # SQLite hands timestamps back as text
    return panels


def _empty(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _status_panel(ax: Any, df: Any) -> None:
    title = QUERIES["run_status"].title
    if df.empty:
        return _empty(ax, title)
    table = df.pivot_table(index="scenario", columns="status", values="runs", aggfunc="sum", fill_value=0)
    table.plot.barh(stacked=True, ax=ax, colormap="tab10")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("runs")
    ax.legend(fontsize=8)


def _curves_panel(ax: Any, df: Any, name: str, ylabel: str) -> None:
    title = QUERIES[name].title
    if df.empty:
        return _empty(ax, title)
    for label, run in df.groupby("metric", sort=False):
        ax.plot(run["step"], run["value"], marker=".", label=label)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("agent-steps")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def _throughput_panel(ax: Any, df: Any) -> None:
    title = QUERIES["throughput"].title
    if df.empty:
        return _empty(ax, title)
    for scenario, runs in df.groupby("metric"):
        ax.scatter(runs["time"], runs["value"], label=scenario)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("agent-steps/s")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    ax.grid(alpha=0.3)


def _evaluation_panel(ax: Any, df: Any, name: str, metric: str, reference: str, line: bool = True) -> None:
    """Bars of the latest evaluation's per-field ``metric`` per scenario and policy (mean, min-max);
    the line at 1 (drawn where ``line``) is ``reference``."""
    title = QUERIES[name].title
    if df.empty:
        return _empty(ax, title)
    labels = [f"{row.scenario}: {row.policy}" for row in df.itertuples()]
    colours = ["tab:blue" if p == "ppo" else "tab:grey" for p in df["policy"]]
    mean, low, high = df[f"mean_{metric}"], df[f"min_{metric}"], df[f"max_{metric}"]
    ax.barh(labels, mean, xerr=[mean - low, high - mean], color=colours, capsize=3)
    if line:
        ax.axvline(1.0, color="black", linewidth=0.8)
    # random's ratios (10-60x) would squeeze the bars that matter: those past VIEW_LIMIT are cut there
    # and labelled with their mean
    right = min(float(high.max()), VIEW_LIMIT) * 1.05
    ax.set_xlim(0, right)
    for y, value in enumerate(mean):
        if value > right:
            ax.annotate(f"{value:.3g} ->", (right, y), ha="right", va="center", fontsize=8, color="white")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{reference} (mean, min-max over fields); blue = trained policy")
    ax.tick_params(axis="y", labelsize=8)


def _promotions_panel(ax: Any, df: Any) -> None:
    title = QUERIES["promotions"].title
    if df.empty:
        return _empty(ax, title)
    import pandas as pd

    for row in df.itertuples():
        colour, marker = DECISION_STYLE.get(str(row.decision).lower(), ("tab:orange", "o"))
        # a first champion has no comparison: drawn on the zero line
        y = 0.0 if pd.isna(row.mean_difference) else float(row.mean_difference)
        if not (pd.isna(row.ci_low) or pd.isna(row.ci_high)):
            ax.errorbar([row.time], [y], yerr=[[max(0.0, y - row.ci_low)], [max(0.0, row.ci_high - y)]],
                        fmt=marker, color=colour, capsize=3, markersize=8)
        else:
            ax.plot([row.time], [y], marker, color=colour, markersize=10)
        ax.annotate(f"{row.scenario} v{row.candidate_version or '?'}: {row.decision}", (row.time, y),
                    fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("candidate - champion (95% CI)")
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    ax.grid(alpha=0.3)


def _figure(panels: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(5, 2, figsize=(16, 24))
    _status_panel(axes[0][0], panels["run_status"])
    _throughput_panel(axes[0][1], panels["throughput"])
    _curves_panel(axes[1][0], panels["reward_curves"], "reward_curves", "mean episode reward")
    _curves_panel(axes[1][1], panels["coverage_curves"], "coverage_curves", "coverage")
    _evaluation_panel(axes[2][0], panels["evaluation_vs_baselines"], "evaluation_vs_baselines", "time_ratio",
                      "time ratio to the best heuristic")
    _evaluation_panel(axes[2][1], panels["evaluation_vs_lower_bound"], "evaluation_vs_lower_bound",
                      "time_ratio_lb", "time ratio to the lower bound")
    _evaluation_panel(axes[3][0], panels["evaluation_idle_share"], "evaluation_idle_share", "idle_share",
                      "share of drone-steps that sensed nothing", line=False)
    axes[3][1].remove()
    gs = axes[4][0].get_gridspec()  # the promotion history spans the last row
    for ax in axes[4]:
        ax.remove()
    promotions = fig.add_subplot(gs[4, :])
    _promotions_panel(promotions, panels["promotions"])
    for ax in (axes[0][1], promotions):  # time axes: short, unambiguous date labels
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.suptitle(f"SwarmOps training - {len(panels['runs'])} recent runs, "
                 f"{len(panels['promotions'])} gate decisions", fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _html(panels: dict[str, Any], source: str) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>SwarmOps training dashboard</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}</style></head><body>",
        "<h1>SwarmOps training dashboard</h1>",
        f"<p>Run ledger {html.escape(source)}, rendered {now}.</p>",
        f"<img src='{PNG_NAME}' alt='training dashboard'>",
    ]
    for name in ("runs", "evaluation_vs_baselines", "evaluation_vs_lower_bound", "evaluation_idle_share",
                 "promotions"):
        df = panels[name]
        parts.append(f"<h2>{html.escape(QUERIES[name].title)}</h2>")
        parts.append(df.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}") if not df.empty
                     else "<p>no data yet</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_training_dashboard(db_url: str, out_dir: Path) -> Path:
    """Render the training dashboard of the ledger at ``db_url`` into ``out_dir``.

    Writes training_dashboard.png and training_dashboard.html (which shows the PNG and the runs,
    evaluation and promotion tables) and returns the HTML path. Both files are replaced atomically;
    on a bad URL or a database without a ledger nothing is written (LedgerError).
    """
    from training.ledger import redact

    panels = fetch_panels(db_url)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = _figure(panels)
    try:
        _atomic_write(out_dir / PNG_NAME, lambda p: fig.savefig(p, dpi=90, format="png"))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    html_path = out_dir / HTML_NAME
    _atomic_write(html_path, lambda p: p.write_text(_html(panels, redact(db_url))))
    return html_path
