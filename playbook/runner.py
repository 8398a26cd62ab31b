"""Running the playbook for a clinic: chapters executed by papermill, then kpis.json and the report.

Speed: a kernel that imports pandas, seaborn and statsmodels costs seconds, so a clinic's chapters
share one kernel (papermill hands our kernel manager to nbclient, which then leaves it running), the
namespace reset between chapters. The kernel warms its imports while this process checks the input.

Safety: the input is checked before any chapter runs (exit 2 with every problem listed); a failing
chapter stops the run, its executed notebook is saved beside the ones that ran before it, and
nothing an earlier run produced is deleted.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

from .nbstack import nbformat, papermill  # before the other Jupyter packages: see playbook.nbstack

from jupyter_client.blocking import BlockingKernelClient  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402

from . import i18n, report  # noqa: E402
from .clinic import load_clinic  # noqa: E402
from .config import COURSE_TAGS, METRICS_MIMETYPE, NOTEBOOKS_DIR, read_config  # noqa: E402
from .errors import ChapterError, PlaybookError, ReportBuildError  # noqa: E402
from .jsonsafe import clean  # noqa: E402
from .results import deep_merge  # noqa: E402

KERNEL_NAME = "python3"
# The cells for students and trainers (exercises, solutions, trainer lessons …): a clinic's run leaves them
# out (the owner's report never shows them); the course site's run (`course=True`) keeps them.
TEACHING_TAGS = frozenset({*COURSE_TAGS, "trainer"})
# The kernel imports the stack and loads the clinic into its in-memory cache, so the first chapter
# starts warm, and says whether the input is usable: this process reads the exports itself only when
# it is not, to list every problem. (It used to read them always: 1.5 s of CPU per clinic, and at 16x
# scale a second copy of the tables in memory.)
WARM_UP = ("import pandas, seaborn, statsmodels.api, playbook.kpis, playbook.chapter\n"
           "try:\n    playbook.load_clinic({folder!r}, strict=True); _input_ok = True\n"
           "except playbook.PlaybookError:\n    _input_ok = False\n"
           "__import__('gc').freeze()")
# %reset runs two full garbage collections, 0.2 s each with the analysis stack loaded; freezing what
# outlives a chapter (modules, the loaded clinic and its diagnosis) leaves them only the chapter's own
# objects to scan (0.004 s). Frozen objects are never collected, and they live as long as the kernel.
RESET = ("get_ipython().run_line_magic('reset', '-f')\nimport matplotlib.pyplot as _plt; _plt.close('all'); del _plt\n"
         "__import__('gc').freeze()")


class InputErrors(PlaybookError):
    """Every problem found in a clinic's input, reported together before anything runs."""

    def __init__(self, folder: Path, problems: list[PlaybookError]):
        self.problems = problems
        super().__init__(f"{i18n.counted(len(problems), 'problem')} in the input of {folder}:\n" +
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


class _ReusedClient(BlockingKernelClient):
    """A kernel client connected once and handed to every chapter.

    nbclient asks the kernel manager for a new client per chapter. Connecting one costs 0.3-0.5 s:
    ZMQ's IOPub subscription joins late and jupyter_client's readiness check polls it 0.2 s at a
    time. With ten chapters and a reset between each, that was 8 s of a 21 s run (profiled).
    """

    _ready = False

    def start_channels(self, *args, **kwargs) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)

    def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self._ready:
            super().wait_for_ready(timeout=timeout)
            self._ready = True


class _ReusedClientKernelManager(KernelManager):
    """Hands out one `_ReusedClient`; nbclient leaves its channels open since it does not own the kernel."""

    _shared_client: _ReusedClient | None = None

    def client(self, **kwargs) -> _ReusedClient:
        if self._shared_client is None:
            self._shared_client = super().client(**kwargs)
        return self._shared_client


class _SharedKernel:
    """One kernel for all chapters of a clinic, started early so its imports warm up in parallel."""

    def __init__(self, folder: Path):
        env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.km = _ReusedClientKernelManager(kernel_name=KERNEL_NAME, client_class=f"{__name__}._ReusedClient")
        # The kernel listens on loopback only; its log level hides the notice about unencrypted TCP.
        self.km.start_kernel(cwd=str(folder), env=env,
                             extra_arguments=["--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR"])
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.client.execute(WARM_UP.format(folder=str(folder)))

    def input_ok(self) -> bool:
        """Whether the clinic the kernel loaded while warming up is usable; waits for the warm-up.

        A kernel that dies meanwhile (out of memory on a huge export) answers False: the caller then
        checks the input itself, and the first chapter reports the dead kernel as usual.
        """
        msg_id = self.client.execute("", silent=True, user_expressions={"ok": "_input_ok"})
        while True:
            try:
                reply = self.client.get_shell_msg(timeout=1)
            except Empty:
                if not self.km.is_alive():
                    return False
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        answer = reply["content"].get("user_expressions", {}).get("ok", {})
        return answer.get("status") == "ok" and answer.get("data", {}).get("text/plain") == "True"

    def reset(self) -> None:
        """Give the next chapter a clean namespace; imported modules (and the loaded clinic) stay warm."""
        self.client.execute_interactive(RESET, timeout=60, output_hook=lambda msg: None)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.km.shutdown_kernel(now=True)
        self.km.cleanup_resources()


def run_clinic(folder: Path | str, out_root: Path | str, *, notebooks: list[Path] | None = None,
               on_stage: Callable[[str], None] | None = None, course: bool = False) -> ClinicRun:
    """Run every chapter for one clinic and write ``out_root/<clinic_id>/``.

    Writes the executed notebooks, ``kpis.json``, ``report.html`` and ``report.pdf``. Input problems
    raise `InputErrors` before anything runs; a failing chapter is returned as ``run.error`` (a
    `ChapterError`) with the chapters before it kept. ``on_stage`` is told each stage as it starts
    ("check_input", each chapter's name, "report"), for progress bars. ``course``: run the course's cells
    too (exercises, solutions, trainer lessons; `TEACHING_TAGS`), which the owner's report never shows: the
    course site's run (`make course`) wants them, a clinic's run does not spend the time.
    """
    on_stage = on_stage or (lambda stage: None)
    folder = Path(folder).resolve()
    config = read_config(folder)
    out_dir = Path(out_root).resolve() / config.clinic_id
    run = ClinicRun(config.clinic_id, out_dir)
    started = time.perf_counter()
    on_stage("check_input")
    kernel = _SharedKernel(folder)
    try:
        problems = [] if kernel.input_ok() else _input_problems(load_clinic(folder, strict=False))
        if problems:
            raise InputErrors(folder, problems)
        run.timings["check_input"] = time.perf_counter() - started
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics = _run_chapters(run, kernel, notebooks or chapters(), folder, config.lang, on_stage, course)
    finally:
        kernel.shutdown()
    run.kpis = _write_kpis(out_dir, config, metrics, complete=run.ok)
    if run.ok:
        on_stage("report")
        _build_report(run, config, metrics.get("period"))
    run.timings["total"] = time.perf_counter() - started
    return run


def _input_problems(clinic) -> list[PlaybookError]:
    try:
        clinic.raise_for_errors()
    except PlaybookError as first:
        return list(dict.fromkeys([first, *clinic.errors]))
    return []


def _run_chapters(run: ClinicRun, kernel: _SharedKernel, notebooks: list[Path], folder: Path, lang: str,
                  on_stage: Callable[[str], None], course: bool) -> dict:
    metrics: dict = {}
    for index, notebook in enumerate(notebooks):
        on_stage(notebook.stem)
        output = run.out_dir / notebook.name
        tick = time.perf_counter()
        if index:
            kernel.reset()
        try:
            executed = papermill.execute_notebook(
                notebook if course else _without_course(notebook), output, parameters={"clinic_dir": str(folder), "lang": lang},
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


def _without_course(notebook: Path) -> nbformat.NotebookNode:
    """The chapter without the cells for students and trainers: what a clinic's run executes."""
    chapter = nbformat.read(notebook, as_version=4)
    chapter.cells = [cell for cell in chapter.cells if not TEACHING_TAGS & set(cell.metadata.get("tags", ()))]
    return chapter


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def _write_kpis(out_dir: Path, config, metrics: dict, *, complete: bool) -> Path:
    payload = {"clinic_id": config.clinic_id, "clinic_name": config.name,  # the portfolio labels clinics by name
               "period": {"start": config.period.start.isoformat(), "end": config.period.end.isoformat()},
               "kpis": {}, "channels": {},
               # what can move a headline KPI (playbook.health): the audit chapter publishes the entries
               "data_health": []}
    deep_merge(payload, metrics)
    payload["complete"] = complete
    path = out_dir / "kpis.json"
    # Strict JSON (docs/kpis.schema.json): other tools read it, and NaN or Infinity is not JSON.
    text = json.dumps(clean(payload), ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False)
    _write_atomically(path, text + "\n")
    return path


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _build_report(run: ClinicRun, config, period: dict | None = None) -> None:
    # The period the KPIs cover: clinic.yaml's, or the audit's when it was trimmed to the data (issue 13).
    start, end = ((dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])) if period
                  else (config.period.start, config.period.end))
    meta = report.ReportMeta(clinic_id=config.clinic_id, clinic_name=config.name, period_start=start,
                             period_end=end, lang=config.lang, consultant=config.consultant,
                             generated=config.report_day)
    tick = time.perf_counter()
    run.html = report.build_html(run.notebooks, run.out_dir, meta)
    run.timings["report_html"] = time.perf_counter() - tick
    tick = time.perf_counter()
    try:
        run.pdf = report.build_pdf(run.notebooks, run.out_dir, meta)
    except ReportBuildError as exc:
        run.error = exc  # report.html is there already
    run.timings["report_pdf"] = time.perf_counter() - tick
