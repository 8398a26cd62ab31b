"""The `playbook` command: a thin layer over the library API that notebooks and tests call too.

Exit status: 0 done; 2 the input or configuration needs fixing (the message says where and how);
1 a chapter or the report failed (the message names the chapter and the saved notebook).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from .errors import PlaybookError

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
def run(clinic_dirs: tuple[Path, ...], out_dir: Path) -> None:
    """Run every chapter for each clinic: executed notebooks, kpis.json, report.html and report.pdf."""
    from .runner import run_clinic

    status = 0
    for folder in clinic_dirs:
        click.echo(f"{folder}: running")
        try:
            result = run_clinic(folder, out_dir)
        except PlaybookError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            status = max(status, error.exit_code)
            continue
        timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
        click.echo(f"{folder}: {timings}")
        if result.error:
            click.secho(f"{folder}: {result.error}", fg="red", err=True)
            status = max(status, result.error.exit_code)
        for label, path in (("kpis", result.kpis), ("html", result.html), ("pdf", result.pdf)):
            if path:
                click.echo(f"  {label}: {path}")
    sys.exit(status)


@main.command()
@click.argument("clinic_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True)
@click.option("--prepare-only", is_flag=True, help="Write the notebooks but do not start JupyterLab.")
def lab(clinic_dir: Path, out_dir: Path, prepare_only: bool) -> None:
    """Open the clinic's chapters in JupyterLab, parameters already pointing at CLINIC_DIR."""
    from .runner import prepare_workbench

    try:
        bench = prepare_workbench(clinic_dir, out_dir)
    except PlaybookError as error:
        _fail(error)
    click.echo(f"notebooks for {clinic_dir}: {bench}")
    if not prepare_only:
        sys.exit(subprocess.call([sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={bench}"]))


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


if __name__ == "__main__":
    main()
