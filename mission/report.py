"""The mission report: one JSON document, its Markdown rendering, figures and a GIF per phase.

Everything is written into a temporary folder next to the target and renamed into place at the
end, so a failed run never leaves a half-written report behind.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

# (key in the phase metrics, label, format) per phase: what the comparison table shows.
PHASE_ROWS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "recon": (("coverage", "coverage", "pct"), ("steps", "steps", "int"), ("wall_s", "time (s)", "sec"),
              ("plants_found", "plants found", "int"), ("energy", "energy", "int"),
              ("collisions", "collisions", "int"), ("battery_depletions", "battery depletions", "int")),
    "watering": (("plants_total", "plants on the map", "int"), ("plants_watered", "plants watered", "int"),
                 ("coverage", "coverage", "pct"), ("steps", "steps", "int"), ("wall_s", "time (s)", "sec"),
                 ("water_used", "water used", "int"), ("water_wasted", "water wasted", "int"),
                 ("energy", "energy", "int"), ("collisions", "collisions", "int"),
                 ("battery_depletions", "battery depletions", "int")),
}
MISSION_ROWS = (("plants_total", "plants in the field", "int"), ("plants_found", "plants found", "int"),
                ("plants_watered", "plants watered", "int"),
                ("plants_missed", "plants missed by recon", "int"),
                ("plants_unwatered", "found but not watered", "int"), ("steps", "steps (both phases)", "int"),
                ("wall_s", "time (s)", "sec"), ("water_used", "water used", "int"),
                ("water_wasted", "water wasted", "int"), ("energy", "energy", "int"),
                ("collisions", "collisions", "int"))


def fmt(value: Any, kind: str) -> str | None:
    """One table cell."""
    if value is None:
        return None
    if kind == "pct":
        return f"{100 * float(value):.1f}%"
    if kind == "sec":
        return f"{float(value):.2f}"
    return str(int(value))


def comparison_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (phase, metric, policy, heuristic) of every phase and, for a mission, the whole mission."""
    rows = []
    for phase, data in report["phases"].items():
        for key, label, kind in PHASE_ROWS[phase]:
            rows.append({"phase": phase, "metric": label, "policy": fmt(data["policy"].get(key), kind),
                         "heuristic": fmt(data["heuristic"].get(key), kind)})
    if report.get("mission"):
        for key, label, kind in MISSION_ROWS:
            rows.append({"phase": "mission", "metric": label,
                         "policy": fmt(report["mission"]["policy"].get(key), kind),
                         "heuristic": fmt(report["mission"]["heuristic"].get(key), kind)})
    return rows


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (what the README excerpt and the web page's report.md show)."""
    s, f = report["settings"], report["field"]
    lines = [f"# SwarmOps {s['mode']} report", "",
             f"Field {f['width']}x{f['height']} (seed {s['seed']}, obstacle density {s['obstacles']}: "
             f"{f['obstacle_cells']} obstacle cells, {f['free_cells']} free), {s['drones']} drones, "
             f"{f['plants_total']} plants.", ""]
    lines += ["| phase | policy | heuristic (same field) |", "|---|---|---|"]
    for phase, data in report["policies"].items():
        lines.append(f"| {phase} | {data['policy']} | {data['heuristic']} |")
    if report["warnings"]:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in report["warnings"]]
    lines += ["", "| phase | metric | policy | heuristic |", "|---|---|---:|---:|"]
    for row in comparison_rows(report):
        cells = [row["phase"], row["metric"], row["policy"] or "-", row["heuristic"] or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    media = [f"![{phase}]({name})" for phase, name in report.get("gifs", {}).items()]
    media += [f"![{name}]({file})" for name, file in report.get("figures", {}).items()]
    if media:
        lines += ["", "Left: policy, right: heuristic.", ""] + media
    return "\n".join(lines) + "\n"


def curves_figure(tracks: Iterable[Any]) -> bytes:
    """PNG: per phase, the progress curve of the policy and of the heuristic (coverage or water)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_phase: dict[str, list[Any]] = {}
    for t in tracks:
        by_phase.setdefault(t.phase, []).append(t)
    fig, axes = plt.subplots(1, len(by_phase), figsize=(5.2 * len(by_phase), 3.4), squeeze=False)
    for ax, (phase, group) in zip(axes[0], by_phase.items()):
        for t in group:
            steps = [s["step"] for s in t.status]
            if phase == "recon":
                ys = [s["coverage"] for s in t.status]
            else:
                need = max(t.metrics.get("water_need", 0), 1)
                ys = [s["water"] / need for s in t.status]
            ax.plot(steps, ys, label=f"{t.role}: {t.label}", linestyle="-" if t.role == "policy" else "--")
        ax.set_title("recon: free cells covered" if phase == "recon" else "watering: water need delivered")
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def write_report(result: Any, out_dir: Path, fps: int = 8) -> Path:
    """Write report.json, report.md, the figures and one side-by-side GIF per phase into ``out_dir``.

    Refuses to overwrite a non-empty folder. Files appear only when all of them were written.
    """
    from mission.replay import side_by_side, write_gif

    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"--out {out_dir} is not an empty folder; allowed: a new or empty folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a report folder is meant to be shared
    try:
        report = dict(result.report)
        tracks = {t.key: t for t in result.tracks}
        report["gifs"] = {}
        for phase in report["phases"]:
            name = f"{phase}.gif"
            frames = side_by_side(tracks[f"{phase}-policy"].frames, tracks[f"{phase}-heuristic"].frames)
            write_gif(frames, tmp / name, fps=fps)
            report["gifs"][phase] = name
        report["figures"] = {}
        for fig_name, png in result.figures.items():
            (tmp / f"{fig_name}.png").write_bytes(png)
            report["figures"][fig_name] = f"{fig_name}.png"
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (tmp / "report.md").write_text(to_markdown(report))
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
