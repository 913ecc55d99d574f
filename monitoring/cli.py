"""`swarmops monitoring ...`: regenerate or verify the Grafana dashboards and check the alert rules."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import typer

from swarmops.cliutils import fail

RULES_DIR = Path(__file__).parent / "rules"


def register(app: typer.Typer) -> None:
    """Add the `monitoring` command group to the `swarmops` app."""
    group = typer.Typer(help="Prometheus rules, Alertmanager routing and Grafana dashboards.",
                        no_args_is_help=True)
    app.add_typer(group, name="monitoring")

    @group.command()
    def dashboards(check: bool = typer.Option(
            False, "--check", help="only verify that monitoring/dashboards is up to date")) -> None:
        """Write monitoring/dashboards/*.json from monitoring/grafana.py (or check them with --check)."""
        from monitoring import grafana

        stale = [name for name, build in grafana.DASHBOARDS.items()
                 if not (grafana.DASHBOARD_DIR / name).is_file()
                 or (grafana.DASHBOARD_DIR / name).read_text() != grafana.render_json(build)]
        if check:
            if stale:
                fail(f"stale dashboards {', '.join(stale)}: run `swarmops monitoring dashboards`")
            typer.echo(f"dashboards up to date: {', '.join(grafana.DASHBOARDS)}")
            return
        for path in grafana.write_dashboards():
            typer.echo(f"wrote {path}")

    @group.command("check-rules")
    def check_rules() -> None:
        """promtool: check the alert/recording rules and run their unit tests."""
        if shutil.which("promtool") is None:
            fail("promtool not found on PATH (Debian package prometheus; run `make bootstrap`)")
        rules = sorted(str(p) for p in RULES_DIR.glob("*.yml"))
        tests = sorted(p.name for p in (RULES_DIR / "tests").glob("*.test.yml"))
        for cmd, cwd in ((["promtool", "check", "rules", *rules], None),
                         (["promtool", "test", "rules", *tests], RULES_DIR / "tests")):
            result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
            if result.returncode != 0:
                typer.echo(result.stdout + result.stderr, err=True)
                fail(f"{' '.join(cmd[:3])} failed")
        typer.echo(f"rules ok: {len(rules)} rule files, {len(tests)} unit-test files pass")
