"""The `playbook` command: a thin layer over the library API that notebooks and tests call too.

Exit status: 0 done; 2 the input or configuration needs fixing (the message says where and how);
1 a chapter or the report failed (the message names the chapter and the saved notebook).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from .errors import PlaybookError

# Each command imports the modules it runs (the runner 1.2 s, evaluate 1.3 s, the plotting stack 1.2 s):
# `playbook --help` and `playbook breakeven` answer in half a second.
DEFAULT_OUT = Path("reports")


def _fail(error: PlaybookError) -> None:
    click.secho(f"error: {error}", fg="red", err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clinic-playbook")
def main() -> None:
    """Diagnose, prescribe, execute and evaluate a dental clinic from its own data exports."""


@main.command()
@click.argument("clinic_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--id", "clinic_id", help="Folder-safe clinic id (default: the folder's name).")
@click.option("--name", help="The clinic's name as the report prints it.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="Analysis period start (default: 12 months ago).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Analysis period end (default: end of last month).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def new(clinic_dir: Path, clinic_id, name, start, end, lang) -> None:
    """Create CLINIC_DIR with clinic.yaml and Excel intake templates (Chinese headers)."""
    from .scaffold import new_clinic

    try:
        written = new_clinic(clinic_dir, clinic_id=clinic_id, name=name, lang=lang,
                             start=start and start.date(), end=end and end.date())
    except PlaybookError as error:
        _fail(error)
    click.echo(f"created {clinic_dir}:")
    for path in written:
        click.echo(f"  {path}")
    click.echo("next: edit clinic.yaml, replace the templates with the clinic's exports, then "
               f"`playbook audit {clinic_dir}`")


@main.command()
@click.argument("clinic_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def audit(clinic_dir: Path) -> None:
    """The intake data audit: tables, headers, rows, problems, what can be analysed. Exit 2 if unusable."""
    from .audit import audit as run_audit

    try:
        result = run_audit(clinic_dir)
    except PlaybookError as error:
        _fail(error)
    click.echo(result.as_text())
    sys.exit(0 if result.usable else 2)


@main.command()
@click.argument("clinic_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True, help="Where each clinic's folder of results is written.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1),
              help="Clinics run at once, each in its own process.")
@click.option("--force", is_flag=True, help="Run every clinic, even one unchanged since its last good run.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: processes on this machine; dask: the workers of an existing Dask cluster.")
@click.option("--scheduler", help="The Dask scheduler's address for --executor dask, e.g. tcp://10.0.0.5:8786.")
@click.option("--course", is_flag=True,
              help="Also run the exercises, solutions and trainer lessons (for the course site; never in the report).")
def run(clinic_dirs: tuple[Path, ...], out_dir: Path, jobs: int, force: bool, executor: str, scheduler,
        course: bool) -> None:
    """Run every chapter for each clinic: executed notebooks, kpis.json, report.html and report.pdf.

    CLINIC_DIRS are clinic folders, or folders of clinic folders. A clinic whose inputs, clinic.yaml
    and playbook are unchanged since its last good run is skipped (--force runs it). One clinic
    failing never stops the others; the summary says why, and the exit status is then 1 or 2.
    """
    from . import batch

    if scheduler and executor != "dask":
        raise click.UsageError("--scheduler goes with --executor dask")
    if executor == "dask" and not scheduler:
        raise click.UsageError("--executor dask needs --scheduler ADDRESS (the address `dask scheduler` prints)")
    try:
        results = batch.run_clinics(clinic_dirs, out_dir, jobs=jobs, force=force, executor=executor,
                                    scheduler=scheduler, course=course)
    except PlaybookError as error:
        _fail(error)
    for result in results:
        if result.failed and result.detail:
            click.secho(f"error: {result.label}: {result.detail}", fg="red", err=True)
    click.echo(batch.format_summary(results))
    sys.exit(batch.exit_status(results))


@main.command("portfolio")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def portfolio_command(out_dir: Path, lang: str) -> None:
    """Benchmark the clinics `playbook run` finished in OUT_DIR: portfolio.pdf, .html, .xlsx and .json there."""
    from .portfolio import build_portfolio

    try:
        files = build_portfolio(out_dir, lang=lang)
    except PlaybookError as error:
        _fail(error)
    for label, path in (("pdf", files.pdf), ("html", files.html), ("xlsx", files.xlsx), ("json", files.json),
                        ("notebook", files.notebook)):
        click.echo(f"{label}: {path}")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("clinic_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True)
@click.option("--prepare-only", is_flag=True, help="Write the notebooks but do not start JupyterLab.")
@click.option("--student/--trainer", default=False, show_default=True,
              help="--student: the solutions left out (OUT/<clinic_id>/workbench-student/); --trainer: every cell "
                   "(OUT/<clinic_id>/workbench/).")
@click.option("--reset", "reset", multiple=True, metavar="CHAPTER",
              help="Write CHAPTER (03, 03-funnel-channels or all) again; the old copy goes to .reset/. Repeatable.")
@click.option("--port", type=click.IntRange(1, 65535), help="The port JupyterLab listens on (default: Jupyter's, 8888).")
@click.option("--ip", help="The address to listen on, e.g. 0.0.0.0 on a classroom server (default: localhost).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser (a server, a container).")
@click.option("--allow-root", is_flag=True, help="Run as root (added with a warning when run as root without it).")
def lab(clinic_dir: Path, jupyter_args: tuple[str, ...], out_dir: Path, prepare_only: bool, student: bool,
        reset: tuple[str, ...], port, ip, no_browser: bool, allow_root: bool) -> None:
    """Open the clinic's chapters in JupyterLab, parameters already pointing at CLINIC_DIR.

    JUPYTER_ARGS after -- go to JupyterLab as they are, e.g. -- --ServerApp.token=abc.
    """
    from .workbench import lab_command, prepare_workbench, running_as_root

    try:
        bench = prepare_workbench(clinic_dir, out_dir, student=student, reset=reset)
    except PlaybookError as error:
        _fail(error)
    click.echo(f"notebooks for {clinic_dir} ({'student: no solutions' if student else 'trainer'}): {bench}")
    if prepare_only:
        return
    if running_as_root() and not allow_root:
        click.secho("warning: running as root, so JupyterLab starts with --allow-root; on a shared server run "
                    "playbook lab as an ordinary user", fg="yellow", err=True)
        allow_root = True
    sys.exit(subprocess.call(lab_command(bench, port=port, ip=ip, browser=not no_browser, allow_root=allow_root,
                                         extra=jupyter_args)))


@main.command()
@click.argument("clinic_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--week", help="ISO week, e.g. 2025-W48 (default: the last full week of the data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True, help="The pack goes to OUT/<clinic_id>/weekly/<week>/.")
@click.option("--board", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The week's task board (default: the one the previous week's pack wrote).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the pack (default: clinic.yaml's).")
def weekly(clinic_dir: Path, week, out_dir: Path, board, lang) -> None:
    """The weekly review pack: three tables and one chart, a workbook and the coming week's task board."""
    from .weekly_pack import build_weekly

    try:
        files = build_weekly(clinic_dir, out_dir, week, board=board, lang=lang)
    except PlaybookError as error:
        _fail(error)
    timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in files.timings.items())
    click.echo(f"{clinic_dir}: {files.week} ({timings})")
    kept = " (kept: the clinic's copy)" if files.board_kept else ""
    for label, path in (("workbook", files.workbook), ("task board", files.board), ("html", files.html),
                        ("pdf", files.pdf)):
        if path:
            click.echo(f"  {label}: {path}{kept if label == 'task board' else ''}")
    for problem in files.problems:
        click.secho(f"warning: {problem}", fg="yellow", err=True)
    if files.error:
        _fail(files.error)
    sys.exit(2 if files.problems else 0)


@main.command()
@click.argument("kind", type=click.Choice(["general", "children"]))
@click.argument("clinic_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=7, show_default=True, help="Same seed, same clinic.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies the patient volume.")
@click.option("--healthy", is_flag=True, help="Generate the clinic without its planted problems.")
@click.option("--overwrite", is_flag=True, help="Replace the files of an existing folder.")
def sample(kind: str, clinic_dir: Path, seed: int, scale: float, healthy: bool, overwrite: bool) -> None:
    """Write a synthetic sample clinic (Chinese exports, as a clinic system writes them)."""
    from .synth import write_sample

    try:
        written = write_sample(kind, clinic_dir, seed=seed, scale=scale, problems=not healthy, overwrite=overwrite)
    except (PlaybookError, FileExistsError) as error:
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)
    click.echo(f"wrote {len(written)} files to {clinic_dir}")


@main.command("evaluate")
@click.argument("series_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--date", "date_col", required=True,
              help="The date column: one row per day, week, month, quarter or year (2025-07-01, 2025年7月, 2025Q3, 2025).")
@click.option("--value", "value_col", required=True, help="The KPI column.")
@click.option("--intervention", required=True, help="The day the intervention started, e.g. 2025-07-01.")
@click.option("--control", "control_cols", multiple=True,
              help="A comparison series column the intervention did not touch; repeat for several. Each gets its "
                   "own weight in the counterfactual.")
@click.option("--unit", "unit_col", help="A long file's unit column (branch, state); every unit but --treated is a control.")
@click.option("--treated", help="The treated unit of --unit.")
@click.option("--effect", type=click.Choice(["step", "slope", "both"]), default="step", show_default=True,
              help="The effect's shape, stated in advance. step: the level changes (the number is that change); "
                   "slope or both: the number is the average gap over the period after.")
@click.option("--model", type=click.Choice(["auto", "trend", "local"]), default="auto", show_default=True,
              help="The counterfactual: segmented regression (trend) or a local level; auto takes local when the "
                   "period after is longer than the one before.")
@click.option("--season/--no-season", default=None,
              help="Season terms: by default whenever the period before covers a full cycle.")
@click.option("--frequency", type=click.Choice(["D", "W", "M", "Q", "A"]), help="Default: inferred from the dates.")
@click.option("--cost", type=float, help="Yuan spent on it, for ROI (with --margin).")
@click.option("--margin", type=float, help="Gross profit per unit of the KPI (a share for revenue), for ROI.")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="1 - the confidence level.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def evaluate_command(series_file: Path, date_col, value_col, intervention, control_cols, unit_col, treated, effect,
                     model, season, frequency, cost, margin, alpha, lang, as_json) -> None:
    """Effect of an intervention on a KPI series against its counterfactual (trend, season, controls), and ROI."""
    from .evaluate import evaluate, read_series

    try:
        result = evaluate(read_series(series_file), date=date_col, value=value_col, intervention=intervention,
                          control=list(control_cols) or None, by=unit_col, treated=treated, effect=effect,
                          model=model, season=season, frequency=frequency, cost=cost, margin=margin, alpha=alpha,
                          path=series_file)
    except PlaybookError as error:
        _fail(error)
    click.echo(result.as_json(lang) if as_json else result.as_text(lang))


@main.command("breakeven")
@click.option("--cards", type=int, required=True, help="Cards sold (or planned), N.")
@click.option("--card-price", type=float, required=True, help="Price a buyer pays for a card, p (yuan).")
@click.option("--seller-share", type=float, required=True, help="Share of the card price kept by its seller, k (0..1).")
@click.option("--redemption", type=float, required=True, help="Share of the cards redeemed, r (0..1).")
@click.option("--delivery-cost", type=float, required=True, help="Cost of serving one redeemed card, c (yuan).")
@click.option("--fixed-cost", type=float, required=True, help="Cost of the campaign whatever it sells, F (yuan).")
@click.option("--margin", type=float, required=True, help="Contribution of one high-value case, m (yuan).")
@click.option("--conversion", type=float, help="Share of redeemed patients buying a high-value case, q (0..1).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def breakeven_command(cards, card_price, seller_share, redemption, delivery_cost, fixed_cost, margin, conversion,
                      as_json) -> None:
    """Break-even of a loss-leader card campaign [S3]: the conversion it needs, and the cards at a conversion."""
    from .breakeven import Campaign, breakeven

    try:
        result = breakeven(Campaign(cards=cards, card_price=card_price, seller_share=seller_share, redemption=redemption,
                                    delivery_cost=delivery_cost, fixed_cost=fixed_cost, margin=margin),
                           conversion=conversion)
    except PlaybookError as error:
        _fail(error)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) if as_json else result.as_text())

if __name__ == "__main__":
    main()
