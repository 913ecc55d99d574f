"""The end of a study: the best trial as a profile YAML and a report with Optuna's plots.

The profile is the base profile (its full budget, its scenario section merged) with the best
trial's values, so `swarmops train --profile runs/tune/<study>/best_profile.yaml` trains it for
real. Plots come from optuna.visualization.matplotlib (PNG); when plotly is installed the same
plots are also written as interactive HTML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.tune import OBJECTIVE_DIRECTION, OBJECTIVE_NAME, TuneError, TuneRequest, _finished, open_study

PLOTS = (
    ("optimization_history", "optimisation history"),
    ("param_importances", "parameter importances"),
    ("parallel_coordinate", "parallel coordinates"),
)


def best_values(req: TuneRequest, study: Any) -> dict[str, Any]:
    """The best trial's parameters as profile values (categorical choices mapped back from text)."""
    from training.tune_space import CategoricalParam

    values: dict[str, Any] = {}
    for key, raw in study.best_trial.params.items():
        p = req.space.params.get(key)
        if isinstance(p, CategoricalParam):
            raw = p.choices[[str(c) for c in p.choices].index(raw)]
        values[key] = raw
    return values


def export_best_profile(req: TuneRequest, study: Any, out: Path) -> Path:
    """Write the best trial's profile (base budget, tuned values) to ``out``; returns its path."""
    from training.config import dump_profile
    from training.tune_space import trial_profile

    profile = trial_profile(req.profile, req.scenario, best_values(req, study))
    profile = profile.model_copy(update={
        "name": f"tuned-{req.study_name}"[:24],
        "description": f"{req.study_name} trial {study.best_trial.number}: {OBJECTIVE_NAME} "
                       f"{study.best_value:.4f} ({OBJECTIVE_DIRECTION}) on the trial budget",
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(f"# exported by swarmops tune from study {req.study_name}\n" + dump_profile(profile))
    tmp.replace(out)
    return out


def _plots(study: Any, out_dir: Path) -> list[str]:
    """PNG (matplotlib) and, when plotly is there, HTML versions of Optuna's plots; returns file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization as vis
    import optuna.visualization.matplotlib as vis_mpl

    import warnings

    warnings.filterwarnings("ignore", category=UserWarning, module="optuna")  # few-trial notices
    warnings.filterwarnings("ignore", message=".*identical low and high ylims.*")
    written: list[str] = []
    for name, _title in PLOTS:
        try:
            ax = getattr(vis_mpl, f"plot_{name}")(study)
        except (ValueError, RuntimeError) as exc:  # e.g. importances need 2+ complete trials
            (out_dir / f"{name}.txt").write_text(f"not drawn: {exc}\n")
            continue
        fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        fig.set_size_inches(13 if name == "parallel_coordinate" else 8, 5)  # one axis per parameter
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.png", dpi=90)
        plt.close(fig)
        written.append(f"{name}.png")
        if vis.is_available():  # plotly installed: the interactive version too
            getattr(vis, f"plot_{name}")(study).write_html(out_dir / f"{name}.html", include_plotlyjs="cdn")
            written.append(f"{name}.html")
    return written


def write_report(req: TuneRequest) -> Path:
    """report.md + plots + best_profile.yaml + trials.json under ``req.out_dir``; returns report.md."""
    study = open_study(req)
    done, running, failed = _finished(study)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if not complete:
        raise TuneError(f"study {req.study_name} has no complete trial yet: nothing to export")
    out = req.out_dir
    out.mkdir(parents=True, exist_ok=True)
    profile_path = export_best_profile(req, study, out / "best_profile.yaml")
    plots = _plots(study, out)
    trials = [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
         "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
         "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
         if t.datetime_complete and t.datetime_start else None}
        for t in study.trials
    ]
    (out / "trials.json").write_text(json.dumps(trials, indent=1) + "\n")
    best = study.best_trial
    lines = [
        f"# Study {req.study_name}",
        "",
        f"Scenario **{req.scenario}**, base profile `{req.profile}`, search space `{req.space.name}`, "
        f"objective **{OBJECTIVE_NAME}** ({OBJECTIVE_DIRECTION}), trial budget "
        f"{req.space.trial.total_timesteps:,} agent-steps, pruner {req.space.pruner}.",
        "",
        f"- trials: {done} finished ({len(complete)} complete, {done - len(complete)} pruned), "
        f"{failed} failed, {running} running",
        f"- best: trial {best.number}, {OBJECTIVE_NAME} **{best.value:.4f}**",
        f"- best profile: `{profile_path}` (train it: `swarmops train --scenario {req.scenario} "
        f"--profile {profile_path}`)",
        "",
        "| parameter | best value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in best_values(req, study).items()],
        "",
        *[f"![{title}]({name}.png)" for name, title in PLOTS if f"{name}.png" in plots],
        "",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    (out / "report.html").write_text(_html(req.study_name, lines, plots))
    return report


def _html(title: str, lines: list[str], plots: list[str]) -> str:
    """A self-contained page: the report's lines and the plots (PNG, or plotly HTML when present)."""
    import html

    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line and not line.startswith("!["))
    figs = "".join(
        f'<iframe src="{p}" width="900" height="560"></iframe>' if p.endswith(".html")
        else f'<p><img src="{p}" alt="{p}"></p>'
        for p in plots
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>" \
           f"<body><h1>Study {html.escape(title)}</h1>{body}{figs}</body></html>\n"
