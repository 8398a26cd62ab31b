"""Running the playbook for a clinic: chapters executed by papermill, then kpis.json and the report.

Speed: a kernel that imports pandas, seaborn and statsmodels costs seconds, so a clinic's chapters
share one kernel (papermill hands our kernel manager to nbclient, which then leaves it running), the
namespace reset between chapters. The kernel warms its imports while this process checks the input.

Safety: the input is checked before any chapter runs (exit 2 with every problem listed); a failing
chapter stops the run, its executed notebook is saved beside the ones that ran before it, and
nothing an earlier run produced is deleted.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# jsonschema, imported by nbformat, builds rfc3987-syntax's URI grammar at import (1.4 s here) for
# format checks nbformat never makes; blocking that optional import keeps every run 1.4 s faster.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
import papermill  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402

from . import report  # noqa: E402
from .clinic import load_clinic  # noqa: E402
from .config import METRICS_MIMETYPE, NOTEBOOKS_DIR, read_config  # noqa: E402
from .errors import ChapterError, PlaybookError, ReportBuildError  # noqa: E402
from .results import deep_merge  # noqa: E402

KERNEL_NAME = "python3"
# While this process checks the input, the kernel imports the stack and loads the clinic into its
# in-memory cache, so the first chapter starts warm.
WARM_UP = ("import pandas, seaborn, statsmodels.api, playbook.kpis, playbook.chapter\n"
           "playbook.load_clinic({folder!r}, strict=False)")
RESET = "get_ipython().run_line_magic('reset', '-f')\nimport matplotlib.pyplot as _plt; _plt.close('all'); del _plt"


class InputErrors(PlaybookError):
    """Every problem found in a clinic's input, reported together before anything runs."""

    def __init__(self, folder: Path, problems: list[PlaybookError]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the input of {folder}:\n" +
                         "\n".join(f"- {p}" for p in problems))


@dataclass
class ClinicRun:
    """What a run produced, and how long each stage took (seconds)."""

    clinic_id: str
    out_dir: Path
    notebooks: list[Path] = field(default_factory=list)
    kpis: Path | None = None
    html: Path | None = None
    pdf: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: PlaybookError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def chapters(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The chapter notebooks, in method order (their NN- prefix)."""
    return sorted(p for p in Path(notebooks_dir).glob("[0-9][0-9]-*.ipynb"))


def collect_metrics(notebook: nbformat.NotebookNode) -> dict:
    """The metrics a chapter published (playbook.chapter.publish), merged in order."""
    merged: dict = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(METRICS_MIMETYPE)
            if data:
                deep_merge(merged, data)
    return merged


class _SharedKernel:
    """One kernel for all chapters of a clinic, started early so its imports warm up in parallel."""

    def __init__(self, folder: Path):
        env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.km = KernelManager(kernel_name=KERNEL_NAME)
        # The kernel listens on loopback only; its log level hides the notice about unencrypted TCP.
        self.km.start_kernel(cwd=str(folder), env=env,
                             extra_arguments=["--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR"])
        self._execute(WARM_UP.format(folder=str(folder)), wait=False)

    def _execute(self, code: str, *, wait: bool) -> None:
        # A fresh client each time: nbclient's own client has used the kernel in between.
        client = self.km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            if wait:
                client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
            else:
                client.execute(code)
        finally:
            client.stop_channels()

    def reset(self) -> None:
        """Give the next chapter a clean namespace; imported modules (and the loaded clinic) stay warm."""
        self._execute(RESET, wait=True)

    def shutdown(self) -> None:
        self.km.shutdown_kernel(now=True)
        self.km.cleanup_resources()


def run_clinic(folder: Path | str, out_root: Path | str, *, notebooks: list[Path] | None = None) -> ClinicRun:
    """Run every chapter for one clinic and write ``out_root/<clinic_id>/``.

    Writes the executed notebooks, ``kpis.json``, ``report.html`` and ``report.pdf``. Input problems
    raise `InputErrors` before anything runs; a failing chapter is returned as ``run.error`` (a
    `ChapterError`) with the chapters before it kept.
    """
    folder = Path(folder).resolve()
    config = read_config(folder)
    out_dir = Path(out_root).resolve() / config.clinic_id
    run = ClinicRun(config.clinic_id, out_dir)
    started = time.perf_counter()
    kernel = _SharedKernel(folder)
    try:
        clinic = load_clinic(folder, strict=False)
        problems = _input_problems(clinic)
        if problems:
            raise InputErrors(folder, problems)
        run.timings["check_input"] = time.perf_counter() - started
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics = _run_chapters(run, kernel, notebooks or chapters(), folder, config.lang)
    finally:
        kernel.shutdown()
    run.kpis = _write_kpis(out_dir, config, metrics, complete=run.ok)
    if run.ok:
        _build_report(run, config)
    run.timings["total"] = time.perf_counter() - started
    return run


def _input_problems(clinic) -> list[PlaybookError]:
    try:
        clinic.raise_for_errors()
    except PlaybookError as first:
        return list(dict.fromkeys([first, *clinic.errors]))
    return []


def _run_chapters(run: ClinicRun, kernel: _SharedKernel, notebooks: list[Path], folder: Path, lang: str) -> dict:
    metrics: dict = {}
    for index, notebook in enumerate(notebooks):
        output = run.out_dir / notebook.name
        tick = time.perf_counter()
        if index:
            kernel.reset()
        try:
            executed = papermill.execute_notebook(
                notebook, output, parameters={"clinic_dir": str(folder), "lang": lang},
                kernel_name=KERNEL_NAME, km=kernel.km, progress_bar=False, request_save_on_cell_execute=False,
                cwd=None)
        except papermill.PapermillExecutionError as exc:
            run.notebooks.append(output)
            run.error = ChapterError(notebook.stem, f"{exc.ename}: {_first_line(exc.evalue)}", output)
            break
        except (DeadKernelError, CellTimeoutError) as exc:  # the kernel died (memory?) or a cell hung
            run.error = ChapterError(notebook.stem, f"{type(exc).__name__}: {_first_line(str(exc))}",
                                     output if output.exists() else None)
            break
        run.timings[notebook.stem] = time.perf_counter() - tick
        run.notebooks.append(output)
        deep_merge(metrics, collect_metrics(executed))
    return metrics


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def _write_kpis(out_dir: Path, config, metrics: dict, *, complete: bool) -> Path:
    payload = {"clinic_id": config.clinic_id,
               "period": {"start": config.period.start.isoformat(), "end": config.period.end.isoformat()},
               "kpis": {}, "channels": {}}
    deep_merge(payload, metrics)
    payload["complete"] = complete
    path = out_dir / "kpis.json"
    _write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n")
    return path


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _build_report(run: ClinicRun, config) -> None:
    meta = report.ReportMeta(clinic_id=config.clinic_id, clinic_name=config.name, period_start=config.period.start,
                             period_end=config.period.end, lang=config.lang, consultant=config.consultant)
    tick = time.perf_counter()
    run.html = report.build_html(run.notebooks, run.out_dir, meta)
    run.timings["report_html"] = time.perf_counter() - tick
    tick = time.perf_counter()
    try:
        run.pdf = report.build_pdf(run.notebooks, run.out_dir, meta)
    except ReportBuildError as exc:
        run.error = exc  # report.html is there already
    run.timings["report_pdf"] = time.perf_counter() - tick


def prepare_workbench(folder: Path | str, out_root: Path | str) -> Path:
    """The chapters, parameterised for this clinic, in ``out_root/<clinic_id>/workbench/`` for JupyterLab.

    The same notebooks the batch run executes, with the clinic's parameters injected (papermill's
    prepare-only mode). A notebook already there is the consultant's work and is never overwritten.
    """
    folder = Path(folder).resolve()
    config = read_config(folder)
    bench = Path(out_root).resolve() / config.clinic_id / "workbench"
    bench.mkdir(parents=True, exist_ok=True)
    for notebook in chapters():
        target = bench / notebook.name
        if not target.exists():
            papermill.execute_notebook(notebook, target, parameters={"clinic_dir": str(folder), "lang": config.lang},
                                       prepare_only=True, progress_bar=False)
    return bench
